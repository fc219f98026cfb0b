import type { Queryable } from '../../db/index.ts';
import type { OutboxTable } from '../outbox/outbox.store.ts';
import { claimRuns } from '../outbox/outbox.store.ts';

/**
 * The only SQL of FHIR Subscriptions (tables in migration 0010_subscriptions.sql). Every
 * function takes the connection or transaction to run on as its first argument.
 */

/** The notification outbox: one queue per subscription. */
export const SUBSCRIPTION_OUTBOX: OutboxTable = { table: 'subscription_outbox', queue: 'subscription_id' };

export type Channel = 'rest-hook' | 'websocket';
export type SubscriptionStatus = 'requested' | 'active' | 'error' | 'off';

/** A Subscription as matching and delivery need it. */
export interface SubscriptionRow {
  readonly id: string;
  readonly resourceType: string;
  readonly criteria: string;
  readonly channel: Channel;
  readonly endpoint: string | null;
  /** `Name: value` lines from channel.header. */
  readonly headers: readonly string[];
  readonly payload: string | null;
  readonly status: SubscriptionStatus;
  /** JSON of the owning client's verified token claims; null when the platform wrote it. */
  readonly ownerClaims: string | null;
}

/** A notification to queue. */
export interface NewNotification {
  readonly subscriptionId: string;
  readonly channel: Channel;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly versionId: number;
  readonly payload: string | null;
}

/** A claimed notification. */
export interface ClaimedNotification {
  readonly id: number;
  readonly subscriptionId: string;
  readonly channel: Channel;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly versionId: number;
  readonly payload: string | null;
  readonly attempts: number;
}

type SubscriptionDbRow = { id: string; resource_type: string; criteria: string; channel: Channel; endpoint: string | null; headers: string; payload: string | null; status: SubscriptionStatus; owner_claims: string | null };

function subscriptionRowToSubscription(r: SubscriptionDbRow): SubscriptionRow {
  return {
    id: r.id,
    resourceType: r.resource_type,
    criteria: r.criteria,
    channel: r.channel,
    endpoint: r.endpoint,
    headers: JSON.parse(r.headers) as string[],
    payload: r.payload,
    status: r.status,
    ownerClaims: r.owner_claims,
  };
}

const COLUMNS = 'id, resource_type, criteria, channel, endpoint, headers, payload, status, owner_claims';

/**
 * Stores or replaces the platform's view of a Subscription.
 * @param q - the write's transaction
 * @param s - the subscription
 */
export async function upsertSubscription(q: Queryable, s: SubscriptionRow): Promise<void> {
  await q.query(
    `INSERT INTO subscription (${COLUMNS}, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
     ON CONFLICT (id) DO UPDATE SET resource_type = EXCLUDED.resource_type, criteria = EXCLUDED.criteria, channel = EXCLUDED.channel,
       endpoint = EXCLUDED.endpoint, headers = EXCLUDED.headers, payload = EXCLUDED.payload, status = EXCLUDED.status,
       owner_claims = EXCLUDED.owner_claims, updated = now()`,
    [s.id, s.resourceType, s.criteria, s.channel, s.endpoint, JSON.stringify(s.headers), s.payload, s.status, s.ownerClaims],
  );
}

/**
 * @param q - the write's transaction
 * @param id - Subscription id
 */
export async function deleteSubscription(q: Queryable, id: string): Promise<void> {
  await q.query('DELETE FROM subscription WHERE id = $1', [id]);
}

/**
 * @param q - connection or transaction
 * @param id - Subscription id
 * @returns it, when stored
 */
export async function findSubscription(q: Queryable, id: string): Promise<SubscriptionRow | undefined> {
  const rows = await q.query<SubscriptionDbRow>(`SELECT ${COLUMNS} FROM subscription WHERE id = $1`, [id]);
  return rows[0] === undefined ? undefined : subscriptionRowToSubscription(rows[0]);
}

/**
 * @param q - connection
 * @param resourceType - a resource's type
 * @param id - its id
 * @returns the compartments of its current row (`Patient/<id>` …), empty when it is gone
 */
export async function findCompartments(q: Queryable, resourceType: string, id: string): Promise<string[]> {
  const rows = await q.query<{ compartments: string[] | null }>('SELECT compartments FROM resource WHERE resource_type = $1 AND id = $2', [resourceType, id]);
  return rows[0]?.compartments ?? [];
}

/**
 * @param q - the write's transaction
 * @param resourceTypes - types written
 * @returns the active subscriptions on those types, oldest id first
 */
export async function findActiveSubscriptions(q: Queryable, resourceTypes: readonly string[]): Promise<SubscriptionRow[]> {
  const rows = await q.query<SubscriptionDbRow>(`SELECT ${COLUMNS} FROM subscription WHERE status = 'active' AND resource_type = ANY($1::text[]) ORDER BY id`, [resourceTypes]);
  return rows.map(subscriptionRowToSubscription);
}

/**
 * @param q - connection
 * @param limit - most ids
 * @returns ids of subscriptions waiting to be activated
 */
export async function findRequestedSubscriptions(q: Queryable, limit: number): Promise<string[]> {
  const rows = await q.query<{ id: string }>(`SELECT id FROM subscription WHERE status = 'requested' ORDER BY updated, id LIMIT $1`, [limit]);
  return rows.map((r) => r.id);
}

/**
 * Queues notifications (one statement).
 * @param q - the transaction of the write that matched
 * @param rows - notifications, in the order they are to be delivered
 */
export async function insertNotifications(q: Queryable, rows: readonly NewNotification[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  await q.query(
    `INSERT INTO subscription_outbox (subscription_id, channel, resource_type, resource_id, version_id, payload)
     SELECT e.v->>'subscription_id', e.v->>'channel', e.v->>'resource_type', e.v->>'resource_id', (e.v->>'version_id')::integer, e.v->>'payload'
       FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS e(v, n)
      ORDER BY e.n`,
    [JSON.stringify(rows.map((r) => ({ subscription_id: r.subscriptionId, channel: r.channel, resource_type: r.resourceType, resource_id: r.resourceId, version_id: r.versionId, payload: r.payload })))],
  );
}

/**
 * Claims due notifications of active subscriptions: all rest-hook ones, and websocket ones only
 * of the subscriptions with a client bound in this process.
 * @param q - connection
 * @param token - the claim token
 * @param queues - most subscriptions
 * @param runLength - most notifications per subscription
 * @param leaseMs - lease length
 * @param boundWebsockets - subscription ids with a bound websocket client here
 * @returns the claims, in outbox order
 */
export async function claimNotifications(q: Queryable, token: string, queues: number, runLength: number, leaseMs: number, boundWebsockets: readonly string[]): Promise<ClaimedNotification[]> {
  const rows = await claimRuns<{ id: number | string; subscription_id: string; channel: Channel; resource_type: string; resource_id: string; version_id: number; payload: string | null; attempts: number }>(
    q,
    SUBSCRIPTION_OUTBOX,
    token,
    queues,
    runLength,
    leaseMs,
    { sql: `o.subscription_id IN (SELECT s.id FROM subscription s WHERE s.status = 'active' AND (s.channel = 'rest-hook' OR s.id = ANY($5::text[])))`, params: [boundWebsockets] },
  );
  return rows.map((r) => ({
    id: Number(r.id),
    subscriptionId: r.subscription_id,
    channel: r.channel,
    resourceType: r.resource_type,
    resourceId: r.resource_id,
    versionId: Number(r.version_id),
    payload: r.payload,
    attempts: Number(r.attempts),
  }));
}

/**
 * Ends the pending notifications of a subscription that was switched off or deleted.
 * @param q - the write's transaction
 * @param subscriptionId - the subscription
 * @param reason - why (kept as the rows' last error)
 */
export async function discardNotifications(q: Queryable, subscriptionId: string, reason: string): Promise<void> {
  await q.query(
    `UPDATE subscription_outbox SET status = 'dead', last_error = $2, finished = now(), claimed_until = NULL
      WHERE subscription_id = $1 AND status = 'pending'`,
    [subscriptionId, reason],
  );
}

/**
 * Ends websocket notifications kept longer than the limit without a bound client.
 * @param q - connection
 * @param olderThanMs - age limit
 * @returns how many
 */
export async function expireWebsocketNotifications(q: Queryable, olderThanMs: number): Promise<number> {
  const rows = await q.query(
    `UPDATE subscription_outbox SET status = 'dead', finished = now(), last_error = 'udløbet: ingen websocket-klient var bundet til abonnementet'
      WHERE status = 'pending' AND channel = 'websocket' AND created < now() - $1::double precision * interval '1 millisecond'
        AND (claimed_until IS NULL OR claimed_until < now())
      RETURNING id`,
    [olderThanMs],
  );
  return rows.length;
}
