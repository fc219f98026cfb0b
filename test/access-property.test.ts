import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { professionalToken, systemToken } from './auth-support.ts';
import { AUTH_ID, CPR, as, createDemoApp, refsOf } from './access-support.ts';
import type { TestApp } from './support.ts';

/**
 * Property: whatever search a professional without a treatment relation composes (types,
 * parameters, chains, _has, includes, sorting, paging, summaries), nothing of the patient's
 * clinical data comes back, and no count reveals it.
 */

let t: TestApp;
let doctor: string;
/** Louise's clinical resource ids (the doctor has no relation to her). */
let hidden: string[] = [];

const TYPES = ['Observation', 'Condition', 'Encounter', 'MedicationRequest', 'Immunization', 'DiagnosticReport', 'ServiceRequest', 'DocumentReference', 'Consent', 'Patient', 'RelatedPerson', 'QuestionnaireResponse'] as const;

const PARAMS: readonly (readonly [string, string])[] = [
  ['patient', 'Patient/demo-citizen'],
  ['subject', 'Patient/demo-citizen'],
  ['subject:Patient.name', 'Sørensen'],
  ['subject:Patient.identifier', `urn:oid:1.2.208.176.1.2|${CPR.louise}`],
  ['patient.birthdate', '1981-03-14'],
  ['_id', 'demo-citizen'],
  ['_include', '*'],
  ['_revinclude', '*'],
  ['_has:Observation:patient:status', 'final'],
  ['_has:Condition:subject:clinical-status', 'active'],
  ['_sort', '-_lastUpdated'],
  ['_count', '3'],
  ['_total', 'accurate'],
  ['_summary', 'count'],
  ['_elements', 'id,subject'],
  ['_lastUpdated', 'gt2000-01-01'],
  ['_content', 'Sørensen'],
  ['identifier', `urn:oid:1.2.208.176.1.2|${CPR.louise}`],
];

before(async () => {
  t = await createDemoApp();
  const admin = await systemToken(t, 'system/*.rs');
  doctor = await professionalToken(t, AUTH_ID.hospitalDoctor, { scope: 'openid fhirUser user/*.rs' });
  for (const type of TYPES.filter((x) => x !== 'Patient')) {
    const r = await as(t, admin, 'GET', `/fhir/${type}?patient=Patient/demo-citizen&_count=1000&_elements=id`);
    if (r.status === 200) {
      hidden.push(...refsOf(r.body as Bundle));
    }
  }
  hidden = hidden.filter((ref) => !ref.startsWith('Patient/'));
  assert.ok(hidden.length > 50, `the demo citizen has clinical data (${hidden.length})`);
});

after(async () => {
  await t.close();
});

describe('access property: a professional without a relation never receives the patient\'s data', () => {
  it('random searches return none of it and count none of it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TYPES), fc.subarray([...PARAMS], { minLength: 1, maxLength: 4 }), async (type, params) => {
        const qs = params.map(([k, v]) => `${encodeURIComponent(k).replace(/%3A/g, ':')}=${encodeURIComponent(v)}`).join('&');
        const res = await as(t, doctor, 'GET', `/fhir/${type}?${qs}`);
        assert.ok([200, 400].includes(res.status), `${type}?${qs}: ${res.status} ${res.text.slice(0, 200)}`);
        if (res.status !== 200) {
          return;
        }
        const bundle = res.body as Bundle;
        const got = refsOf(bundle).filter((ref) => hidden.includes(ref));
        assert.deepEqual(got, [], `${type}?${qs} returned hidden resources`);
        for (const ref of hidden) {
          assert.ok(!res.text.includes(`"${ref.split('/')[1]!}"`), `${type}?${qs} mentions ${ref}`);
        }
        const aboutLouise = params.some(([k, v]) => (k === 'patient' || k === 'subject' || k.startsWith('subject:') || k === 'identifier' || k.startsWith('patient.')) && v !== '');
        if (aboutLouise && type !== 'Patient' && bundle.total !== undefined) {
          assert.equal(bundle.total, 0, `${type}?${qs} counts hidden resources`);
        }
      }),
      { numRuns: 150 },
    );
  });
});
