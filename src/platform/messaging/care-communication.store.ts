import type { Queryable } from '../../db/index.ts';

/** The SQL of CareCommunication threads (table `care_communication`, migration 0012). */

/** One CareCommunication in a thread, as indexed when it was accepted. */
export interface CareCommunicationRow {
  readonly messageSeq: number;
  readonly threadId: string;
  readonly headerId: string;
  readonly senderOrg: string;
  readonly receiverOrg: string;
  readonly activity: string;
  readonly category: string;
  readonly topic: string | null;
  readonly patientIdentifier: string | null;
  readonly sent: string;
  /** The message Bundle, exact JSON text as sent. */
  readonly content: string;
}

type Row = {
  message_seq: number | string;
  thread_id: string;
  header_id: string;
  sender_org: string;
  receiver_org: string;
  activity: string;
  category: string;
  topic: string | null;
  patient_identifier: string | null;
  sent: Date | string;
  content: string;
};

function rowToCareCommunication(r: Row): CareCommunicationRow {
  return {
    messageSeq: Number(r.message_seq),
    threadId: r.thread_id,
    headerId: r.header_id,
    senderOrg: r.sender_org,
    receiverOrg: r.receiver_org,
    activity: r.activity,
    category: r.category,
    topic: r.topic,
    patientIdentifier: r.patient_identifier,
    sent: r.sent instanceof Date ? r.sent.toISOString() : r.sent,
    content: r.content,
  };
}

/** What is indexed for an accepted CareCommunication. */
export type NewCareCommunication = Omit<CareCommunicationRow, 'sent' | 'content'>;

/**
 * @param q - the transaction accepting the message
 * @param c - the index row
 */
export async function insertCareCommunication(q: Queryable, c: NewCareCommunication): Promise<void> {
  await q.query(
    `INSERT INTO care_communication (message_seq, thread_id, header_id, sender_org, receiver_org, activity, category, topic, patient_identifier)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [c.messageSeq, c.threadId, c.headerId, c.senderOrg, c.receiverOrg, c.activity, c.category, c.topic, c.patientIdentifier],
  );
}

/**
 * The CareCommunications an organisation takes part in: those it sent, and those delivered to its
 * inbox (a message on its way is not the receiver's yet). Oldest first.
 * @param q - connection
 * @param organizationId - the organisation
 * @param threadId - only this thread, if given
 * @returns the rows, in the order the messages were accepted
 */
export async function findCareCommunications(q: Queryable, organizationId: string, threadId: string | undefined): Promise<CareCommunicationRow[]> {
  const rows = await q.query<Row>(
    `SELECT c.message_seq, c.thread_id, c.header_id, c.sender_org, c.receiver_org, c.activity, c.category, c.topic, c.patient_identifier, c.sent, m.content
       FROM care_communication c JOIN message m ON m.seq = c.message_seq
      WHERE ($2::text IS NULL OR c.thread_id = $2)
        AND (c.sender_org = $1
             OR (c.receiver_org = $1 AND EXISTS (SELECT 1 FROM message_inbox i WHERE i.organization_id = $1 AND i.message_seq = c.message_seq)))
      ORDER BY c.message_seq`,
    [organizationId, threadId ?? null],
  );
  return rows.map(rowToCareCommunication);
}

/**
 * A CareCommunication delivered to an organisation's inbox, found by its MessageHeader.id: what
 * the organisation may reply to.
 * @param q - connection
 * @param organizationId - the receiving organisation
 * @param headerId - MessageHeader.id of the message
 * @returns the row, or undefined when no such message reached the organisation
 */
export async function findReceivedCareCommunication(q: Queryable, organizationId: string, headerId: string): Promise<CareCommunicationRow | undefined> {
  const rows = await q.query<Row>(
    `SELECT c.message_seq, c.thread_id, c.header_id, c.sender_org, c.receiver_org, c.activity, c.category, c.topic, c.patient_identifier, c.sent, m.content
       FROM care_communication c
       JOIN message m ON m.seq = c.message_seq
       JOIN message_inbox i ON i.message_seq = c.message_seq AND i.organization_id = $1
      WHERE c.header_id = $2 AND c.receiver_org = $1
      ORDER BY c.message_seq LIMIT 1`,
    [organizationId, headerId],
  );
  return rows[0] === undefined ? undefined : rowToCareCommunication(rows[0]);
}
