import { Poller, outboxWorkerDefaults } from '../outbox/poller.ts';
import { randomUUID } from 'node:crypto';
import type { Subscription } from '@medplum/fhirtypes';
import type { Database } from '../../db/index.ts';
import { OperationOutcomeError } from '../fhir/outcome.ts';
import type { DispatchResult, DispatcherOptions } from '../messaging/index.ts';
import { checkDeliveryHost, postDelivery } from '../messaging/index.ts';
import { SUBSCRIPTION_OUTBOX, claimNotifications, expireWebsocketNotifications, findRequestedSubscriptions, findSubscription } from './subscription.store.ts';
import type { ClaimedNotification } from './subscription.store.ts';
import { backoffDelay, failRow, finishRow, releaseRows, renewRow, retryDeadRow } from '../outbox/outbox.store.ts';
import type { SubscriptionService } from './service.ts';

/**
 * Delivers Subscription notifications from `subscription_outbox` with the guarantees of the
 * MedCom outbox (docs/messaging.md): claims with FOR UPDATE SKIP LOCKED and a lease, one worker
 * per subscription queue so notifications arrive in order, retries with exponential backoff, dead
 * letters. rest-hook POSTs go through the messaging hub's HTTP delivery (host allow-list checked
 * at every delivery, no redirects, time limit); websocket notifications are `ping <id>` to the
 * connections bound in this process. A notification that becomes a dead letter puts its
 * subscription into `error` with the reason in `Subscription.error`.
 */

/** The hub's dispatcher options without its acknowledgement sweep (notifications are not acknowledged). */
export interface SubscriptionDispatcherOptions extends Omit<DispatcherOptions, 'ackTimeoutMs' | 'maxResends' | 'sweepMs' | 'parallelRuns'> {
  /** How long websocket notifications wait for a bound client before they are dropped (default 24 h). */
  readonly websocketRetentionMs?: number;
}

type Outcome = 'delivered' | 'failed' | 'dead' | 'lost';

interface Claim extends ClaimedNotification {
  readonly token: string;
}

export class SubscriptionDispatcher {
  private readonly service: SubscriptionService;
  private readonly db: Database;
  private readonly options: Required<SubscriptionDispatcherOptions>;
  private readonly poller: Poller;

  constructor(service: SubscriptionService, options: SubscriptionDispatcherOptions = {}) {
    this.service = service;
    this.db = service.repo.platform.db;
    this.options = {
      ...outboxWorkerDefaults(options, 'subscriptions'),
      websocketRetentionMs: options.websocketRetentionMs ?? 24 * 3_600_000,
    };
    this.poller = new Poller(async () => (await this.runOnce()).claimed, this.options.pollMs);
  }

  /**
   * Moves requested subscriptions to active (R4: the server sets it once it has checked them;
   * the checks ran when the Subscription was written).
   * @returns how many were activated
   */
  async activate(): Promise<number> {
    let n = 0;
    for (const id of await findRequestedSubscriptions(this.db, 50)) {
      if (await this.setStatus(id, 'requested', 'active', undefined)) {
        n++;
      }
    }
    return n;
  }

  /** Changes a Subscription's status through the repository (a new version), if it still has `from`. */
  private async setStatus(id: string, from: Subscription['status'], to: Subscription['status'], error: string | undefined): Promise<boolean> {
    const repo = this.service.repo;
    try {
      const stored = await repo.read('Subscription', id);
      const s = JSON.parse(stored.content) as Subscription;
      if (s.status !== from) {
        return false;
      }
      const next: Subscription = { ...s, status: to };
      delete next.error;
      if (error !== undefined) {
        next.error = error.slice(0, 1_000);
      }
      await repo.update(next, id, { ifMatch: stored.versionId });
      return true;
    } catch (err) {
      if (err instanceof OperationOutcomeError) {
        return false; // Changed or deleted meanwhile: the client's write wins.
      }
      throw err;
    }
  }

  /**
   * One pass: activate requested subscriptions, drop websocket notifications kept too long, then
   * claim and deliver, each subscription's run in order. After a failure the rest of that run is
   * given back unattempted, so nothing overtakes the failed notification.
   * @returns counts
   */
  async runOnce(): Promise<DispatchResult> {
    await this.activate();
    await expireWebsocketNotifications(this.db, this.options.websocketRetentionMs);
    const token = `${this.options.workerId}:${randomUUID()}`;
    const claims: Claim[] = (await claimNotifications(this.db, token, this.options.batchSize, this.options.runLength, this.options.leaseMs, this.service.boundSubscriptions())).map((c) => ({ ...c, token }));
    const counts = { claimed: claims.length, delivered: 0, failed: 0, dead: 0, lost: 0, resent: 0 };
    const runs = new Map<string, Claim[]>();
    for (const c of claims) {
      runs.set(c.subscriptionId, [...(runs.get(c.subscriptionId) ?? []), c]);
    }
    const released: Claim[] = [];
    for (const run of runs.values()) {
      for (const [i, c] of run.entries()) {
        const outcome = await this.deliver(c);
        counts[outcome]++;
        if (outcome !== 'delivered') {
          released.push(...run.slice(i + 1));
          break;
        }
      }
    }
    if (released.length > 0) {
      await releaseRows(this.db, SUBSCRIPTION_OUTBOX, released.map((c) => c.id), token);
      counts.claimed -= released.length;
    }
    return counts;
  }

  /** Delivers one claimed notification and records what came of it. */
  private async deliver(c: Claim): Promise<Outcome> {
    if (c.attempts > this.options.maxAttempts) {
      return this.fail(c, `opgivet efter ${c.attempts - 1} forsøg uden afslutning (arbejderen stoppede undervejs)`, true);
    }
    const s = await findSubscription(this.db, c.subscriptionId);
    if (s === undefined || s.status !== 'active') {
      // Switched off or deleted after the claim: the write that did it ended the rest.
      return this.fail(c, 'abonnementet er ikke længere aktivt', true);
    }
    if (s.channel === 'websocket') {
      if (this.service.ping(s.id) === 0) {
        return this.fail(c, 'ingen websocket-klient er bundet til abonnementet', false);
      }
      return (await finishRow(this.db, SUBSCRIPTION_OUTBOX, c.id, c.token)) ? 'delivered' : 'lost';
    }
    const url = s.endpoint ?? '';
    let allowed: { host: string; allowed: boolean };
    try {
      allowed = await checkDeliveryHost(this.db, url);
    } catch {
      return this.fail(c, `ugyldigt endpoint: ${url}`, true);
    }
    if (!allowed.allowed) {
      return this.fail(c, `værten ${allowed.host} er ikke på listen over tilladte modtagere (${url})`, true);
    }
    // The POST may take up to the time limit: renew the lease first, so no other worker takes the row meanwhile.
    if (!(await renewRow(this.db, SUBSCRIPTION_OUTBOX, c.id, c.token, this.options.leaseMs))) {
      return 'lost';
    }
    const headers: Record<string, string> = {};
    for (const h of s.headers) {
      const at = h.indexOf(':');
      headers[h.slice(0, at).trim()] = h.slice(at + 1).trim();
    }
    const result = await postDelivery(url, c.payload ?? undefined, this.options.httpTimeoutMs, headers);
    if (c.payload !== null) {
      // The resource went to the owner's endpoint: audited before the row is finished, so a crash
      // between the two sends it again and audits that, rather than leaving a disclosure unrecorded.
      await this.service.auditDisclosure(s, c.resourceType, c.resourceId, result.kind === 'delivered', result.kind === 'delivered' ? undefined : result.reason);
    }
    switch (result.kind) {
      case 'delivered':
        return (await finishRow(this.db, SUBSCRIPTION_OUTBOX, c.id, c.token)) ? 'delivered' : 'lost';
      case 'retry':
        return this.fail(c, result.reason, false);
      case 'refused':
        return this.fail(c, result.reason, true);
      default:
        result satisfies never;
        return 'lost';
    }
  }

  /** Records a failed attempt; a dead letter puts the subscription into error. */
  private async fail(c: Claim, reason: string, deadNow: boolean): Promise<Outcome> {
    const dead = deadNow || c.attempts >= this.options.maxAttempts;
    const delay = backoffDelay(c.attempts, this.options.backoffMs, this.options.maxBackoffMs);
    if (!(await failRow(this.db, SUBSCRIPTION_OUTBOX, c.id, c.token, reason, delay, dead))) {
      return 'lost';
    }
    if (!dead) {
      return 'failed';
    }
    await this.setStatus(c.subscriptionId, 'active', 'error', `Notifikationen om ${c.resourceType}/${c.resourceId}/_history/${c.versionId} kunne ikke leveres: ${reason}`);
    return 'dead';
  }

  /**
   * Delivers until nothing is due (tests and the CLI; the server uses start()).
   * @param maxPasses - safety limit
   * @returns the totals
   */
  async drain(maxPasses = 1_000): Promise<DispatchResult> {
    const total = { claimed: 0, delivered: 0, failed: 0, dead: 0, lost: 0, resent: 0 };
    for (let i = 0; i < maxPasses; i++) {
      const r = await this.runOnce();
      if (r.claimed === 0) {
        break;
      }
      total.claimed += r.claimed;
      total.delivered += r.delivered;
      total.failed += r.failed;
      total.dead += r.dead;
      total.lost += r.lost;
    }
    return total;
  }

  /** Polls in the background until close(). */
  start(): void {
    this.poller.start();
  }

  /** Stops polling and waits for the current pass. */
  async close(): Promise<void> {
    await this.poller.close();
  }
}

/**
 * Sends a dead notification again (an operator's decision): its attempts start over. It is
 * delivered once its subscription is active again.
 * @param db - database
 * @param outboxId - the dead notification's id
 * @returns true when it was a dead letter
 */
export async function retryDeadNotification(db: Database, outboxId: number): Promise<boolean> {
  return retryDeadRow(db, SUBSCRIPTION_OUTBOX, outboxId);
}
