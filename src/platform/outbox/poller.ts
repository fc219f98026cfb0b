import { randomUUID } from 'node:crypto';

/**
 * The background loop of an outbox dispatcher: runs a pass, starts the next one at once when the
 * pass claimed work and after `pollMs` when it found none, until closed. A failed pass counts as
 * idle (the dispatcher records its errors on the rows).
 */
export class Poller {
  private readonly pass: () => Promise<number>;
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private started = false;
  private stopped = false;
  /** Work arrived while a pass ran: the next pass starts at once. */
  private woken = false;

  /**
   * @param pass - one pass; resolves to how many rows it claimed
   * @param pollMs - wait after an idle pass
   */
  constructor(pass: () => Promise<number>, pollMs: number) {
    this.pass = pass;
    this.pollMs = pollMs;
  }

  /** Polls in the background until close(). */
  start(): void {
    this.started = true;
    this.loop();
  }

  /**
   * New work was queued in this process: an idle loop runs a pass now instead of after its wait,
   * and a running pass is followed at once by another. (Work queued by other processes is found
   * by the next poll.)
   */
  wake(): void {
    if (!this.started || this.stopped) {
      return;
    }
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.loop();
    } else {
      this.woken = true;
    }
  }

  private loop(): void {
    if (this.stopped) {
      return;
    }
    this.woken = false;
    const run = this.pass().catch(() => 0);
    this.running = run;
    void run.then((claimed) => {
      if (!this.stopped) {
        this.timer = setTimeout(
          () => {
            this.timer = undefined;
            this.loop();
          },
          claimed > 0 || this.woken ? 0 : this.pollMs,
        );
        this.timer.unref();
      }
    });
  }

  /** Stops polling and waits for the current pass. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    await this.running;
  }
}

/** The settings every outbox dispatcher has (MedCom deliveries, Subscription notifications). */
export interface OutboxWorkerOptions {
  /** Names this worker in claims (a random suffix keeps each claim unique). */
  readonly workerId?: string;
  /** How long a claim holds a row; a crashed worker's rows are claimed again after it. */
  readonly leaseMs?: number;
  /** Most queues (receivers, subscriptions) per claim. */
  readonly batchSize?: number;
  /** Most rows per queue per claim, delivered in order by one worker. */
  readonly runLength?: number;
  /** Attempts before a row becomes a dead letter. */
  readonly maxAttempts?: number;
  /** Wait after the first failed attempt; doubled after each further one. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Pause between polls when there was nothing to do. */
  readonly pollMs?: number;
  /** Time limit of one HTTP delivery (default 10 s, at most half the lease). */
  readonly httpTimeoutMs?: number;
}

/**
 * The defaults of an outbox dispatcher: 60 s leases, 50 queues and runs of 20 per claim,
 * 10 attempts with backoff from 1 s doubling to 15 min, polling every second, and an HTTP time
 * limit of 10 s but at most half the lease.
 * @param o - the options given
 * @param workerPrefix - prefix of the generated worker id
 * @returns every setting
 */
export function outboxWorkerDefaults(o: OutboxWorkerOptions, workerPrefix: string): Required<OutboxWorkerOptions> {
  const leaseMs = o.leaseMs ?? 60_000;
  return {
    workerId: o.workerId ?? `${workerPrefix}-${randomUUID()}`,
    leaseMs,
    batchSize: o.batchSize ?? 50,
    runLength: o.runLength ?? 20,
    maxAttempts: o.maxAttempts ?? 10,
    backoffMs: o.backoffMs ?? 1_000,
    maxBackoffMs: o.maxBackoffMs ?? 15 * 60_000,
    pollMs: o.pollMs ?? 1_000,
    httpTimeoutMs: Math.max(1, Math.min(o.httpTimeoutMs ?? 10_000, Math.floor(leaseMs / 2))),
  };
}
