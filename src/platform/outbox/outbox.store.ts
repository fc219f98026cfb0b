import type { Queryable } from '../../db/index.ts';

/**
 * The lease SQL shared by the platform's outboxes (`message_outbox` of the MedCom hub,
 * `subscription_outbox` of FHIR Subscriptions). An outbox table has the columns `id`, `status`
 * (pending, delivered, dead), `attempts`, `next_attempt_at`, `claimed_by`, `claimed_until`,
 * `last_error` and `finished`, plus one column that names the queue a row belongs to (the
 * receiver, the subscription): rows of one queue are delivered in id order, by one worker at a
 * time. Table and column names come only from the constants of the owning module's store, never
 * from input.
 */

/** An outbox table and its queue column. */
export interface OutboxTable {
  readonly table: string;
  readonly queue: string;
}

/** A condition on the queue column (`o.<queue>`), with its own parameters numbered from `$5`. */
export interface QueueCondition {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * Claims rows that are due. Per queue, the claim starts at its oldest pending row (the head),
 * locked with FOR UPDATE SKIP LOCKED so concurrent workers never claim the same head; holding the
 * head is what entitles a worker to that queue. With the head it takes the queue's next pending
 * rows in order (a run, up to `runLength` in all), stopping before the first row that is not due
 * or still leased, so a run never skips a row. The claim is a lease: when it runs out before a
 * row is finished, the row is claimed again.
 * @param q - connection (one statement)
 * @param t - the outbox table
 * @param token - this claim's unique token
 * @param queues - most queues (heads) to claim
 * @param runLength - most rows per queue, head included
 * @param leaseMs - lease length
 * @param eligible - only queues meeting this condition (e.g. an active subscription)
 * @returns the claimed rows (every column, `attempts` already counting this attempt), in id order
 */
export async function claimRuns<R extends { id: number | string }>(
  q: Queryable,
  t: OutboxTable,
  token: string,
  queues: number,
  runLength: number,
  leaseMs: number,
  eligible: QueueCondition = { sql: 'true', params: [] },
): Promise<R[]> {
  const { table, queue } = t;
  const rows = await q.query<R>(
    `WITH heads AS (
       SELECT DISTINCT ON (o.${queue}) o.id FROM ${table} o WHERE o.status = 'pending' AND (${eligible.sql}) ORDER BY o.${queue}, o.id
     ), locked AS (
       SELECT o.id, o.${queue} AS queue FROM ${table} o JOIN heads h ON h.id = o.id
       WHERE o.status = 'pending' AND o.next_attempt_at <= now() AND (o.claimed_until IS NULL OR o.claimed_until < now())
       ORDER BY o.id LIMIT $1
       FOR UPDATE OF o SKIP LOCKED
     ), runs AS (
       SELECT id FROM locked
       UNION ALL
       SELECT r.id FROM locked l CROSS JOIN LATERAL (
         SELECT x.id FROM (
           SELECT n.id, bool_and(n.next_attempt_at <= now() AND (n.claimed_until IS NULL OR n.claimed_until < now())) OVER (ORDER BY n.id) AS clear
             FROM (SELECT m.id, m.next_attempt_at, m.claimed_until FROM ${table} m
                    WHERE m.${queue} = l.queue AND m.status = 'pending' AND m.id > l.id ORDER BY m.id LIMIT $2) n
         ) x WHERE x.clear
       ) r
     )
     UPDATE ${table} o
        SET claimed_by = $3, claimed_until = now() + $4::double precision * interval '1 millisecond', attempts = o.attempts + 1
       FROM runs WHERE o.id = runs.id AND o.status = 'pending'
     RETURNING o.*`,
    [queues, Math.max(0, runLength - 1), token, leaseMs, ...eligible.params],
  );
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * Gives back claimed rows not attempted (the rest of a queue's run after a failure), so they stay
 * behind the failed row and their attempt is not counted.
 * @param q - connection
 * @param t - the outbox table
 * @param ids - rows
 * @param token - the claim token
 */
export async function releaseRows(q: Queryable, t: OutboxTable, ids: readonly number[], token: string): Promise<void> {
  if (ids.length === 0) {
    return;
  }
  await q.query(
    `UPDATE ${t.table} SET claimed_by = NULL, claimed_until = NULL, attempts = greatest(attempts - 1, 0)
      WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND status = 'pending'`,
    [ids, token],
  );
}

/**
 * Marks a claimed row delivered, only if this claim still holds it (a worker whose lease was
 * taken over finds nothing to finish, so nothing is delivered twice).
 * @param q - connection or the delivery transaction
 * @param t - the outbox table
 * @param id - row
 * @param token - the claim token
 * @returns true when this claim finished it
 */
export async function finishRow(q: Queryable, t: OutboxTable, id: number, token: string): Promise<boolean> {
  const rows = await q.query(
    `UPDATE ${t.table} SET status = 'delivered', finished = now(), claimed_until = NULL, last_error = NULL
      WHERE id = $1 AND claimed_by = $2 AND status = 'pending' RETURNING id`,
    [id, token],
  );
  return rows.length > 0;
}

/**
 * Records a failed attempt: retried after `delayMs`, or a dead letter when `dead`.
 * @param q - connection or transaction
 * @param t - the outbox table
 * @param id - row
 * @param token - the claim token
 * @param error - the reason
 * @param delayMs - wait before the next attempt
 * @param dead - no more attempts
 * @returns true when this claim still held the row
 */
export async function failRow(q: Queryable, t: OutboxTable, id: number, token: string, error: string, delayMs: number, dead: boolean): Promise<boolean> {
  const rows = await q.query(
    `UPDATE ${t.table}
        SET status = CASE WHEN $5 THEN 'dead' ELSE 'pending' END, last_error = $3, claimed_until = NULL,
            next_attempt_at = now() + $4::double precision * interval '1 millisecond', finished = CASE WHEN $5 THEN now() END
      WHERE id = $1 AND claimed_by = $2 AND status = 'pending' RETURNING id`,
    [id, token, error, delayMs, dead],
  );
  return rows.length > 0;
}

/**
 * Renews a claim's lease on one row before a slow step (an HTTP delivery), if the claim still holds it.
 * @param q - connection
 * @param t - the outbox table
 * @param id - row
 * @param token - the claim token
 * @param leaseMs - new lease from now
 * @returns true when the claim still held the row
 */
export async function renewRow(q: Queryable, t: OutboxTable, id: number, token: string, leaseMs: number): Promise<boolean> {
  const rows = await q.query(
    `UPDATE ${t.table} SET claimed_until = now() + $3::double precision * interval '1 millisecond'
      WHERE id = $1 AND claimed_by = $2 AND status = 'pending' RETURNING id`,
    [id, token, leaseMs],
  );
  return rows.length > 0;
}

/**
 * Makes a dead letter deliverable again (attempts start over, due now).
 * @param q - connection
 * @param t - the outbox table
 * @param id - row
 * @returns true when it was a dead letter
 */
export async function retryDeadRow(q: Queryable, t: OutboxTable, id: number): Promise<boolean> {
  const rows = await q.query(
    `UPDATE ${t.table} SET status = 'pending', attempts = 0, next_attempt_at = now(), claimed_by = NULL, claimed_until = NULL, finished = NULL
      WHERE id = $1 AND status = 'dead' RETURNING id`,
    [id],
  );
  return rows.length > 0;
}

/**
 * The wait before the next attempt: `backoffMs · 2^(attempts−1)`, capped.
 * @param attempts - attempts made, this one included
 * @param backoffMs - wait after the first failure
 * @param maxBackoffMs - cap
 * @returns milliseconds
 */
export function backoffDelay(attempts: number, backoffMs: number, maxBackoffMs: number): number {
  return Math.min(maxBackoffMs, backoffMs * 2 ** Math.max(0, attempts - 1));
}
