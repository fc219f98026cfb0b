import type { Bundle, Resource } from '@medplum/fhirtypes';
import { IdentifierSystem } from '../src/platform/identifiers/index.ts';
import { demoUsers, ensureDemoDataOnStart } from '../src/platform/population/demo.ts';
import { SPAERRING_SYSTEM } from '../src/platform/access/access.store.ts';
import type { TestApp, TestResponse } from './support.ts';
import { createTestApp, sharedValidator } from './support.ts';

/**
 * Access tests' world: the reference data and the three demo citizens (no generated
 * population), and the named demo users (README "Demo users").
 */

export const CPR = {
  louise: demoCpr('Patient/demo-citizen'),
  emil: demoCpr('Patient/demo-child'),
  poul: demoCpr('Patient/demo-copd'),
} as const;

export const AUTH_ID = {
  gp: authId('Practitioner/prac-demo-gp'),
  hospitalDoctor: authId('Practitioner/prac-demo-hospital-doctor'),
  nurse: authId('Practitioner/prac-demo-nurse'),
  lab: authId('Practitioner/prac-demo-lab-technician'),
} as const;

function demoCpr(resource: string): string {
  const u = demoUsers().find((d) => d.resource === resource && d.identifier.system === IdentifierSystem.cpr);
  if (u === undefined) {
    throw new Error(`no demo citizen ${resource}`);
  }
  return u.identifier.value;
}

function authId(resource: string): string {
  const u = demoUsers().find((d) => d.resource === resource);
  if (u === undefined) {
    throw new Error(`no demo user ${resource}`);
  }
  return u.identifier.value;
}

/**
 * A test app with the demo data loaded.
 * @returns the app
 */
export async function createDemoApp(): Promise<TestApp> {
  const t = await createTestApp({ auth: 'none' });
  await ensureDemoDataOnStart(t.db, await sharedValidator(), 'http://localhost/fhir', () => undefined);
  return t;
}

/**
 * Sends a request with a bearer token.
 * @param t - the app
 * @param token - access token, or undefined for none
 * @param method - HTTP method
 * @param url - path and query
 * @param body - JSON body
 * @returns the response
 */
export function as(t: TestApp, token: string | undefined, method: string, url: string, body?: unknown): Promise<TestResponse> {
  return t.request(method, url, body, token === undefined ? {} : { authorization: `Bearer ${token}` });
}

/**
 * A Min Spærring block as the citizen creates it.
 * @param patientId - the citizen
 * @param kind - what is blocked
 * @param target - the blocked professional or unit (`Practitioner/x`, `Organization/y`), or the data period
 * @returns the Consent
 */
export function block(patientId: string, kind: 'person' | 'unit' | 'unit-and-subunits' | 'period', target: string | { start: string; end: string }): Resource {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [
      { coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] },
      { coding: [{ system: SPAERRING_SYSTEM, code: kind }] },
    ],
    patient: { reference: `Patient/${patientId}` },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
    dateTime: new Date().toISOString(),
    provision: {
      type: 'deny',
      ...(typeof target === 'string' ? { actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { reference: target } }] } : { dataPeriod: target }),
    },
  };
}

/**
 * @param b - a Bundle
 * @returns `Type/id` of every entry's resource
 */
export function refsOf(b: Bundle | undefined): string[] {
  return (b?.entry ?? []).map((e) => `${e.resource?.resourceType ?? ''}/${e.resource?.id ?? ''}`);
}
