import type { Queryable } from '../../db/index.ts';
import type { Bind } from '../fhir/access.ts';

/**
 * The SQL of the access layer: the predicates that decide, inside every query, which rows a
 * caller reaches (treatment relations, citizens' blocks, værdispring), and the værdispring
 * table. Relations and blocks are derived from the stored FHIR data through the search index
 * tables, so they are always current; there is no separate register to keep in sync.
 * Every alias here starts with `ac_` so the predicates can be embedded in any search query.
 */

/** Code system of the block kinds on Consent.category (Min Spærring). */
export const SPAERRING_SYSTEM = 'https://dsd.dk/fhir/CodeSystem/spaerring';

/** Block kinds: a named professional, a unit, a unit with its sub-units, or data from a period. */
export type BlockKind = 'person' | 'unit' | 'unit-and-subunits' | 'period';

/** Interned search parameter ids the predicates need (see policy.ts). */
export interface AccessParamIds {
  /** Reference parameters that always make a relation (Patient.general-practitioner). */
  readonly listing: readonly number[];
  /** Reference parameters of encounters (service-provider, participant), judged by date. */
  readonly encounter: readonly number[];
  readonly encounterDate: number;
  /** Reference parameters of referrals, episodes, care teams and tasks, judged by status. */
  readonly open: readonly number[];
  /** Status parameters of those types. */
  readonly openStatus: readonly number[];
  readonly consentActor: number;
  readonly consentStatus: number;
  readonly consentCategory: number;
  readonly consentPeriod: number;
  readonly consentDataPeriod: number;
  /** Date parameters that place a resource's data in time (for period blocks). */
  readonly clinicalDates: readonly number[];
}

/** Statuses that keep a referral, episode, care team or task open. */
const OPEN_STATUSES = ['active', 'requested', 'received', 'accepted', 'ready', 'in-progress', 'planned', 'waitlist', 'proposed', 'draft'];

/** A professional as the predicates see them. */
export interface ProfessionalParty {
  /** `Practitioner/x`, `PractitionerRole/y`. */
  readonly persons: readonly string[];
  /** `Organization/<unit>`. */
  readonly unit: string | undefined;
  /** The unit's ancestors, for blocks that include sub-units. */
  readonly ancestors: readonly string[];
  /** The reference værdispring rows are kept under (`Practitioner/x`). */
  readonly personRef: string;
  /** How long an encounter keeps a relation after it ended. */
  readonly relationWindowDays: number;
}

function pairs(refs: readonly string[], bind: Bind): string {
  const types = refs.map((r) => r.slice(0, r.indexOf('/')));
  const ids = refs.map((r) => r.slice(r.indexOf('/') + 1));
  return `(SELECT * FROM unnest(${bind(types)}::text[], ${bind(ids)}::text[]))`;
}

/** Patients the professional may open a record of now: treatment relations and active værdispring. */
function relatedPatients(p: ProfessionalParty, ids: AccessParamIds, bind: Bind): string {
  const parties = [...p.persons, ...(p.unit === undefined ? [] : [p.unit])];
  return `SELECT unnest(ac_s.compartments) FROM idx_reference ac_x JOIN resource ac_s ON ac_s.rid = ac_x.rid
     WHERE (ac_x.target_type, ac_x.target_id) IN ${pairs(parties, bind)}
       AND ac_x.param = ANY(${bind([...ids.listing, ...ids.encounter, ...ids.open])}::int[]) AND NOT ac_s.deleted
       AND (ac_x.param = ANY(${bind(ids.listing)}::int[])
         OR (ac_x.param = ANY(${bind(ids.encounter)}::int[]) AND EXISTS (SELECT 1 FROM idx_date ac_d WHERE ac_d.rid = ac_s.rid AND ac_d.param = ${bind(ids.encounterDate)}
               AND ac_d.hi >= now() - make_interval(days => ${bind(p.relationWindowDays)}::int)))
         OR (ac_x.param = ANY(${bind(ids.open)}::int[]) AND EXISTS (SELECT 1 FROM idx_token ac_t WHERE ac_t.rid = ac_s.rid AND ac_t.param = ANY(${bind(ids.openStatus)}::int[])
               AND ac_t.code = ANY(${bind(OPEN_STATUSES)}::text[]))))
    UNION SELECT ac_g.patient_ref FROM break_glass ac_g WHERE ac_g.person_ref = ${bind(p.personRef)} AND ac_g.expires > now()`;
}

/** Conditions on a Consent row `c` that make it an active block now. */
function activeBlock(c: string, ids: AccessParamIds, bind: Bind, kinds: readonly BlockKind[]): string {
  return `${c}.resource_type = 'Consent' AND NOT ${c}.deleted
    AND EXISTS (SELECT 1 FROM idx_token ac_st WHERE ac_st.rid = ${c}.rid AND ac_st.param = ${bind(ids.consentStatus)} AND ac_st.code = 'active')
    AND EXISTS (SELECT 1 FROM idx_token ac_k WHERE ac_k.rid = ${c}.rid AND ac_k.param = ${bind(ids.consentCategory)} AND ac_k.system = ${bind(SPAERRING_SYSTEM)} AND ac_k.code = ANY(${bind(kinds)}::text[]))
    AND NOT EXISTS (SELECT 1 FROM idx_date ac_v WHERE ac_v.rid = ${c}.rid AND ac_v.param = ${bind(ids.consentPeriod)} AND (ac_v.lo > now() OR ac_v.hi < now()))`;
}

/** Patients who blocked this professional (by person, unit or a parent unit with sub-units), minus værdispring. */
function blockingPatients(p: ProfessionalParty, ids: AccessParamIds, bind: Bind): string {
  const direct = [...p.persons, ...(p.unit === undefined ? [] : [p.unit])];
  const ancestorClause =
    p.ancestors.length === 0
      ? ''
      : ` OR ((ac_a.target_type, ac_a.target_id) IN ${pairs(p.ancestors, bind)} AND EXISTS (SELECT 1 FROM idx_token ac_k2 WHERE ac_k2.rid = ac_c.rid AND ac_k2.param = ${bind(ids.consentCategory)} AND ac_k2.system = ${bind(SPAERRING_SYSTEM)} AND ac_k2.code = 'unit-and-subunits'))`;
  return `SELECT unnest(ac_c.compartments) FROM idx_reference ac_a JOIN resource ac_c ON ac_c.rid = ac_a.rid
     WHERE ac_a.param = ${bind(ids.consentActor)} AND ${activeBlock('ac_c', ids, bind, ['person', 'unit', 'unit-and-subunits'])}
       AND ((ac_a.target_type, ac_a.target_id) IN ${pairs(direct, bind)}${ancestorClause})
    EXCEPT SELECT ac_g.patient_ref FROM break_glass ac_g WHERE ac_g.person_ref = ${bind(p.personRef)} AND ac_g.expires > now()`;
}

/**
 * What a professional reaches, as a predicate on row `r`: shared reference data, or data of a
 * patient they have a treatment relation with (or værdispring for), minus what the patient
 * blocked for them. A patient's own Patient resource stays visible despite a block, so the
 * professional can find the patient and use værdispring; the data is hidden. The blocks
 * themselves (spærring Consents) are the citizen's own and never shown to professionals.
 * @param r - the resource row alias
 * @param p - the professional
 * @param ids - parameter ids
 * @param sharedTypes - resource types readable by every authenticated caller
 * @param bind - binds values
 * @returns the predicate
 */
export function professionalReach(r: string, p: ProfessionalParty, ids: AccessParamIds, sharedTypes: readonly string[], bind: Bind): string {
  const periodBlock = `EXISTS (SELECT 1 FROM resource ac_pc JOIN idx_date ac_dp ON ac_dp.rid = ac_pc.rid AND ac_dp.param = ${bind(ids.consentDataPeriod)}
      WHERE ac_pc.compartments && ${r}.compartments AND ${activeBlock('ac_pc', ids, bind, ['period'])}
        AND NOT EXISTS (SELECT 1 FROM break_glass ac_g2 WHERE ac_g2.person_ref = ${bind(p.personRef)} AND ac_g2.expires > now() AND ac_g2.patient_ref = ANY(ac_pc.compartments))
        AND EXISTS (SELECT 1 FROM idx_date ac_cd WHERE ac_cd.rid = ${r}.rid AND ac_cd.param = ANY(${bind(ids.clinicalDates)}::int[]) AND ac_cd.lo <= ac_dp.hi AND ac_cd.hi >= ac_dp.lo))`;
  return `(${r}.resource_type = ANY(${bind(sharedTypes)}::text[])
    OR (${r}.compartments && ARRAY(${relatedPatients(p, ids, bind)})
      AND NOT (${r}.resource_type <> 'Patient' AND ${r}.compartments && ARRAY(${blockingPatients(p, ids, bind)}))
      AND NOT (${r}.resource_type <> 'Patient' AND ${periodBlock})
      AND NOT (${r}.resource_type = 'Consent' AND EXISTS (SELECT 1 FROM idx_token ac_kb WHERE ac_kb.rid = ${r}.rid AND ac_kb.param = ${bind(ids.consentCategory)} AND ac_kb.system = ${bind(SPAERRING_SYSTEM)}))))`;
}

/**
 * What a citizen reaches: shared reference data and the data of the given patients (self and
 * those they act for).
 * @param r - row alias
 * @param patientRefs - `Patient/<id>` of each
 * @param sharedTypes - shared resource types
 * @param bind - binds values
 * @returns the predicate
 */
export function citizenReach(r: string, patientRefs: readonly string[], sharedTypes: readonly string[], bind: Bind): string {
  return `(${r}.resource_type = ANY(${bind(sharedTypes)}::text[]) OR ${r}.compartments && ${bind(patientRefs)}::text[])`;
}

/**
 * Which of the given patients a professional reaches now (for write checks).
 * @param q - database or transaction
 * @param p - the professional
 * @param ids - parameter ids
 * @param patientRefs - `Patient/<id>` refs to check
 * @returns those reached (related or værdispring, and not blocking the professional)
 */
export async function reachablePatients(q: Queryable, p: ProfessionalParty, ids: AccessParamIds, patientRefs: readonly string[]): Promise<Set<string>> {
  const params: unknown[] = [];
  const bind: Bind = (v) => {
    params.push(v);
    return `$${params.length}`;
  };
  const wanted = bind(patientRefs);
  const rows = await q.query<{ ref: string }>(
    `SELECT w.ref FROM unnest(${wanted}::text[]) AS w(ref)
      WHERE w.ref = ANY(ARRAY(${relatedPatients(p, ids, bind)})) AND NOT w.ref = ANY(ARRAY(${blockingPatients(p, ids, bind)}))`,
    params,
  );
  return new Set(rows.map((r) => r.ref));
}

/**
 * The ancestors of an organisation unit (Organization.partOf, nearest first).
 * @param q - database
 * @param partOfParam - interned id of Organization.partof
 * @param organizationId - the unit's id
 * @returns `Organization/<id>` of each ancestor
 */
export async function organizationAncestors(q: Queryable, partOfParam: number, organizationId: string): Promise<string[]> {
  const rows = await q.query<{ ref: string; depth: number }>(
    `WITH RECURSIVE up(id, depth) AS (
       SELECT x.target_id, 1 FROM resource o JOIN idx_reference x ON x.rid = o.rid AND x.param = $1
        WHERE o.resource_type = 'Organization' AND o.id = $2 AND NOT o.deleted AND x.target_type = 'Organization'
       UNION
       SELECT x.target_id, up.depth + 1 FROM up JOIN resource o ON o.resource_type = 'Organization' AND o.id = up.id AND NOT o.deleted
         JOIN idx_reference x ON x.rid = o.rid AND x.param = $1 AND x.target_type = 'Organization'
        WHERE up.depth < 10)
     SELECT 'Organization/' || id AS ref, depth FROM up ORDER BY depth`,
    [partOfParam, organizationId],
  );
  return rows.map((r) => r.ref);
}

/** A værdispring as stored. */
export interface BreakGlassRow {
  readonly id: string;
  readonly personRef: string;
  readonly organizationRef: string | undefined;
  readonly patientRef: string;
  readonly reason: string;
  readonly reasonText: string;
  readonly started: Date;
  readonly expires: Date;
}

/**
 * Stores a værdispring.
 * @param q - the transaction (the audit record is written in the same one)
 * @param row - the grant
 */
export async function insertBreakGlass(q: Queryable, row: BreakGlassRow): Promise<void> {
  await q.query(
    `INSERT INTO break_glass (id, person_ref, organization_ref, patient_ref, reason, reason_text, started, expires) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [row.id, row.personRef, row.organizationRef ?? null, row.patientRef, row.reason, row.reasonText, row.started.toISOString(), row.expires.toISOString()],
  );
}

/**
 * The professional's værdispring grants that are still running.
 * @param q - database
 * @param personRef - `Practitioner/x`
 * @returns active grants, newest first
 */
export async function activeBreakGlass(q: Queryable, personRef: string): Promise<BreakGlassRow[]> {
  const rows = await q.query<{ id: string; person_ref: string; organization_ref: string | null; patient_ref: string; reason: string; reason_text: string; started: string | Date; expires: string | Date }>(
    `SELECT id::text AS id, person_ref, organization_ref, patient_ref, reason, reason_text, started, expires FROM break_glass WHERE person_ref = $1 AND expires > now() ORDER BY started DESC`,
    [personRef],
  );
  return rows.map((r) => ({
    id: r.id,
    personRef: r.person_ref,
    organizationRef: r.organization_ref ?? undefined,
    patientRef: r.patient_ref,
    reason: r.reason,
    reasonText: r.reason_text,
    started: new Date(r.started),
    expires: new Date(r.expires),
  }));
}

/**
 * Whether data of a patient is hidden from the professional by a block (for the værdispring notice).
 * @param q - database
 * @param p - the professional
 * @param ids - parameter ids
 * @param patientRef - `Patient/<id>`
 * @returns the kinds of active blocks that hide data from this professional
 */
export async function blocksAffecting(q: Queryable, p: ProfessionalParty, ids: AccessParamIds, patientRef: string): Promise<BlockKind[]> {
  const params: unknown[] = [];
  const bind: Bind = (v) => {
    params.push(v);
    return `$${params.length}`;
  };
  const patient = bind([patientRef]);
  const rows = await q.query<{ blocked: boolean; period: boolean }>(
    `SELECT (${bind(patientRef)}::text = ANY(ARRAY(${blockingPatients(p, ids, bind)}))) AS blocked,
            EXISTS (SELECT 1 FROM resource ac_pc WHERE ac_pc.compartments && ${patient}::text[] AND ${activeBlock('ac_pc', ids, bind, ['period'])}) AS period`,
    params,
  );
  const out: BlockKind[] = [];
  if (rows[0]?.blocked === true) {
    out.push('person');
  }
  if (rows[0]?.period === true) {
    out.push('period');
  }
  return out;
}

/**
 * Which of the given patients the professional reaches through a running værdispring (the
 * audit record of such an access carries the break-glass marker).
 * @param q - database or transaction
 * @param personRef - `Practitioner/x`
 * @param patientRefs - `Patient/<id>` refs
 * @returns the refs under værdispring
 */
export async function breakGlassAmong(q: Queryable, personRef: string, patientRefs: readonly string[]): Promise<string[]> {
  const rows = await q.query<{ patient_ref: string }>(
    `SELECT DISTINCT patient_ref FROM break_glass WHERE person_ref = $1 AND expires > now() AND patient_ref = ANY($2::text[])`,
    [personRef, patientRefs],
  );
  return rows.map((r) => r.patient_ref);
}

/**
 * The name of an organisation unit (for audit records and Min Log).
 * @param q - database
 * @param organizationId - the unit's id
 * @returns its name, if stored
 */
export async function organizationName(q: Queryable, organizationId: string): Promise<string | undefined> {
  const rows = await q.query<{ name: string | null }>(
    `SELECT (content::jsonb)->>'name' AS name FROM resource WHERE resource_type = 'Organization' AND id = $1 AND NOT deleted`,
    [organizationId],
  );
  return rows[0]?.name ?? undefined;
}
