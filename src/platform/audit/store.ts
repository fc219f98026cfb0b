import type { Queryable } from '../../db/index.ts';

/**
 * The only SQL of the audit context. Every function takes the database or an open transaction
 * as its first argument. Values always travel as bound parameters: a batch of events is one
 * JSON text parameter expanded by jsonb_to_recordset, never concatenated into the SQL.
 */

/** One stored audit event, as the service and the renderer see it. */
export interface AuditRow {
  readonly id: string;
  readonly recorded: Date;
  readonly action: 'C' | 'R' | 'U' | 'D' | 'E';
  readonly interaction: string;
  readonly outcome: 0 | 4 | 8 | 12;
  readonly outcomeText: string | null;
  readonly agentKind: 'citizen' | 'professional' | 'system' | 'anonymous';
  readonly agentRef: string | null;
  readonly agentName: string | null;
  readonly agentIdentifier: string | null;
  readonly organizationRef: string | null;
  readonly organizationName: string | null;
  readonly clientId: string | null;
  readonly tokenJti: string | null;
  readonly purpose: string | null;
  readonly breakGlass: boolean;
  readonly requestId: string | null;
  readonly sourceAddress: string | null;
  readonly patientIds: readonly string[];
  readonly resourceRefs: readonly string[];
  readonly query: string | null;
}

/** What is inserted for one event: the row, whether the citizens may see it, and its alerts. */
export interface AuditInsert {
  readonly row: AuditRow;
  readonly citizenVisible: boolean;
  /** Kinds of security alert the event raises (one alert per patient, or one without a patient). */
  readonly alerts: readonly string[];
}

/** A security alert row. */
export interface SecurityAlertRow {
  readonly id: string;
  readonly kind: string;
  readonly eventId: string;
  readonly patientId: string | null;
  readonly agentRef: string | null;
  readonly created: Date;
  readonly acknowledgedAt: Date | null;
  readonly acknowledgedBy: string | null;
}

const EVENT_NAMES = `id, recorded, action, interaction, outcome, outcome_text, agent_kind, agent_ref, agent_name, agent_identifier,
  organization_ref, organization_name, client_id, token_jti, purpose, break_glass, request_id, source_address, patient_ids,
  resource_refs, query`;

// One call of audit_insert_batch (migration 0015): the three inserts commit or fail together, also
// outside an explicit transaction, a whole batch costs one round trip, and their plans are kept.
const INSERT_BATCH = 'SELECT audit_insert_batch($1, $2, $3)';

/**
 * Inserts a batch of events with their patient rows and alerts in one statement.
 * @param q - the database or the open transaction of a write
 * @param batch - the events
 */
export async function insertAuditBatch(q: Queryable, batch: readonly AuditInsert[]): Promise<void> {
  if (batch.length === 0) {
    return;
  }
  const events: unknown[] = [];
  const patients: unknown[] = [];
  const alerts: unknown[] = [];
  for (const { row, citizenVisible, alerts: kinds } of batch) {
    const recorded = row.recorded.toISOString();
    events.push({
      id: row.id,
      recorded,
      action: row.action,
      interaction: row.interaction,
      outcome: row.outcome,
      outcome_text: row.outcomeText,
      agent_kind: row.agentKind,
      agent_ref: row.agentRef,
      agent_name: row.agentName,
      agent_identifier: row.agentIdentifier,
      organization_ref: row.organizationRef,
      organization_name: row.organizationName,
      client_id: row.clientId,
      token_jti: row.tokenJti,
      purpose: row.purpose,
      break_glass: row.breakGlass,
      request_id: row.requestId,
      source_address: row.sourceAddress,
      patient_ids: row.patientIds,
      resource_refs: row.resourceRefs,
      query: row.query,
    });
    for (const patientId of row.patientIds) {
      patients.push({ event_id: row.id, patient_id: patientId, recorded, citizen_visible: citizenVisible });
    }
    for (const kind of kinds) {
      const targets: (string | null)[] = row.patientIds.length > 0 ? [...row.patientIds] : [null];
      for (const patientId of targets) {
        alerts.push({ kind, event_id: row.id, patient_id: patientId, agent_ref: row.agentRef, created: recorded });
      }
    }
  }
  await q.query(INSERT_BATCH, [JSON.stringify(events), JSON.stringify(patients), JSON.stringify(alerts)]);
}

interface EventDbRow {
  [key: string]: unknown;
  id: string;
  recorded: Date | string;
  action: AuditRow['action'];
  interaction: string;
  outcome: number;
  outcome_text: string | null;
  agent_kind: AuditRow['agentKind'];
  agent_ref: string | null;
  agent_name: string | null;
  agent_identifier: string | null;
  organization_ref: string | null;
  organization_name: string | null;
  client_id: string | null;
  token_jti: string | null;
  purpose: string | null;
  break_glass: boolean;
  request_id: string | null;
  source_address: string | null;
  patient_ids: string[] | null;
  resource_refs: string[] | null;
  query: string | null;
}

/**
 * Maps a database row to an AuditRow.
 * @param r - the row as the driver returns it
 * @returns the audit row
 */
export function eventRowToAuditRow(r: EventDbRow): AuditRow {
  return {
    id: r.id,
    recorded: r.recorded instanceof Date ? r.recorded : new Date(r.recorded),
    action: r.action,
    interaction: r.interaction,
    outcome: Number(r.outcome) as AuditRow['outcome'],
    outcomeText: r.outcome_text,
    agentKind: r.agent_kind,
    agentRef: r.agent_ref,
    agentName: r.agent_name,
    agentIdentifier: r.agent_identifier,
    organizationRef: r.organization_ref,
    organizationName: r.organization_name,
    clientId: r.client_id,
    tokenJti: r.token_jti,
    purpose: r.purpose,
    breakGlass: r.break_glass,
    requestId: r.request_id,
    sourceAddress: r.source_address,
    patientIds: r.patient_ids ?? [],
    resourceRefs: r.resource_refs ?? [],
    query: r.query,
  };
}

/** Filters of an audit search. Times are inclusive (ge) and exclusive (lt) bounds. */
export interface AuditFilter {
  /** Only events touching this patient (plain id). */
  readonly patientId?: string;
  /** Only events citizens may see (not by citizens, not restricted); needs patientId. */
  readonly citizenVisibleOnly?: boolean;
  readonly agentRef?: string;
  /** recorded >= from (the retention cutoff is always one of these bounds). */
  readonly from: readonly Date[];
  /** recorded < before. */
  readonly before: readonly Date[];
  readonly limit: number;
  readonly offset: number;
}

/**
 * Finds audit events newest first, with the number of all matches.
 * @param q - the database
 * @param f - the filter
 * @returns the page of rows and the total
 */
export async function findAuditEvents(q: Queryable, f: AuditFilter): Promise<{ rows: AuditRow[]; total: number }> {
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const t = f.patientId !== undefined ? 'p' : 'e';
  const where: string[] = [];
  if (f.patientId !== undefined) {
    where.push(`p.patient_id = ${p(f.patientId)}`);
    if (f.citizenVisibleOnly === true) {
      where.push('p.citizen_visible');
    }
  }
  if (f.agentRef !== undefined) {
    where.push(`e.agent_ref = ${p(f.agentRef)}`);
  }
  for (const d of f.from) {
    where.push(`${t}.recorded >= ${p(d.toISOString())}::timestamptz`);
  }
  for (const d of f.before) {
    where.push(`${t}.recorded < ${p(d.toISOString())}::timestamptz`);
  }
  const from =
    f.patientId !== undefined ? 'audit_patient p JOIN audit_event e ON e.id = p.event_id' : 'audit_event e';
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  // The count only needs the join when an event column is filtered.
  const countFrom = f.patientId !== undefined && f.agentRef === undefined ? 'audit_patient p' : from;
  const countRows = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${countFrom} ${whereSql}`, params);
  const total = Number(countRows[0]?.n ?? 0);
  if (f.limit === 0 || f.offset >= total) {
    return { rows: [], total };
  }
  const cols = EVENT_NAMES.split(',')
    .map((c) => `e.${c.trim()}`)
    .join(', ');
  const limit = p(f.limit);
  const offset = p(f.offset);
  const rows = await q.query<EventDbRow>(
    `SELECT ${cols} FROM ${from} ${whereSql} ORDER BY ${t}.recorded DESC, e.id DESC LIMIT ${limit} OFFSET ${offset}`,
    params,
  );
  return { rows: rows.map(eventRowToAuditRow), total };
}

/**
 * Finds one event by id.
 * @param q - the database
 * @param id - the event id
 * @returns the row or undefined
 */
export async function findAuditEvent(q: Queryable, id: string): Promise<AuditRow | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    return undefined;
  }
  const rows = await q.query<EventDbRow>(`SELECT ${EVENT_NAMES} FROM audit_event WHERE id = $1`, [id]);
  const r = rows[0];
  return r === undefined ? undefined : eventRowToAuditRow(r);
}

/**
 * Deletes up to `batchSize` of the oldest events recorded before `cutoff`, with their patient
 * rows and alerts, in one statement.
 * @param q - the database
 * @param cutoff - events recorded strictly before this are deleted
 * @param batchSize - the most events deleted by this call
 * @returns the number of events deleted
 */
export async function deleteExpiredBatch(q: Queryable, cutoff: Date, batchSize: number): Promise<number> {
  const rows = await q.query<{ n: number }>(
    `WITH doomed AS (
       SELECT id FROM audit_event WHERE recorded < $1::timestamptz ORDER BY recorded LIMIT $2
     ), pa AS (
       DELETE FROM audit_patient WHERE event_id IN (SELECT id FROM doomed)
     ), al AS (
       DELETE FROM security_alert WHERE event_id IN (SELECT id FROM doomed)
     ), ev AS (
       DELETE FROM audit_event WHERE id IN (SELECT id FROM doomed) RETURNING 1
     )
     SELECT count(*)::int AS n FROM ev`,
    [cutoff.toISOString(), batchSize],
  );
  return Number(rows[0]?.n ?? 0);
}

interface AlertDbRow {
  [key: string]: unknown;
  id: string;
  kind: string;
  event_id: string;
  patient_id: string | null;
  agent_ref: string | null;
  created: Date | string;
  acknowledged_at: Date | string | null;
  acknowledged_by: string | null;
}

function alertRowToSecurityAlert(r: AlertDbRow): SecurityAlertRow {
  const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));
  return {
    id: r.id,
    kind: r.kind,
    eventId: r.event_id,
    patientId: r.patient_id,
    agentRef: r.agent_ref,
    created: toDate(r.created),
    acknowledgedAt: r.acknowledged_at === null ? null : toDate(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
  };
}

/**
 * Lists security alerts newest first.
 * @param q - the database
 * @param unacknowledgedOnly - only those nobody has acknowledged
 * @param limit - the most rows returned
 * @returns the alerts
 */
export async function findSecurityAlerts(q: Queryable, unacknowledgedOnly: boolean, limit: number): Promise<SecurityAlertRow[]> {
  const rows = await q.query<AlertDbRow>(
    `SELECT id, kind, event_id, patient_id, agent_ref, created, acknowledged_at, acknowledged_by FROM security_alert
     ${unacknowledgedOnly ? 'WHERE acknowledged_at IS NULL' : ''} ORDER BY created DESC, id LIMIT $1`,
    [limit],
  );
  return rows.map(alertRowToSecurityAlert);
}

/**
 * Marks an alert as acknowledged (once; a second acknowledgement keeps the first).
 * @param q - the database
 * @param id - the alert id
 * @param at - when
 * @param by - who acknowledged it (a reference), if known
 * @returns the alert, or undefined when there is no such alert
 */
export async function updateAlertAcknowledged(q: Queryable, id: string, at: Date, by: string | null): Promise<SecurityAlertRow | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    return undefined;
  }
  const rows = await q.query<AlertDbRow>(
    `UPDATE security_alert SET acknowledged_at = COALESCE(acknowledged_at, $2::timestamptz),
       acknowledged_by = CASE WHEN acknowledged_at IS NULL THEN $3 ELSE acknowledged_by END
     WHERE id = $1
     RETURNING id, kind, event_id, patient_id, agent_ref, created, acknowledged_at, acknowledged_by`,
    [id, at.toISOString(), by],
  );
  const r = rows[0];
  return r === undefined ? undefined : alertRowToSecurityAlert(r);
}
