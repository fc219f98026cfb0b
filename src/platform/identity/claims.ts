import type { HumanName, Organization, Patient, Practitioner, PractitionerRole, RelatedPerson } from '@medplum/fhirtypes';
import type { AssuranceLevel } from '../access/principal.ts';
import type { FhirRepository } from '../fhir/repo.ts';
import { IdentifierSystem } from '../identifiers/index.ts';
import { DSD_STAFF_SYSTEM } from '../registers/index.ts';

/**
 * Maps a login (CPR number, authorisation id) to the people in the FHIR data and to the claims
 * our access tokens carry. The data platform is the register: Patient by CPR, RelatedPerson for
 * parental authority and power of attorney, Practitioner and PractitionerRole for staff.
 */

const ROLE_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
/** Parental authority (forældremyndighed) as coded by the population (DK relationship codes). */
const PARENTAL_AUTHORITY = 'PARAUTH';
/** Power of attorney (fuldmagt). */
const POWER_OF_ATTORNEY = 'POWATT';
/** Parents act for their children until the child turns 15. */
const PROXY_AGE_LIMIT = 15;

/** A person the citizen may act for. */
export interface ActingFor {
  readonly patientId: string;
  readonly name: string;
  readonly relation: 'self' | 'child' | 'power-of-attorney';
}

/** A citizen found by CPR number. */
export interface Citizen {
  readonly patientId: string;
  readonly name: string;
  readonly actingFor: readonly ActingFor[];
}

/** One role a professional can log in with. */
export interface RoleChoice {
  readonly roleId: string;
  readonly organizationId: string;
  readonly organizationName: string;
  readonly roleCode: string;
  readonly roleDisplay: string;
}

/** A professional found by authorisation id or staff number. */
export interface Professional {
  readonly practitionerId: string;
  readonly name: string;
  /** The authorisation id, when the person has one (operators log in with a staff number). */
  readonly authorisationId: string | undefined;
  readonly roles: readonly RoleChoice[];
}

/** The login facts kept with a grant; the access token claims are derived from them. */
export type LoginContext =
  | {
      readonly kind: 'citizen';
      readonly patientId: string;
      readonly actingFor: string;
      readonly patients: readonly string[];
      readonly name: string;
      readonly assurance: AssuranceLevel;
    }
  | {
      readonly kind: 'professional';
      readonly practitionerId: string;
      readonly roleId: string;
      readonly organizationId: string;
      readonly role: string;
      readonly authorisationId: string | undefined;
      readonly name: string;
      readonly assurance: AssuranceLevel;
    };

/**
 * The display text of a FHIR name.
 * @param names - the names
 * @returns "Given Family" of the official (or first) name
 */
export function displayName(names: readonly HumanName[] | undefined): string {
  const n = names?.find((x) => x.use === 'official') ?? names?.[0];
  if (n === undefined) {
    return '';
  }
  return n.text ?? [...(n.given ?? []), n.family ?? ''].join(' ').trim();
}

function ageOn(birthDate: string | undefined, today: Date): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate ?? '');
  if (m === null) {
    return undefined;
  }
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = today.getUTCFullYear() - y;
  if (today.getUTCMonth() + 1 < mo || (today.getUTCMonth() + 1 === mo && today.getUTCDate() < d)) {
    age -= 1;
  }
  return age;
}

function idOf(reference: string | undefined, type: string): string | undefined {
  const prefix = `${type}/`;
  return reference?.startsWith(prefix) === true ? reference.slice(prefix.length) : undefined;
}

function hasCode(r: RelatedPerson, code: string): boolean {
  return (r.relationship ?? []).some((c) => (c.coding ?? []).some((x) => x.code === code && (code !== POWER_OF_ATTORNEY || x.system === ROLE_CODE_SYSTEM)));
}

async function searchAll<T>(repo: FhirRepository, type: string, query: [string, string][]): Promise<T[]> {
  const res = await repo.search(type, [...query, ['_count', '100']]);
  return res.matches.map((m) => JSON.parse(m.content) as T);
}

/**
 * Finds the citizen with a CPR number and everyone they may act for: themselves, children under
 * 15 in their parental authority, and people who gave them power of attorney.
 * @param repo - unrestricted repository
 * @param cpr - the CPR number (10 digits)
 * @param today - the date ages are computed on
 * @returns the citizen or undefined when no Patient has the CPR number
 */
export async function findCitizen(repo: FhirRepository, cpr: string, today = new Date()): Promise<Citizen | undefined> {
  const patients = await searchAll<Patient>(repo, 'Patient', [['identifier', `${IdentifierSystem.cpr}|${cpr}`]]);
  const self = patients.find((p) => p.active !== false) ?? patients[0];
  if (self?.id === undefined) {
    return undefined;
  }
  const name = displayName(self.name);
  const actingFor: ActingFor[] = [{ patientId: self.id, name, relation: 'self' }];
  const related = await searchAll<RelatedPerson>(repo, 'RelatedPerson', [['identifier', `${IdentifierSystem.cpr}|${cpr}`]]);
  for (const rp of related) {
    const patientId = idOf(rp.patient.reference, 'Patient');
    if (rp.active === false || patientId === undefined || actingFor.some((a) => a.patientId === patientId)) {
      continue;
    }
    const child = hasCode(rp, PARENTAL_AUTHORITY);
    const attorney = hasCode(rp, POWER_OF_ATTORNEY);
    if (!child && !attorney) {
      continue;
    }
    let other: Patient;
    try {
      other = JSON.parse((await repo.read('Patient', patientId)).content) as Patient;
    } catch {
      continue;
    }
    if (other.active === false) {
      continue;
    }
    const age = ageOn(other.birthDate, today);
    if (attorney) {
      actingFor.push({ patientId, name: displayName(other.name), relation: 'power-of-attorney' });
    } else if (age !== undefined && age < PROXY_AGE_LIMIT) {
      actingFor.push({ patientId, name: displayName(other.name), relation: 'child' });
    }
  }
  return { patientId: self.id, name, actingFor };
}

/**
 * Finds a professional by authorisation id (or, for DSD's own staff, by staff number) with the
 * roles they can log in with.
 * @param repo - unrestricted repository
 * @param identifier - authorisation id (e.g. `5DTXC`) or DSD staff number (e.g. `OPS-0001`)
 * @returns the professional or undefined
 */
export async function findProfessional(repo: FhirRepository, identifier: string): Promise<Professional | undefined> {
  let practitioner: Practitioner | undefined;
  let authorisationId: string | undefined;
  for (const system of [IdentifierSystem.authorization, DSD_STAFF_SYSTEM]) {
    const found = await searchAll<Practitioner>(repo, 'Practitioner', [['identifier', `${system}|${identifier}`]]);
    practitioner = found.find((p) => p.active !== false);
    if (practitioner !== undefined) {
      authorisationId = practitioner.identifier?.find((i) => i.system === IdentifierSystem.authorization)?.value;
      break;
    }
  }
  if (practitioner?.id === undefined) {
    return undefined;
  }
  const roles = await searchAll<PractitionerRole>(repo, 'PractitionerRole', [['practitioner', `Practitioner/${practitioner.id}`]]);
  const choices: RoleChoice[] = [];
  for (const role of roles) {
    const organizationId = idOf(role.organization?.reference, 'Organization');
    if (role.active === false || role.id === undefined || organizationId === undefined) {
      continue;
    }
    let organizationName = role.organization?.display ?? organizationId;
    try {
      organizationName = (JSON.parse((await repo.read('Organization', organizationId)).content) as Organization).name ?? organizationName;
    } catch {
      // A role at an organisation that is gone is still listed under its id.
    }
    const coding = role.code?.[0]?.coding?.[0];
    choices.push({
      roleId: role.id,
      organizationId,
      organizationName,
      roleCode: coding?.code ?? 'unknown',
      roleDisplay: role.code?.[0]?.text ?? coding?.display ?? coding?.code ?? 'Ukendt rolle',
    });
  }
  return { practitionerId: practitioner.id, name: displayName(practitioner.name), authorisationId, roles: choices };
}

/**
 * The claims an access token carries for a login (beyond iss, sub, aud, exp, iat, jti, client_id, scope).
 * @param login - the login facts
 * @returns the claims
 */
export function loginClaims(login: LoginContext): Record<string, unknown> {
  switch (login.kind) {
    case 'citizen':
      return {
        dsd_kind: 'citizen',
        fhirUser: `Patient/${login.patientId}`,
        patient: login.actingFor,
        dsd_patients: login.patients,
        name: login.name,
        dsd_assurance: login.assurance,
      };
    case 'professional':
      return {
        dsd_kind: 'professional',
        fhirUser: `Practitioner/${login.practitionerId}`,
        dsd_practitioner_role: login.roleId,
        dsd_organization: login.organizationId,
        dsd_role: login.role,
        ...(login.authorisationId === undefined ? {} : { dsd_authorisation_id: login.authorisationId }),
        name: login.name,
        dsd_assurance: login.assurance,
      };
    default:
      login satisfies never;
      throw new Error('unknown login kind');
  }
}
