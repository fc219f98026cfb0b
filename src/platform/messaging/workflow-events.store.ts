import type { Queryable } from '../../db/index.ts';

/**
 * SQL of the workflow events (table `workflow_notification`, migration 0009_workflow_events.sql).
 * Every function takes the connection or transaction to run on first: the hook runs inside the
 * Encounter write's transaction, and on PGlite that is the only connection.
 */

/** A new row. */
export interface NewWorkflowNotification {
  readonly encounterId: string;
  readonly encounterVersion: number;
  readonly patientId: string;
  readonly activity: string;
  readonly senderOrg: string;
  readonly receiverOrg: string | null;
  readonly messageSeq: number | null;
  readonly headerId: string | null;
  readonly provenance: string | null;
  readonly status: 'queued' | 'unroutable';
  readonly reason: string | null;
}

/** A HospitalNotification written for an Encounter change. */
export interface WorkflowNotificationRow extends NewWorkflowNotification {
  readonly id: number;
  readonly created: string;
}

type DbRow = {
  id: number | string;
  encounter_id: string;
  encounter_version: number | string;
  patient_id: string;
  activity: string;
  sender_org: string;
  receiver_org: string | null;
  message_seq: number | string | null;
  header_id: string | null;
  provenance: string | null;
  status: 'queued' | 'unroutable';
  reason: string | null;
  created: Date | string;
};

const COLUMNS = 'id, encounter_id, encounter_version, patient_id, activity, sender_org, receiver_org, message_seq, header_id, provenance, status, reason, created';

function dbRowToNotification(r: DbRow): WorkflowNotificationRow {
  return {
    id: Number(r.id),
    encounterId: r.encounter_id,
    encounterVersion: Number(r.encounter_version),
    patientId: r.patient_id,
    activity: r.activity,
    senderOrg: r.sender_org,
    receiverOrg: r.receiver_org,
    messageSeq: r.message_seq === null ? null : Number(r.message_seq),
    headerId: r.header_id,
    provenance: r.provenance,
    status: r.status,
    reason: r.reason,
    created: r.created instanceof Date ? r.created.toISOString() : String(r.created),
  };
}

/**
 * @param q - the write's transaction
 * @param n - the notification
 * @returns its id
 */
export async function insertWorkflowNotification(q: Queryable, n: NewWorkflowNotification): Promise<number> {
  const rows = await q.query<{ id: number | string }>(
    `INSERT INTO workflow_notification (encounter_id, encounter_version, patient_id, activity, sender_org, receiver_org, message_seq, header_id, provenance, status, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
    [n.encounterId, n.encounterVersion, n.patientId, n.activity, n.senderOrg, n.receiverOrg, n.messageSeq, n.headerId, n.provenance, n.status, n.reason],
  );
  return Number(rows[0]!.id);
}

/**
 * The notifications sent for one Encounter (the hospital stay), oldest first.
 * @param q - connection or transaction
 * @param encounterId - Encounter id
 * @returns queued notifications only (unroutable ones were never sent)
 */
export async function findSentNotifications(q: Queryable, encounterId: string): Promise<WorkflowNotificationRow[]> {
  const rows = await q.query<DbRow>(`SELECT ${COLUMNS} FROM workflow_notification WHERE encounter_id = $1 AND status = 'queued' ORDER BY id`, [encounterId]);
  return rows.map(dbRowToNotification);
}

/**
 * @param q - connection or transaction
 * @param id - notification id
 * @returns it, when it exists
 */
export async function findWorkflowNotification(q: Queryable, id: number): Promise<WorkflowNotificationRow | undefined> {
  const rows = await q.query<DbRow>(`SELECT ${COLUMNS} FROM workflow_notification WHERE id = $1`, [id]);
  return rows[0] === undefined ? undefined : dbRowToNotification(rows[0]);
}

/**
 * Unroutable notifications for operators, oldest first.
 * @param q - connection
 * @param limit - most rows
 * @returns the rows
 */
export async function findUnroutableNotifications(q: Queryable, limit: number): Promise<WorkflowNotificationRow[]> {
  const rows = await q.query<DbRow>(`SELECT ${COLUMNS} FROM workflow_notification WHERE status = 'unroutable' ORDER BY id LIMIT $1`, [limit]);
  return rows.map(dbRowToNotification);
}

/**
 * Records that an unroutable notification was sent after all (an operator's resend).
 * @param q - the resend's transaction
 * @param id - notification id
 * @param sent - what was sent
 * @returns true when it was still unroutable
 */
export async function updateNotificationSent(
  q: Queryable,
  id: number,
  sent: { receiverOrg: string; messageSeq: number; headerId: string; provenance: string },
): Promise<boolean> {
  const rows = await q.query(
    `UPDATE workflow_notification SET status = 'queued', receiver_org = $2, message_seq = $3, header_id = $4, provenance = $5, reason = NULL
      WHERE id = $1 AND status = 'unroutable' RETURNING id`,
    [id, sent.receiverOrg, sent.messageSeq, sent.headerId, sent.provenance],
  );
  return rows.length > 0;
}
