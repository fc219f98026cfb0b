import type { Queryable } from '../../db/index.ts';
import type { OutboxTable } from '../outbox/outbox.store.ts';
import { claimRuns, failRow, releaseRows, renewRow } from '../outbox/outbox.store.ts';

/**
 * The only SQL of the messaging hub (tables in migration 0007_messaging.sql). Every function
 * takes the connection or transaction to run on as its first argument: on PGlite there is one
 * connection, so work inside a transaction must use that transaction's handle.
 */

/** The outbox: one queue per receiving organisation (leases and claims in outbox/outbox.store.ts). */
const MESSAGE_OUTBOX: OutboxTable = { table: 'message_outbox', queue: 'receiver_org' };

/** A stored message as the hub needs it for de-duplication and delivery. */
export interface MessageRow {
  readonly seq: number;
  readonly bundleId: string;
  readonly headerId: string;
  readonly eventCode: string;
  readonly senderOrg: string;
  readonly receiverOrg: string;
  readonly ackContent: string | null;
}

/** A new message to store. */
export interface NewMessage {
  readonly bundleId: string;
  readonly headerId: string;
  readonly eventCode: string;
  readonly senderOrg: string;
  readonly receiverOrg: string;
  readonly content: string;
  readonly ackContent: string | null;
  readonly acknowledges?: number;
}

/** One delivery to one receiver. */
export interface NewOutboxRow {
  readonly receiverOrg: string;
  readonly endpointId: string | null;
  readonly role: 'primary' | 'cc';
}

/** An outbox row a worker has claimed. */
export interface ClaimedDelivery {
  readonly id: number;
  readonly messageSeq: number;
  readonly receiverOrg: string;
  readonly endpointId: string | null;
  readonly role: 'primary' | 'cc';
  readonly attempts: number;
  /** The Bundle.id to POST instead of the stored one (a resend), or null. */
  readonly envelopeId: string | null;
}

/** An outbox row as operators see it. */
export interface OutboxRow {
  readonly id: number;
  readonly messageSeq: number;
  readonly bundleId: string;
  readonly headerId: string;
  readonly eventCode: string;
  readonly senderOrg: string;
  readonly receiverOrg: string;
  readonly status: 'pending' | 'delivered' | 'dead';
  readonly attempts: number;
  readonly lastError: string | null;
}

/** A delivered message in an organisation's inbox. */
export interface InboxRow {
  readonly id: number;
  readonly messageSeq: number;
  readonly eventCode: string;
  readonly senderOrg: string;
  readonly delivered: string;
  readonly content: string;
}

/**
 * @param q - connection or transaction
 * @param clientId - backend client id
 * @param organizationId - Organization id
 * @returns true when the client may send as the organisation
 */
export async function findSenderBinding(q: Queryable, clientId: string, organizationId: string): Promise<boolean> {
  const rows = await q.query('SELECT 1 FROM messaging_sender WHERE client_id = $1 AND organization_id = $2', [clientId, organizationId]);
  return rows.length > 0;
}

/**
 * @param q - connection or transaction
 * @param clientId - backend client id
 * @param organizationId - Organization id
 */
export async function insertSenderBinding(q: Queryable, clientId: string, organizationId: string): Promise<void> {
  await q.query('INSERT INTO messaging_sender (client_id, organization_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [clientId, organizationId]);
}

const MESSAGE_COLUMNS = 'seq, bundle_id, header_id, event_code, sender_org, receiver_org, ack_content';

type MessageDbRow = { seq: number | string; bundle_id: string; header_id: string; event_code: string; sender_org: string; receiver_org: string; ack_content: string | null };

function messageRowToMessage(r: MessageDbRow): MessageRow {
  return {
    seq: Number(r.seq),
    bundleId: String(r.bundle_id),
    headerId: String(r.header_id),
    eventCode: String(r.event_code),
    senderOrg: String(r.sender_org),
    receiverOrg: String(r.receiver_org),
    ackContent: r.ack_content,
  };
}

/**
 * Finds a message a sender sent before, by MessageHeader.id or by Bundle.id.
 * @param q - connection or transaction
 * @param senderOrg - sending Organization id
 * @param headerId - MessageHeader.id
 * @param bundleId - Bundle.id
 * @returns the message with that header id (first), else the one with that bundle id
 */
export async function findSentMessage(q: Queryable, senderOrg: string, headerId: string, bundleId: string): Promise<{ byHeader?: MessageRow; byBundle?: MessageRow }> {
  const rows = await q.query<MessageDbRow>(`SELECT ${MESSAGE_COLUMNS} FROM message WHERE sender_org = $1 AND (header_id = $2 OR bundle_id = $3)`, [senderOrg, headerId, bundleId]);
  const all = rows.map(messageRowToMessage);
  return { byHeader: all.find((m) => m.headerId === headerId), byBundle: all.find((m) => m.bundleId === bundleId) };
}

/**
 * Stores a message unless the sender already sent one with the same MessageHeader.id or Bundle.id.
 * @param q - transaction
 * @param m - the message
 * @returns its sequence number, or undefined when it was a duplicate
 */
export async function insertMessage(q: Queryable, m: NewMessage): Promise<number | undefined> {
  const rows = await q.query<{ seq: number }>(
    `INSERT INTO message (bundle_id, header_id, event_code, sender_org, receiver_org, content, ack_content, acknowledges)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING seq`,
    [m.bundleId, m.headerId, m.eventCode, m.senderOrg, m.receiverOrg, m.content, m.ackContent, m.acknowledges ?? null],
  );
  return rows[0] === undefined ? undefined : Number(rows[0].seq);
}

/**
 * @param q - transaction
 * @param seq - the message
 * @returns it, when stored
 */
export async function findMessage(q: Queryable, seq: number): Promise<MessageRow | undefined> {
  const rows = await q.query<MessageDbRow>(`SELECT ${MESSAGE_COLUMNS} FROM message WHERE seq = $1`, [seq]);
  return rows[0] === undefined ? undefined : messageRowToMessage(rows[0]);
}

/**
 * @param q - transaction
 * @param seqs - messages
 * @returns those stored, by seq
 */
export async function findMessages(q: Queryable, seqs: readonly number[]): Promise<Map<number, MessageRow>> {
  const rows = await q.query<MessageDbRow>(`SELECT ${MESSAGE_COLUMNS} FROM message WHERE seq = ANY($1::bigint[])`, [seqs]);
  return new Map(rows.map((r) => [Number(r.seq), messageRowToMessage(r)]));
}

/**
 * Finishes a run of inbox deliveries to one receiver in one statement: marks the rows this claim
 * still holds delivered and puts their messages into the receiver's inbox in outbox order.
 * @param q - the delivery transaction
 * @param ids - outbox rows, in outbox order
 * @param token - the claim token
 * @param receiverOrg - the receiver
 * @returns the ids of the rows finished (the others were taken over by another worker)
 */
export async function finishInboxDeliveries(q: Queryable, ids: readonly number[], token: string, receiverOrg: string): Promise<Set<number>> {
  const rows = await q.query<{ id: number | string }>(
    `WITH done AS (
       UPDATE message_outbox SET status = 'delivered', finished = now(), claimed_until = NULL, last_error = NULL, resend_due = NULL
        WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND status = 'pending' RETURNING id, message_seq
     ), inbox AS (
       INSERT INTO message_inbox (organization_id, message_seq) SELECT $3, message_seq FROM done ORDER BY id ON CONFLICT DO NOTHING
     )
     SELECT id FROM done`,
    [ids, token, receiverOrg],
  );
  return new Set(rows.map((r) => Number(r.id)));
}

/**
 * Stores acknowledgements the platform wrote and queues each to its receiver, in the order given
 * (one statement). An acknowledgement stored before (same sender and MessageHeader.id) is skipped.
 * @param q - the delivery transaction
 * @param acks - the acknowledgement messages
 */
export async function insertAcknowledgements(q: Queryable, acks: readonly NewMessage[]): Promise<void> {
  if (acks.length === 0) {
    return;
  }
  await q.query(
    `WITH a AS (
       INSERT INTO message (bundle_id, header_id, event_code, sender_org, receiver_org, content, ack_content, acknowledges)
       SELECT x.bundle_id, x.header_id, x.event_code, x.sender_org, x.receiver_org, x.content, NULL, x.acknowledges
         FROM jsonb_to_recordset($1::text::jsonb) AS x(n int, bundle_id text, header_id text, event_code text, sender_org text, receiver_org text, content text, acknowledges bigint)
        ORDER BY x.n
       ON CONFLICT DO NOTHING RETURNING seq, receiver_org
     )
     INSERT INTO message_outbox (message_seq, receiver_org, endpoint_id, role)
     SELECT seq, receiver_org, NULL, 'primary' FROM a ORDER BY seq ON CONFLICT DO NOTHING`,
    [
      JSON.stringify(
        acks.map((m, n) => ({ n, bundle_id: m.bundleId, header_id: m.headerId, event_code: m.eventCode, sender_org: m.senderOrg, receiver_org: m.receiverOrg, content: m.content, acknowledges: m.acknowledges ?? null })),
      ),
    ],
  );
}

/**
 * Queues deliveries of a message (one statement).
 * @param q - the transaction that stored the message
 * @param messageSeq - the message
 * @param rows - one per receiver
 */
export async function insertOutbox(q: Queryable, messageSeq: number, rows: readonly NewOutboxRow[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  await q.query(
    `INSERT INTO message_outbox (message_seq, receiver_org, endpoint_id, role)
     SELECT $1::bigint, r.receiver_org, r.endpoint_id, r.role FROM jsonb_to_recordset($2::text::jsonb) AS r(receiver_org text, endpoint_id text, role text)
     ON CONFLICT DO NOTHING`,
    [messageSeq, JSON.stringify(rows.map((r) => ({ receiver_org: r.receiverOrg, endpoint_id: r.endpointId, role: r.role })))],
  );
}

/**
 * Claims deliveries that are due. Per receiver, the claim starts at its oldest pending row (the
 * head), locked with FOR UPDATE SKIP LOCKED so concurrent workers never claim the same head;
 * holding the head is what entitles a worker to that receiver's queue. With the head it takes
 * the receiver's next pending rows in order (a run, up to `runLength` in all), stopping before
 * the first row that is not due or still leased, so a run never skips a row. A receiver thus
 * gets its messages in the order they were sent. The claim is a lease: when it runs out before
 * a row is finished, the rows are claimed again.
 * @param q - connection (one statement)
 * @param token - this claim's unique token
 * @param receivers - most receivers (heads) to claim
 * @param runLength - most rows per receiver, head included
 * @param leaseMs - lease length
 * @returns the claimed rows, in outbox order
 */
export async function claimDeliveries(q: Queryable, token: string, receivers: number, runLength: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const rows = await claimRuns<{ id: number | string; message_seq: number | string; receiver_org: string; endpoint_id: string | null; role: string; attempts: number; envelope_id: string | null }>(q, MESSAGE_OUTBOX, token, receivers, runLength, leaseMs);
  return rows.map((r) => ({
    id: Number(r.id),
    messageSeq: Number(r.message_seq),
    receiverOrg: r.receiver_org,
    endpointId: r.endpoint_id,
    role: r.role === 'cc' ? ('cc' as const) : ('primary' as const),
    attempts: Number(r.attempts),
    envelopeId: r.envelope_id,
  }));
}

/**
 * Gives back claimed rows not attempted (the rest of a receiver's run after a failure), so they
 * stay behind the failed row in the receiver's order and their attempt is not counted.
 * @param q - connection
 * @param ids - outbox rows
 * @param token - the claim token
 */
export async function releaseDeliveries(q: Queryable, ids: readonly number[], token: string): Promise<void> {
  await releaseRows(q, MESSAGE_OUTBOX, ids, token);
}

/**
 * Marks a claimed delivery done, only if this claim still holds it (a worker whose lease was
 * taken over finds nothing to finish, so a message is never delivered twice).
 * @param q - the delivery transaction
 * @param id - outbox row
 * @param token - the claim token
 * @param awaitAckMs - when the receiving system acknowledges: resend after this long without its
 *   acknowledgement; undefined when nothing is awaited
 * @returns true when this claim finished it
 */
export async function finishDelivery(q: Queryable, id: number, token: string, awaitAckMs?: number): Promise<boolean> {
  const rows = await q.query(
    `UPDATE message_outbox SET status = 'delivered', finished = now(), claimed_until = NULL, last_error = NULL,
            resend_due = now() + $3::double precision * interval '1 millisecond',
            ack_code = CASE WHEN $3::double precision IS NULL THEN ack_code END,
            ack_message_seq = CASE WHEN $3::double precision IS NULL THEN ack_message_seq END
      WHERE id = $1 AND claimed_by = $2 AND status = 'pending' RETURNING id`,
    [id, token, awaitAckMs ?? null],
  );
  return rows.length > 0;
}

/**
 * Records a failed attempt: retried after `delayMs`, or a dead letter when `dead`.
 * @param q - connection or transaction
 * @param id - outbox row
 * @param token - the claim token
 * @param error - the reason
 * @param delayMs - wait before the next attempt
 * @param dead - no more attempts
 * @returns true when this claim still held the row
 */
export async function failDelivery(q: Queryable, id: number, token: string, error: string, delayMs: number, dead: boolean): Promise<boolean> {
  return failRow(q, MESSAGE_OUTBOX, id, token, error, delayMs, dead);
}

/**
 * Puts a delivery into an organisation's inbox (at most once).
 * @param q - the delivery transaction
 * @param organizationId - receiver
 * @param messageSeq - message
 */
export async function insertInbox(q: Queryable, organizationId: string, messageSeq: number): Promise<void> {
  await q.query('INSERT INTO message_inbox (organization_id, message_seq) VALUES ($1, $2) ON CONFLICT DO NOTHING', [organizationId, messageSeq]);
}

/**
 * The current JSON of a stored resource (to check the receiver's Endpoint at delivery).
 * @param q - connection or transaction
 * @param resourceType - type
 * @param id - id
 * @returns its JSON text, or undefined when missing or deleted
 */
export async function findResourceContent(q: Queryable, resourceType: string, id: string): Promise<string | undefined> {
  const rows = await q.query<{ content: string }>('SELECT content FROM resource WHERE resource_type = $1 AND id = $2 AND NOT deleted', [resourceType, id]);
  return rows[0]?.content;
}

/**
 * Outbox rows for operators, oldest first.
 * @param q - connection
 * @param status - which rows
 * @param limit - most rows
 * @returns the rows with their message facts
 */
export async function findOutbox(q: Queryable, status: OutboxRow['status'], limit: number): Promise<OutboxRow[]> {
  const rows = await q.query<{
    id: number | string;
    message_seq: number | string;
    bundle_id: string;
    header_id: string;
    event_code: string;
    sender_org: string;
    receiver_org: string;
    status: OutboxRow['status'];
    attempts: number;
    last_error: string | null;
  }>(
    `SELECT o.id, o.message_seq, m.bundle_id, m.header_id, m.event_code, m.sender_org, o.receiver_org, o.status, o.attempts, o.last_error
       FROM message_outbox o JOIN message m ON m.seq = o.message_seq WHERE o.status = $1 ORDER BY o.id LIMIT $2`,
    [status, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    messageSeq: Number(r.message_seq),
    bundleId: String(r.bundle_id),
    headerId: String(r.header_id),
    eventCode: String(r.event_code),
    senderOrg: String(r.sender_org),
    receiverOrg: String(r.receiver_org),
    status: r.status,
    attempts: Number(r.attempts),
    lastError: r.last_error,
  }));
}

/**
 * Makes a dead letter deliverable again (attempts start over, due now).
 * @param q - connection
 * @param id - outbox row
 * @returns true when it was a dead letter
 */
export async function updateDeadLetterForRetry(q: Queryable, id: number): Promise<boolean> {
  const rows = await q.query(
    `UPDATE message_outbox SET status = 'pending', attempts = 0, next_attempt_at = now(), claimed_by = NULL, claimed_until = NULL, finished = NULL,
            resends = 0, ack_code = NULL, ack_message_seq = NULL, resend_due = NULL, acknowledged_at = NULL,
            envelope_id = CASE WHEN resend_due IS NOT NULL OR acknowledged_at IS NOT NULL THEN gen_random_uuid()::text ELSE envelope_id END
      WHERE id = $1 AND status = 'dead' RETURNING id`,
    [id],
  );
  return rows.length > 0;
}

/**
 * An organisation's inbox in delivery order.
 * @param q - connection
 * @param organizationId - receiver
 * @param afterId - only entries after this inbox id
 * @param limit - most entries
 * @returns the entries with the message JSON
 */
export async function findInbox(q: Queryable, organizationId: string, afterId: number, limit: number): Promise<InboxRow[]> {
  const rows = await q.query<{ id: number | string; message_seq: number | string; delivered: Date | string; event_code: string; sender_org: string; content: string }>(
    `SELECT i.id, i.message_seq, i.delivered, m.event_code, m.sender_org, m.content
       FROM message_inbox i JOIN message m ON m.seq = i.message_seq
      WHERE i.organization_id = $1 AND i.id > $2 ORDER BY i.id LIMIT $3`,
    [organizationId, afterId, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    messageSeq: Number(r.message_seq),
    eventCode: r.event_code,
    senderOrg: r.sender_org,
    delivered: r.delivered instanceof Date ? r.delivered.toISOString() : r.delivered,
    content: r.content,
  }));
}

/**
 * @param q - connection or transaction
 * @param seq - the message
 * @returns its exact JSON text, when stored
 */
export async function findMessageContent(q: Queryable, seq: number): Promise<string | undefined> {
  const rows = await q.query<{ content: string }>('SELECT content FROM message WHERE seq = $1', [seq]);
  return rows[0]?.content;
}

/**
 * @param q - connection
 * @param host - a host name (lower case), allowed as a delivery target
 */
export async function insertDeliveryHost(q: Queryable, host: string): Promise<void> {
  await q.query('INSERT INTO messaging_delivery_host (host) VALUES ($1) ON CONFLICT DO NOTHING', [host]);
}

/**
 * @param q - connection
 * @param host - a host name (lower case)
 * @returns true when it was allowed
 */
export async function deleteDeliveryHost(q: Queryable, host: string): Promise<boolean> {
  return (await q.query('DELETE FROM messaging_delivery_host WHERE host = $1 RETURNING host', [host])).length > 0;
}

/**
 * @param q - connection or transaction
 * @param host - a host name (lower case)
 * @returns true when deliveries may go to it
 */
export async function findDeliveryHost(q: Queryable, host: string): Promise<boolean> {
  return (await q.query('SELECT 1 FROM messaging_delivery_host WHERE host = $1', [host])).length > 0;
}

/**
 * Sets (or replaces) an organisation's delivery URL.
 * @param q - connection
 * @param organizationId - receiving Organization id
 * @param url - the URL
 */
export async function upsertDeliveryUrl(q: Queryable, organizationId: string, url: string): Promise<void> {
  await q.query(
    `INSERT INTO messaging_delivery_url (organization_id, url) VALUES ($1, $2)
     ON CONFLICT (organization_id) DO UPDATE SET url = EXCLUDED.url, created = now()`,
    [organizationId, url],
  );
}

/**
 * @param q - connection
 * @param organizationId - receiving Organization id
 * @returns true when it had a delivery URL
 */
export async function deleteDeliveryUrl(q: Queryable, organizationId: string): Promise<boolean> {
  return (await q.query('DELETE FROM messaging_delivery_url WHERE organization_id = $1 RETURNING organization_id', [organizationId])).length > 0;
}

/**
 * @param q - connection or transaction
 * @param organizationId - receiving Organization id
 * @returns its delivery URL, or undefined: its platform inbox
 */
export async function findDeliveryUrl(q: Queryable, organizationId: string): Promise<string | undefined> {
  const rows = await q.query<{ url: string }>('SELECT url FROM messaging_delivery_url WHERE organization_id = $1', [organizationId]);
  return rows[0]?.url;
}

/**
 * Renews a claim's lease on one row before a slow step (an HTTP delivery), if the claim still holds it.
 * @param q - connection
 * @param id - outbox row
 * @param token - the claim token
 * @param leaseMs - new lease from now
 * @returns true when the claim still held the row
 */
export async function renewLease(q: Queryable, id: number, token: string, leaseMs: number): Promise<boolean> {
  return renewRow(q, MESSAGE_OUTBOX, id, token, leaseMs);
}

/** A delivery an acknowledgement from the receiving system refers to. */
export interface AcknowledgedDelivery {
  readonly outboxId: number;
  readonly messageSeq: number;
  readonly eventCode: string;
  readonly role: 'primary' | 'cc';
  /** The acknowledgement the platform answered on the receiver's behalf (null: the receiving system acknowledges). */
  readonly platformAck: boolean;
  readonly status: OutboxRow['status'];
  readonly ackCode: string | null;
  readonly acknowledged: boolean;
}

/**
 * Finds the delivery an acknowledgement refers to: the message `senderOrg` sent with
 * MessageHeader.id `headerId`, as delivered to `receiverOrg`.
 * @param q - connection or transaction
 * @param senderOrg - the acknowledged message's sender (the acknowledgement's receiver)
 * @param headerId - the acknowledged MessageHeader.id (`response.identifier`)
 * @param receiverOrg - the acknowledged message's receiver (the acknowledgement's sender)
 * @returns the delivery, when there is one
 */
export async function findAcknowledgedDelivery(q: Queryable, senderOrg: string, headerId: string, receiverOrg: string): Promise<AcknowledgedDelivery | undefined> {
  const rows = await q.query<{ id: number | string; message_seq: number | string; event_code: string; role: string; platform_ack: boolean; status: OutboxRow['status']; ack_code: string | null; acknowledged: boolean }>(
    `SELECT o.id, o.message_seq, m.event_code, o.role, m.ack_content IS NOT NULL AS platform_ack, o.status, o.ack_code, o.acknowledged_at IS NOT NULL AS acknowledged
       FROM message m JOIN message_outbox o ON o.message_seq = m.seq AND o.receiver_org = $3
      WHERE m.sender_org = $1 AND m.header_id = $2`,
    [senderOrg, headerId, receiverOrg],
  );
  const r = rows[0];
  return r === undefined
    ? undefined
    : {
        outboxId: Number(r.id),
        messageSeq: Number(r.message_seq),
        eventCode: r.event_code,
        role: r.role === 'cc' ? 'cc' : 'primary',
        platformAck: r.platform_ack,
        status: r.status,
        ackCode: r.ack_code,
        acknowledged: r.acknowledged,
      };
}

/**
 * Records the receiving system's final acknowledgement of a delivery, once; nothing more is
 * awaited or resent. `ok`: delivered (also a delivery waiting to be resent, or given up as a dead
 * letter). `fatal-error`: the receiving system refused the message, so it becomes a dead letter
 * with that reason, for operators.
 * @param q - the transaction that stores the acknowledgement
 * @param outboxId - the acknowledged delivery
 * @param code - ok or fatal-error
 * @param ackSeq - the acknowledgement as stored in `message`
 * @param reason - for fatal-error: what the receiving system said
 * @returns false when the delivery already had its final acknowledgement (nothing changed)
 */
export async function updateAcknowledged(q: Queryable, outboxId: number, code: 'ok' | 'fatal-error', ackSeq: number, reason: string | null): Promise<boolean> {
  const rows = await q.query(
    `UPDATE message_outbox
        SET acknowledged_at = now(), ack_code = $2, ack_message_seq = $3, resend_due = NULL, claimed_until = NULL,
            status = CASE WHEN $2 = 'fatal-error' THEN 'dead' ELSE 'delivered' END,
            finished = CASE WHEN $2 = 'fatal-error' THEN now() ELSE coalesce(finished, now()) END,
            last_error = CASE WHEN $2 = 'fatal-error' THEN $4 WHEN status = 'delivered' THEN last_error END
      WHERE id = $1 AND acknowledged_at IS NULL RETURNING id`,
    [outboxId, code, ackSeq, reason],
  );
  return rows.length > 0;
}

/**
 * Records a transient-error acknowledgement: a delivery waiting for its acknowledgement is due
 * for its resend at once (the sweep resends it, or makes it a dead letter after the last resend).
 * @param q - the transaction that stores the acknowledgement
 * @param outboxId - the acknowledged delivery
 * @param ackSeq - the acknowledgement as stored in `message`
 * @returns false when the delivery already had its final acknowledgement (nothing changed)
 */
export async function updateTransientlyAcknowledged(q: Queryable, outboxId: number, ackSeq: number): Promise<boolean> {
  const rows = await q.query(
    `UPDATE message_outbox
        SET ack_code = 'transient-error', ack_message_seq = $2,
            resend_due = CASE WHEN status = 'delivered' AND resend_due IS NOT NULL THEN now() ELSE resend_due END
      WHERE id = $1 AND acknowledged_at IS NULL RETURNING id`,
    [outboxId, ackSeq],
  );
  return rows.length > 0;
}

/**
 * The sweep of deliveries whose acknowledgement is overdue (or came as transient-error): each is
 * queued again with a new envelope id while it has resends left, else it becomes a dead letter
 * with the reason. A last transient-error acknowledgement is then forwarded to the sender.
 * @param q - transaction
 * @param maxResends - most resends of one delivery
 * @param ackTimeoutMs - the time limit, for the reasons operators read
 * @returns how many were queued again and how many became dead letters
 */
export async function resendUnacknowledged(q: Queryable, maxResends: number, ackTimeoutMs: number): Promise<{ resent: number; dead: number }> {
  const minutes = Math.round(ackTimeoutMs / 60_000) >= 1 ? `${Math.round(ackTimeoutMs / 60_000)} min` : `${ackTimeoutMs} ms`;
  const resent = await q.query(
    `UPDATE message_outbox
        SET status = 'pending', resends = resends + 1, envelope_id = gen_random_uuid()::text, attempts = 0, next_attempt_at = now(),
            claimed_by = NULL, claimed_until = NULL, finished = NULL, resend_due = NULL,
            last_error = CASE WHEN ack_code = 'transient-error' THEN 'genforsendes: modtagerens system svarede transient-error'
                              ELSE 'genforsendes: ingen kvittering fra modtagerens system inden for ' || $2 END
      WHERE status = 'delivered' AND resend_due <= now() AND resends < $1 RETURNING id`,
    [maxResends, minutes],
  );
  const dead = await q.query<{ ack_message_seq: number | string | null; ack_code: string | null }>(
    `UPDATE message_outbox
        SET status = 'dead', finished = now(),
            last_error = CASE WHEN ack_code = 'transient-error'
                              THEN 'modtagerens system svarede transient-error også efter ' || resends || ' genforsendelser; kvitteringen er sendt til afsenderen'
                              ELSE 'ingen kvittering fra modtagerens system efter ' || resends || ' genforsendelser (kvitteringsfrist ' || $2 || ')' END
      WHERE status = 'delivered' AND resend_due <= now() AND resends >= $1 RETURNING ack_message_seq, ack_code`,
    [maxResends, minutes],
  );
  const forward = dead.filter((r) => r.ack_code === 'transient-error' && r.ack_message_seq !== null).map((r) => Number(r.ack_message_seq));
  if (forward.length > 0) {
    await q.query(
      `INSERT INTO message_outbox (message_seq, receiver_org, role)
       SELECT m.seq, m.receiver_org, 'primary' FROM message m WHERE m.seq = ANY($1::bigint[]) ON CONFLICT DO NOTHING`,
      [forward],
    );
  }
  return { resent: resent.length, dead: dead.length };
}
