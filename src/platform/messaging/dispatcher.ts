import type { OutboxWorkerOptions } from '../outbox/poller.ts';
import { Poller, outboxWorkerDefaults } from '../outbox/poller.ts';
import { randomUUID } from 'node:crypto';
import type { Bundle, Endpoint } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../../db/index.ts';
import { parseDeliveryUrl, postMessage } from './http-delivery.ts';
import { ACKNOWLEDGEMENT_EVENT, AckError } from './message.ts';
import type { ClaimedDelivery, InboxRow, MessageRow, NewMessage, OutboxRow } from './messaging.store.ts';
import {
  claimDeliveries,
  failDelivery,
  findDeliveryHost,
  findDeliveryUrl,
  findInbox,
  findMessage,
  findMessageContent,
  findMessages,
  findOutbox,
  findResourceContent,
  finishDelivery,
  finishInboxDeliveries,
  insertAcknowledgements,
  insertInbox,
  insertMessage,
  insertOutbox,
  releaseDeliveries,
  renewLease,
  resendUnacknowledged,
  updateDeadLetterForRetry,
} from './messaging.store.ts';
import { endpointAccepts } from './service.ts';

/**
 * The outbox dispatcher: claims due deliveries (FOR UPDATE SKIP LOCKED, with a lease), delivers
 * each to the receiver's inbox in one transaction together with the acknowledgement back to the
 * sender, and retries failures with exponential backoff until they become dead letters. A
 * delivery by HTTP then waits for the receiving system's acknowledgement; its sweep resends it
 * with a new envelope id when none comes (at most twice). Any number of dispatchers may run
 * against one database, in one process or many.
 */

/** The outbox settings (OutboxWorkerOptions), and those of MedCom acknowledgements and runs. */
export interface DispatcherOptions extends OutboxWorkerOptions {
  /** How long a delivery by HTTP waits for the receiving system's acknowledgement before it is resent (MedCom: 30 min). */
  readonly ackTimeoutMs?: number;
  /** Most resends of a delivery without acknowledgement before it becomes a dead letter (MedCom: 2). */
  readonly maxResends?: number;
  /** Least time between two sweeps for overdue acknowledgements (default: a second, or the time limit if shorter). */
  readonly sweepMs?: number;
  /** Receivers whose runs are delivered at the same time within a pass (default 4); each run stays in order. */
  readonly parallelRuns?: number;
}

/** What one pass did. */
export interface DispatchResult {
  /** Claimed and attempted (rows given back unattempted after a failure are not counted). */
  readonly claimed: number;
  readonly delivered: number;
  /** Failed, to be retried. */
  readonly failed: number;
  /** Failed for the last time: now dead letters. */
  readonly dead: number;
  /** Claims taken over by another worker after the lease ran out: finished by that worker. */
  readonly lost: number;
  /** Deliveries queued again because their acknowledgement did not come (or came as transient-error). */
  readonly resent: number;
}

/** A claimed delivery and the claim's token. */
export interface Claim extends ClaimedDelivery {
  readonly token: string;
}

type Outcome = 'delivered' | 'failed' | 'dead' | 'lost';

/** A delivery the receiver cannot take now (retryable; a dead letter after the last attempt). */
class DeliveryRefused extends Error {}

/** A delivery the receiver will never take (a 4xx answer, a host off the allow-list): a dead letter at once. */
class DeliveryRejected extends Error {}

export class MessageDispatcher {
  private readonly db: Database;
  private readonly options: Required<DispatcherOptions>;
  private lastSweep = 0;
  private readonly poller: Poller;

  constructor(db: Database, options: DispatcherOptions = {}) {
    this.db = db;
    this.options = {
      ...outboxWorkerDefaults(options, 'dispatcher'),
      // A receiver of many messages (a hospital taking every acknowledgement of its messages)
      // keeps up only if a pass delivers more than a few of its messages: up to 100, in one transaction.
      runLength: options.runLength ?? 100,
      ackTimeoutMs: options.ackTimeoutMs ?? 30 * 60_000,
      maxResends: options.maxResends ?? 2,
      sweepMs: options.sweepMs ?? Math.min(1_000, options.ackTimeoutMs ?? 1_000),
      parallelRuns: Math.max(1, options.parallelRuns ?? 4),
    };
    this.poller = new Poller(async () => (await this.runOnce()).claimed, this.options.pollMs);
  }

  /**
   * Claims due deliveries (one statement): for up to `batchSize` receivers, a run of up to
   * `runLength` of each receiver's oldest pending deliveries.
   * @param receivers - most receivers
   * @returns the claims, in outbox order
   */
  async claim(receivers = this.options.batchSize): Promise<Claim[]> {
    const token = `${this.options.workerId}:${randomUUID()}`;
    return (await claimDeliveries(this.db, token, receivers, this.options.runLength, this.options.leaseMs)).map((c) => ({ ...c, token }));
  }

  /**
   * Delivers one claimed delivery: into the receiver's inbox and, for the primary receiver of a
   * message that is not itself an acknowledgement, the acknowledgement into the outbox to the
   * sender, all in one transaction. Nothing happens if the claim was taken over meanwhile.
   * @param c - the claim
   * @returns what happened
   */
  async deliver(c: Claim): Promise<Outcome> {
    return this.deliverTo(c, await findDeliveryUrl(this.db, c.receiverOrg));
  }

  /** One delivery, to the inbox (url undefined) or by HTTP. */
  private async deliverTo(c: Claim, url: string | undefined): Promise<Outcome> {
    if (c.attempts > this.options.maxAttempts) {
      // Claimed again and again without finishing (workers dying on it): give up, keep the reason.
      const held = await failDelivery(this.db, c.id, c.token, `opgivet efter ${c.attempts - 1} forsøg uden afslutning (arbejderen stoppede undervejs)`, 0, true);
      return held ? 'dead' : 'lost';
    }
    try {
      if (url !== undefined) {
        return await this.deliverByHttp(c, url);
      }
      return await this.db.transaction((tx) => this.deliverIn(tx, c));
    } catch (err) {
      if (err instanceof DeliveryRejected) {
        return (await failDelivery(this.db, c.id, c.token, err.message, 0, true)) ? 'dead' : 'lost';
      }
      const reason = err instanceof DeliveryRefused ? err.message : `teknisk fejl: ${err instanceof Error ? err.message : 'ukendt'}`;
      const dead = c.attempts >= this.options.maxAttempts;
      const delay = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** Math.max(0, c.attempts - 1));
      const held = await failDelivery(this.db, c.id, c.token, reason, delay, dead);
      return !held ? 'lost' : dead ? 'dead' : 'failed';
    }
  }

  /**
   * Delivers one claimed delivery by POSTing the message to the receiver's system. The POST runs
   * outside any transaction; a 2xx answer is then recorded like an inbox delivery (with the
   * acknowledgement to the sender), in one transaction, if the claim still holds the row.
   */
  private async deliverByHttp(c: Claim, url: string): Promise<Outcome> {
    const msg = await findMessage(this.db, c.messageSeq);
    const content = await findMessageContent(this.db, c.messageSeq);
    if (msg === undefined || content === undefined) {
      throw new DeliveryRefused('meddelelsen findes ikke');
    }
    await this.checkEndpoint(this.db, c, msg);
    const { host } = parseDeliveryUrl(url);
    if (!(await findDeliveryHost(this.db, host))) {
      throw new DeliveryRejected(`værten ${host} er ikke på listen over tilladte modtagere (${url})`);
    }
    // The POST may take up to the time limit: renew the lease first, so no other worker takes the row meanwhile.
    if (!(await renewLease(this.db, c.id, c.token, this.options.leaseMs))) {
      return 'lost';
    }
    const result = await postMessage(url, c.envelopeId === null ? content : withEnvelope(content, c.envelopeId, new Date()), this.options.httpTimeoutMs);
    if (result.kind === 'retry') {
      throw new DeliveryRefused(result.reason);
    }
    if (result.kind === 'refused') {
      throw new DeliveryRejected(result.reason);
    }
    // The receiving system acknowledges, unless the platform already did on its behalf (or it is an acknowledgement).
    const receiverAcknowledges = msg.eventCode !== ACKNOWLEDGEMENT_EVENT && !(c.role === 'primary' && msg.ackContent !== null);
    return this.db.transaction(async (tx) => {
      if (!(await finishDelivery(tx, c.id, c.token, receiverAcknowledges ? this.options.ackTimeoutMs : undefined))) {
        return 'lost';
      }
      await this.queueAcknowledgement(tx, c, msg);
      return 'delivered';
    });
  }

  /**
   * Throws DeliveryRefused when the receiver's Endpoint no longer takes the message type.
   * @param read - Endpoints read already in this run (each is read once per run)
   */
  private async checkEndpoint(q: Queryable, c: Claim, msg: MessageRow, read = new Map<string, Endpoint | undefined>()): Promise<void> {
    if (c.endpointId === null) {
      return;
    }
    if (!read.has(c.endpointId)) {
      const content = await findResourceContent(q, 'Endpoint', c.endpointId);
      read.set(c.endpointId, content === undefined ? undefined : (JSON.parse(content) as Endpoint));
    }
    const ep = read.get(c.endpointId);
    if (ep === undefined || !endpointAccepts(ep, msg.eventCode)) {
      throw new DeliveryRefused(`${AckError.mailboxOutOfOperation}: modtagerens Endpoint/${c.endpointId} tager ikke imod ${msg.eventCode}`);
    }
  }

  /** For the primary receiver of a message that is not itself an acknowledgement: the acknowledgement into the outbox to the sender. */
  private async queueAcknowledgement(tx: Queryable, c: Claim, msg: MessageRow): Promise<void> {
    const ack = this.acknowledgementOf(c, msg);
    if (ack !== undefined) {
      const ackSeq = await insertMessage(tx, ack);
      if (ackSeq !== undefined) {
        await insertOutbox(tx, ackSeq, [{ receiverOrg: msg.senderOrg, endpointId: null, role: 'primary' }]);
      }
    }
  }

  /** The acknowledgement the platform wrote for a message at acceptance, to go to its sender once the primary receiver has it. */
  private acknowledgementOf(c: Claim, msg: MessageRow): NewMessage | undefined {
    if (c.role !== 'primary' || msg.eventCode === ACKNOWLEDGEMENT_EVENT || msg.ackContent === null) {
      return undefined;
    }
    const ack = JSON.parse(msg.ackContent) as Bundle;
    return {
      bundleId: ack.id ?? '',
      headerId: ack.entry?.[0]?.resource?.id ?? '',
      eventCode: ACKNOWLEDGEMENT_EVENT,
      senderOrg: c.receiverOrg,
      receiverOrg: msg.senderOrg,
      content: msg.ackContent,
      ackContent: null,
      acknowledges: msg.seq,
    };
  }

  /** One delivery inside the caller's transaction; throws DeliveryRefused when the receiver cannot take it. */
  private async deliverIn(tx: Queryable, c: Claim): Promise<Outcome> {
    const msg = await findMessage(tx, c.messageSeq);
    if (msg === undefined) {
      throw new DeliveryRefused('meddelelsen findes ikke');
    }
    await this.checkEndpoint(tx, c, msg);
    if (!(await finishDelivery(tx, c.id, c.token))) {
      return 'lost';
    }
    await insertInbox(tx, c.receiverOrg, c.messageSeq);
    await this.queueAcknowledgement(tx, c, msg);
    return 'delivered';
  }

  /**
   * Delivers a receiver's run to its inbox in one transaction and a handful of statements,
   * whatever its length: the messages read together, each Endpoint checked once, the rows
   * finished and the inbox filled by one statement, the acknowledgements queued by another.
   * @param run - claims of one receiver, in order
   * @returns the outcomes, or undefined when any delivery cannot be made: then nothing of the run
   *   was written and the caller delivers one by one, which records the failure
   */
  private async deliverRun(run: readonly Claim[]): Promise<Outcome[] | undefined> {
    if (run.some((c) => c.attempts > this.options.maxAttempts)) {
      return undefined;
    }
    try {
      return await this.db.transaction(async (tx) => {
        const messages = await findMessages(tx, run.map((c) => c.messageSeq));
        const endpoints = new Map<string, Endpoint | undefined>();
        for (const c of run) {
          const msg = messages.get(c.messageSeq);
          if (msg === undefined) {
            throw new DeliveryRefused('meddelelsen findes ikke');
          }
          await this.checkEndpoint(tx, c, msg, endpoints);
        }
        const finished = await finishInboxDeliveries(tx, run.map((c) => c.id), run[0]!.token, run[0]!.receiverOrg);
        const acks = run.filter((c) => finished.has(c.id)).flatMap((c) => {
          const ack = this.acknowledgementOf(c, messages.get(c.messageSeq)!);
          return ack === undefined ? [] : [ack];
        });
        await insertAcknowledgements(tx, acks);
        return run.map((c): Outcome => (finished.has(c.id) ? 'delivered' : 'lost'));
      });
    } catch {
      return undefined;
    }
  }

  /**
   * One pass: claim a batch and deliver it, each receiver's run in order. After a failure the
   * rest of that receiver's run is given back unattempted, so nothing overtakes the failed one.
   * @returns counts
   */
  async runOnce(): Promise<DispatchResult> {
    const swept = Date.now() - this.lastSweep >= this.options.sweepMs ? await this.sweep() : { resent: 0, dead: 0 };
    const claims = await this.claim();
    const counts = { claimed: claims.length, delivered: 0, failed: 0, dead: swept.dead, lost: 0, resent: swept.resent };
    const runs = new Map<string, Claim[]>();
    for (const c of claims) {
      const run = runs.get(c.receiverOrg) ?? [];
      run.push(c);
      runs.set(c.receiverOrg, run);
    }
    const released: Claim[] = [];
    const deliverReceiver = async (run: readonly Claim[]): Promise<void> => {
      // By HTTP, each message is its own request: delivered one by one, in order.
      const url = await findDeliveryUrl(this.db, run[0]!.receiverOrg);
      const together = url === undefined ? await this.deliverRun(run) : undefined;
      if (together !== undefined) {
        for (const outcome of together) {
          counts[outcome]++;
        }
        return;
      }
      // One by one: the first delivery that does not succeed stops the run.
      for (const [i, c] of run.entries()) {
        const outcome = await this.deliverTo(c, url);
        counts[outcome]++;
        if (outcome !== 'delivered') {
          released.push(...run.slice(i + 1));
          break;
        }
      }
    };
    // Receivers are independent: several runs at once, each in its own order.
    const queue = [...runs.values()];
    await Promise.all(
      Array.from({ length: Math.min(this.options.parallelRuns, queue.length) }, async () => {
        for (let run = queue.shift(); run !== undefined; run = queue.shift()) {
          await deliverReceiver(run);
        }
      }),
    );
    if (released.length > 0) {
      await releaseDeliveries(this.db, released.map((c) => c.id), released[0]!.token);
      counts.claimed -= released.length;
    }
    return counts;
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
      total.claimed += r.claimed;
      total.delivered += r.delivered;
      total.failed += r.failed;
      total.dead += r.dead;
      total.lost += r.lost;
      total.resent += r.resent;
      if (r.claimed === 0) {
        break;
      }
    }
    return total;
  }

  /**
   * The sweep for overdue acknowledgements (part of every pass, at most every `sweepMs`): a
   * delivery by HTTP whose receiving system has not acknowledged it within `ackTimeoutMs`, or
   * answered transient-error, is queued again with a new envelope id (Bundle.id and timestamp of
   * the POSTed copy; the MessageHeader.id stays), at most `maxResends` times. After the last
   * resend it becomes a dead letter with the reason. MedCom's reliable messaging rules.
   * @returns how many were queued again and how many became dead letters
   */
  async sweep(): Promise<{ resent: number; dead: number }> {
    this.lastSweep = Date.now();
    return this.db.transaction((tx) => resendUnacknowledged(tx, this.options.maxResends, this.options.ackTimeoutMs));
  }

  /** Polls in the background until close(). */
  start(): void {
    this.poller.start();
  }

  /** A message was queued in this process: deliver now rather than at the next poll. */
  wake(): void {
    this.poller.wake();
  }

  /** Stops polling and waits for the current pass. */
  async close(): Promise<void> {
    await this.poller.close();
  }
}

/**
 * The copy of a message POSTed on a resend: a new envelope (Bundle.id and Bundle.timestamp),
 * the same MessageHeader.id and content. The stored text came from JSON.stringify, so parsing
 * and serialising it again changes nothing else.
 * @param content - the stored message
 * @param envelopeId - the new Bundle.id
 * @param now - the new Bundle.timestamp
 * @returns the JSON text to POST
 */
function withEnvelope(content: string, envelopeId: string, now: Date): string {
  const bundle = JSON.parse(content) as Bundle;
  bundle.id = envelopeId;
  bundle.timestamp = now.toISOString();
  return JSON.stringify(bundle);
}

/**
 * Dead letters for operators, with the reason of the last attempt.
 * @param db - database
 * @param limit - most rows
 * @returns the dead letters, oldest first
 */
export async function listDeadLetters(db: Database, limit = 100): Promise<OutboxRow[]> {
  return findOutbox(db, 'dead', limit);
}

/**
 * Sends a dead letter again (an operator's decision): its attempts start over.
 * @param db - database
 * @param outboxId - the dead letter's id
 * @returns true when it was a dead letter
 */
export async function retryDeadLetter(db: Database, outboxId: number): Promise<boolean> {
  return updateDeadLetterForRetry(db, outboxId);
}

/**
 * An organisation's inbox, in delivery order.
 * @param db - database
 * @param organizationId - the receiving Organization id
 * @param options - paging: entries after `afterId`, at most `limit`
 * @returns the entries
 */
export async function readInbox(db: Database, organizationId: string, options: { afterId?: number; limit?: number } = {}): Promise<InboxRow[]> {
  return findInbox(db, organizationId, options.afterId ?? 0, Math.min(options.limit ?? 100, 1_000));
}
