import { randomUUID } from 'node:crypto';
import type { Consent, Resource, SearchParameter } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import type { AccessOp, Bind } from '../fhir/access.ts';
import { OperationOutcomeError, badRequest, forbidden, notFound } from '../fhir/outcome.ts';
import type { FhirPlatform } from '../fhir/platform.ts';
import { parseSearch } from '../fhir/search/parse.ts';
import { filterPredicate } from '../fhir/search/search.store.ts';
import { findCurrent } from '../fhir/store.ts';
import type { AccessParamIds, BlockKind, BreakGlassRow, ProfessionalParty } from './access.store.ts';
import { SPAERRING_SYSTEM, blocksAffecting, citizenReach, insertBreakGlass, organizationAncestors, organizationName, professionalReach, reachablePatients } from './access.store.ts';
import type { AccessTokenClaims, Principal, SmartScope } from './principal.ts';
import { parseSmartScopes } from './principal.ts';

/**
 * The access policy (ARCHITECTURE.md "Identity and access"): the intersection of the token's
 * SMART scopes, the caller's role, the treatment relation and the citizen's blocks, with
 * værdispring lifting only relation and blocks. Deny wins; nothing granted means nothing seen.
 * The decision is compiled into SQL (access.store.ts) so search, paging, totals, includes,
 * chains and `_has` all see the same rows.
 */

/**
 * Reference and definitional data that every authenticated caller may read (within scopes):
 * who works where, codes, profiles. Any other type without a patient compartment (Bundle,
 * Binary, Group …) is readable by system clients only.
 */
export const SHARED_TYPES: readonly string[] = [
  'Organization', 'Practitioner', 'PractitionerRole', 'Location', 'HealthcareService', 'Endpoint',
  'CodeSystem', 'ValueSet', 'ConceptMap', 'NamingSystem', 'StructureDefinition', 'SearchParameter',
  'OperationDefinition', 'CapabilityStatement', 'CompartmentDefinition', 'ImplementationGuide',
  'Questionnaire', 'PlanDefinition', 'ActivityDefinition', 'Library', 'Measure', 'ObservationDefinition',
  'SpecimenDefinition', 'Medication', 'MedicationKnowledge', 'Substance', 'DeviceDefinition', 'MessageDefinition',
];

/** What a citizen may write (home measurements, questionnaire answers, messages, own blocks). */
const CITIZEN_CREATE = new Set(['Consent', 'Observation', 'QuestionnaireResponse', 'Communication']);
const CITIZEN_CHANGE = new Set(['Consent']);
/** What no professional may write: the citizen's blocks, and the audit trail. */
const PROFESSIONAL_NEVER = new Set(['Consent', 'AuditEvent']);

/** Custom SearchParameter for Consent.provision.dataPeriod (R4 has none; period blocks need it). */
export const CONSENT_DATA_PERIOD: SearchParameter = {
  resourceType: 'SearchParameter',
  id: 'dsd-consent-data-period',
  url: 'https://dsd.dk/fhir/SearchParameter/consent-data-period',
  name: 'data-period',
  status: 'active',
  description: 'The period of the data a consent provision covers (Min Spærring: data from a time period)',
  code: 'data-period',
  base: ['Consent'],
  type: 'date',
  expression: 'Consent.provision.dataPeriod',
};

/** Date parameters that place data in time, per type (for blocks of a period). */
const CLINICAL_DATES: readonly (readonly [string, string])[] = [
  ['Observation', 'date'], ['Encounter', 'date'], ['Condition', 'recorded-date'], ['Condition', 'onset-date'],
  ['Procedure', 'date'], ['DiagnosticReport', 'date'], ['MedicationRequest', 'authoredon'], ['MedicationStatement', 'effective'],
  ['Immunization', 'date'], ['DocumentReference', 'date'], ['Composition', 'date'], ['ServiceRequest', 'authored'],
  ['AllergyIntolerance', 'date'], ['CarePlan', 'date'], ['QuestionnaireResponse', 'authored'], ['Communication', 'sent'],
  ['EpisodeOfCare', 'date'], ['Appointment', 'date'], ['ClinicalImpression', 'date'], ['Flag', 'date'],
];

export interface AccessPolicyOptions {
  /** How long an encounter keeps a treatment relation after it ended (days). */
  readonly relationWindowDays: number;
  /** Longest værdispring (minutes). */
  readonly breakGlassMinutes: number;
}

export const DEFAULT_ACCESS_OPTIONS: AccessPolicyOptions = { relationWindowDays: 180, breakGlassMinutes: 240 };

/** Reasons for værdispring (Samtykkeservice consentoverride). */
export const BREAK_GLASS_REASONS = {
  'citizen-consent': 'Borgeren har givet samtykke',
  'citizen-unreachable': 'Borgeren kan ikke kontaktes (akut behandling)',
} as const;
export type BreakGlassReason = keyof typeof BREAK_GLASS_REASONS;

export class AccessPolicy {
  readonly platform: FhirPlatform;
  readonly options: AccessPolicyOptions;
  readonly ids: AccessParamIds;
  private readonly partOf: number;
  private readonly units = new Map<string, { ancestors: string[]; name: string | undefined; at: number }>();

  private constructor(platform: FhirPlatform, options: AccessPolicyOptions, ids: AccessParamIds, partOf: number) {
    this.platform = platform;
    this.options = options;
    this.ids = ids;
    this.partOf = partOf;
  }

  /**
   * Prepares the policy: registers the Consent data-period parameter and interns the ids the
   * predicates use.
   * @param platform - the FHIR platform
   * @param options - windows and limits
   * @returns the policy
   */
  static async init(platform: FhirPlatform, options: AccessPolicyOptions = DEFAULT_ACCESS_OPTIONS): Promise<AccessPolicy> {
    if (platform.registry.forType('Consent').every((p) => p.code !== 'data-period')) {
      await platform.registerSearchParameters([CONSENT_DATA_PERIOD], 'package');
    }
    const id = (rt: string, code: string): number => platform.paramId(rt, code);
    const dates: number[] = [];
    for (const [rt, code] of CLINICAL_DATES) {
      if (platform.registry.forType(rt).some((p) => p.code === code)) {
        dates.push(id(rt, code));
      }
    }
    const ids: AccessParamIds = {
      listing: [id('Patient', 'general-practitioner')],
      encounter: [id('Encounter', 'service-provider'), id('Encounter', 'participant')],
      encounterDate: id('Encounter', 'date'),
      open: [id('ServiceRequest', 'performer'), id('EpisodeOfCare', 'organization'), id('EpisodeOfCare', 'care-manager'), id('CareTeam', 'participant'), id('Task', 'owner')],
      openStatus: [id('ServiceRequest', 'status'), id('EpisodeOfCare', 'status'), id('CareTeam', 'status'), id('Task', 'status')],
      consentActor: id('Consent', 'actor'),
      consentStatus: id('Consent', 'status'),
      consentCategory: id('Consent', 'category'),
      consentPeriod: id('Consent', 'period'),
      consentDataPeriod: id('Consent', 'data-period'),
      clinicalDates: dates,
    };
    return new AccessPolicy(platform, options, ids, id('Organization', 'partof'));
  }

  /**
   * Builds the principal from verified token claims.
   * @param claims - the access token's claims
   * @returns the principal
   */
  async principal(claims: AccessTokenClaims): Promise<Principal> {
    const scopes = parseSmartScopes(claims.scope).filter((s) => allowedLevel(claims.dsd_kind, s));
    const base = { claims, scopes, displayName: claims.name ?? claims.sub };
    switch (claims.dsd_kind) {
      case 'citizen': {
        const own = claims.fhirUser?.startsWith('Patient/') === true ? [claims.fhirUser.slice(8)] : [];
        const all = [...new Set([...own, ...(claims.dsd_patients ?? [])])];
        return { ...base, kind: 'citizen', actorRef: claims.fhirUser ?? `Patient/${claims.sub}`, patientIds: all, personRefs: [], organizationAncestors: [] };
      }
      case 'professional': {
        const persons = [claims.fhirUser, claims.dsd_practitioner_role === undefined ? undefined : `PractitionerRole/${claims.dsd_practitioner_role}`].filter((x): x is string => x !== undefined);
        const org = claims.dsd_organization;
        const unit = org === undefined ? undefined : await this.unitFacts(org);
        return {
          ...base,
          kind: 'professional',
          actorRef: claims.fhirUser ?? `Practitioner/${claims.sub}`,
          patientIds: [],
          personRefs: persons,
          ...(unit === undefined ? {} : { organizationRef: unit.organizationRef }),
          ...(unit?.organizationName === undefined ? {} : { organizationName: unit.organizationName }),
          organizationAncestors: unit?.ancestors ?? [],
        };
      }
      case 'system':
        return { ...base, kind: 'system', actorRef: `Device/${claims.client_id}`, patientIds: [], personRefs: [], organizationAncestors: [] };
      default:
        claims.dsd_kind satisfies never;
        throw new OperationOutcomeError(forbidden('Unknown kind of user'));
    }
  }

  /** The unit's ancestors and name, cached for five minutes (the organisation register changes slowly). */
  private async unitFacts(orgId: string): Promise<{ organizationRef: string; organizationName?: string; ancestors: string[] }> {
    let hit = this.units.get(orgId);
    if (hit === undefined || Date.now() - hit.at > 300_000) {
      hit = { ancestors: await organizationAncestors(this.platform.db, this.partOf, orgId), name: await organizationName(this.platform.db, orgId), at: Date.now() };
      this.units.set(orgId, hit);
    }
    return { organizationRef: `Organization/${orgId}`, ...(hit.name === undefined ? {} : { organizationName: hit.name }), ancestors: hit.ancestors };
  }

  /** @returns the professional as the predicates see them */
  party(p: Principal): ProfessionalParty {
    return { persons: p.personRefs, unit: p.organizationRef, ancestors: p.organizationAncestors, personRef: p.actorRef, relationWindowDays: this.options.relationWindowDays };
  }

  /**
   * Throws 403 unless a scope grants `op` on `resourceType` and the role may do it at all.
   * @param p - the principal
   * @param op - interaction
   * @param resourceType - type
   */
  permit(p: Principal, op: AccessOp, resourceType: string): void {
    if (!p.scopes.some((s) => scopeGrants(s, op, resourceType))) {
      throw new OperationOutcomeError(forbidden(`The token's scopes do not allow ${OP_NAMES[op]} of ${resourceType} (scopes: ${p.claims.scope || 'none'})`));
    }
    if (op === 'c' || op === 'u' || op === 'd') {
      if (p.kind === 'citizen' && !(op === 'c' ? CITIZEN_CREATE : CITIZEN_CHANGE).has(resourceType)) {
        throw new OperationOutcomeError(forbidden(`A citizen cannot ${OP_NAMES[op]} ${resourceType} resources`));
      }
      if (p.kind === 'professional' && PROFESSIONAL_NEVER.has(resourceType)) {
        throw new OperationOutcomeError(forbidden(resourceType === 'Consent' ? 'Only the citizen can create or remove blocks (spærring)' : `${resourceType} cannot be written`));
      }
    }
  }

  /**
   * The read predicate on row `r`: reach of the role, intersected with the scopes.
   * @param p - the principal
   * @param r - row alias
   * @param bind - binds values
   * @returns SQL
   */
  readFilter(p: Principal, r: string, bind: Bind): string {
    const reading = p.scopes.filter((s) => s.ops.has('r') || s.ops.has('s'));
    if (reading.length === 0) {
      return 'false';
    }
    let reach: string;
    switch (p.kind) {
      case 'citizen':
        reach = citizenReach(r, p.patientIds.map((id) => `Patient/${id}`), SHARED_TYPES, bind);
        break;
      case 'professional':
        reach = professionalReach(r, this.party(p), this.ids, SHARED_TYPES, bind);
        break;
      case 'system':
        reach = 'true';
        break;
      default:
        p.kind satisfies never;
        reach = 'false';
    }
    const context = p.claims.patient;
    const perScope = reading.map((s) => {
      const conds: string[] = [];
      if (s.resourceType !== '*') {
        conds.push(`${r}.resource_type = ${bind(s.resourceType)}`);
      }
      if (s.narrowing.length > 0) {
        conds.push(this.narrowingSql(s, r, bind));
      }
      if (s.level === 'patient') {
        // Patient-level scopes reach only the launch context's patient (and shared data).
        conds.push(context === undefined ? `${r}.resource_type = ANY(${bind(SHARED_TYPES)}::text[])` : `(${r}.resource_type = ANY(${bind(SHARED_TYPES)}::text[]) OR ${r}.compartments && ${bind([`Patient/${context}`])}::text[])`);
      }
      return conds.length === 0 ? 'true' : conds.join(' AND ');
    });
    const scopeCond = perScope.includes('true') ? 'true' : perScope.map((c) => `(${c})`).join(' OR ');
    return reach === 'true' ? scopeCond : scopeCond === 'true' ? reach : `${reach} AND (${scopeCond})`;
  }

  private narrowingSql(s: SmartScope, r: string, bind: Bind): string {
    try {
      const req = parseSearch(s.resourceType, s.narrowing, this.platform.registry, { lenient: false, defaultCount: 1, maxCount: 1, resourceTypes: this.platform.defs.resourceTypes });
      return filterPredicate(r, req, { paramId: (rt, code) => this.platform.paramId(rt, code), baseUrl: this.platform.baseUrl, expandValueSet: this.platform.expandValueSet }, bind);
    } catch {
      // A narrowing the server cannot evaluate grants nothing (never widen).
      return 'false';
    }
  }

  /**
   * Checks a write by compartments before and after.
   * @param p - the principal
   * @param q - the transaction
   * @param op - create, update or delete
   * @param resourceType - type
   * @param before - stored version's compartments
   * @param after - proposed version's compartments
   * @param resource - the proposed resource
   */
  async checkWrite(p: Principal, q: Queryable, op: 'c' | 'u' | 'd', resourceType: string, before: readonly string[] | undefined, after: readonly string[] | undefined, resource?: Resource): Promise<void> {
    // Writes come only from scopes without narrowing (a narrowed scope grants reading).
    const writable = p.scopes.filter((s) => s.narrowing.length === 0);
    const grants = (o: AccessOp): boolean => writable.some((s) => scopeGrants(s, o, resourceType));
    if (!grants(op)) {
      throw new OperationOutcomeError(forbidden(`The token's scopes do not allow ${OP_NAMES[op]} of ${resourceType} (scopes: ${p.claims.scope || 'none'})`));
    }
    this.permit(p, op, resourceType);
    if (p.kind === 'system') {
      return;
    }
    const contextOnly = writable.filter((s) => scopeGrants(s, op, resourceType)).every((s) => s.level === 'patient');
    const context = p.claims.patient;
    const inContext = (refs: readonly string[]): boolean => !contextOnly || (context !== undefined && refs.every((r) => r === `Patient/${context}`));
    if (before !== undefined) {
      if (before.length === 0 || !inContext(before) || !(await this.reaches(p, q, before))) {
        // Out of reach reads as absent: never a hint that it exists.
        throw new OperationOutcomeError(notFound(`${resourceType} was not found`));
      }
    }
    if (after !== undefined) {
      if (after.length === 0) {
        throw new OperationOutcomeError(forbidden(`${resourceType} is not patient data; only system clients may write it`));
      }
      if (!inContext(after) || !(await this.reaches(p, q, after))) {
        throw new OperationOutcomeError(forbidden(`You may not write data about ${after.join(', ')}: no current treatment relation, or the citizen has blocked you`));
      }
      if (p.kind === 'citizen' && resourceType === 'Consent' && resource !== undefined) {
        checkBlockShape(resource as Consent);
      }
    }
  }

  private async reaches(p: Principal, q: Queryable, refs: readonly string[]): Promise<boolean> {
    if (p.kind === 'citizen') {
      const mine = new Set(p.patientIds.map((id) => `Patient/${id}`));
      return refs.every((r) => mine.has(r));
    }
    if (p.kind === 'professional') {
      const ok = await reachablePatients(q, this.party(p), this.ids, refs);
      return refs.every((r) => ok.has(r));
    }
    return true;
  }

  /**
   * Starts a værdispring for a professional on one patient.
   * @param p - the professional
   * @param q - the transaction
   * @param patientId - the patient
   * @param reason - why
   * @param reasonText - the professional's own words
   * @param minutes - how long (capped)
   * @returns the stored grant
   */
  async startBreakGlass(p: Principal, q: Queryable, patientId: string, reason: string, reasonText: string, minutes: number): Promise<BreakGlassRow> {
    if (p.kind !== 'professional' || p.claims.dsd_authorisation_id === undefined) {
      throw new OperationOutcomeError(forbidden('Only an authorised health professional can use værdispring'));
    }
    if (!(reason in BREAK_GLASS_REASONS)) {
      throw new OperationOutcomeError(badRequest(`reason must be one of ${Object.keys(BREAK_GLASS_REASONS).join(', ')}`));
    }
    if (reasonText.trim().length < 10) {
      throw new OperationOutcomeError(badRequest('Describe the reason for værdispring in your own words (at least 10 characters)'));
    }
    if (!Number.isInteger(minutes) || minutes < 1) {
      throw new OperationOutcomeError(badRequest('minutes must be a whole number of minutes, at least 1'));
    }
    const started = new Date();
    const row: BreakGlassRow = {
      id: randomUUID(),
      personRef: p.actorRef,
      organizationRef: p.organizationRef,
      patientRef: `Patient/${patientId}`,
      reason,
      reasonText: reasonText.trim(),
      started,
      expires: new Date(started.getTime() + Math.min(minutes, this.options.breakGlassMinutes) * 60_000),
    };
    await insertBreakGlass(q, row);
    return row;
  }

  /**
   * @param patientId - a patient id
   * @returns whether the patient exists (not deleted), whoever may see them
   */
  async patientExists(patientId: string, q: Queryable = this.platform.db): Promise<boolean> {
    const v = await findCurrent(q, 'Patient', patientId);
    return v !== undefined && !v.deleted;
  }

  /**
   * What hides a patient's data from a professional (for the notice offering værdispring).
   * @param p - the professional
   * @param patientId - the patient
   * @returns the kinds of block in force
   */
  async blocksFor(p: Principal, patientId: string, q: Queryable = this.platform.db): Promise<BlockKind[]> {
    if (p.kind !== 'professional') {
      return [];
    }
    return blocksAffecting(q, this.party(p), this.ids, `Patient/${patientId}`);
  }
}

const OP_NAMES: Record<AccessOp, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

function scopeGrants(s: SmartScope, op: AccessOp, resourceType: string): boolean {
  return (s.resourceType === '*' || s.resourceType === resourceType) && s.ops.has(op) && (s.narrowing.length === 0 || op === 'r' || op === 's');
}

/** Scope levels each kind of caller can hold: systems system/, people patient/ and user/. */
function allowedLevel(kind: Principal['kind'], s: SmartScope): boolean {
  return kind === 'system' ? s.level === 'system' : s.level !== 'system';
}

/**
 * A citizen's block must be a Min Spærring Consent: privacy scope, a deny provision and a kind
 * whose target is given.
 * @param c - the Consent
 */
function checkBlockShape(c: Consent): void {
  const kind = c.category?.flatMap((cc) => cc.coding ?? []).find((cd) => cd.system === SPAERRING_SYSTEM)?.code;
  if (kind === undefined || !['person', 'unit', 'unit-and-subunits', 'period'].includes(kind)) {
    throw new OperationOutcomeError(badRequest(`A block (spærring) needs a category from ${SPAERRING_SYSTEM}: person, unit, unit-and-subunits or period`, ['Consent.category']));
  }
  if (c.provision?.type !== 'deny') {
    throw new OperationOutcomeError(badRequest('A block (spærring) has provision.type = deny', ['Consent.provision.type']));
  }
  const actors = (c.provision.actor ?? []).map((a) => a.reference.reference ?? '');
  if (kind === 'person' && (actors.length === 0 || !actors.every((a) => /^(Practitioner|PractitionerRole)\//.test(a)))) {
    throw new OperationOutcomeError(badRequest('A block of a professional names them in provision.actor (Practitioner/…)', ['Consent.provision.actor']));
  }
  if ((kind === 'unit' || kind === 'unit-and-subunits') && (actors.length === 0 || !actors.every((a) => a.startsWith('Organization/')))) {
    throw new OperationOutcomeError(badRequest('A block of a unit names it in provision.actor (Organization/…)', ['Consent.provision.actor']));
  }
  if (kind === 'period' && (c.provision.dataPeriod?.start === undefined || c.provision.dataPeriod.end === undefined)) {
    throw new OperationOutcomeError(badRequest('A block of a period gives provision.dataPeriod with start and end', ['Consent.provision.dataPeriod']));
  }
}
