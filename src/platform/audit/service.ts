import { randomUUID } from 'node:crypto';
import type { AuditEvent, Bundle, BundleLink } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../../db/index.ts';
import type { Principal } from '../access/principal.ts';
import { badRequest, OperationOutcomeError } from '../fhir/outcome.ts';
import { toAuditEvent } from './render.ts';
import type { AuditFilter, AuditInsert, AuditRow, SecurityAlertRow } from './store.ts';
import {
  deleteExpiredBatch,
  findAuditEvent,
  findAuditEvents,
  findSecurityAlerts,
  insertAuditBatch,
  updateAlertAcknowledged,
} from './store.ts';

export type { AuditRow, SecurityAlertRow } from './store.ts';
export { toAuditEvent } from './render.ts';

/**
 * The audit trail and the citizen's access log (Min Log).
 *
 * Guarantees: `record(e, tx)` writes in the caller's transaction, so a committed write has its
 * audit row and a rolled-back one has none. `record(e)` (reads, searches, failures) resolves only
 * after the event is committed and rejects when it could not be, so the caller can refuse to
 * send data that has no audit record. Events are group-committed: everything that arrives while
 * a batch is being written goes into the next batch, one statement per batch.
 */

/** FHIR AuditEvent.action. */
export const AuditAction = { create: 'C', read: 'R', update: 'U', delete: 'D', execute: 'E' } as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

/** FHIR AuditEvent.outcome: success, minor failure, serious failure, major failure. */
export const AuditOutcome = { success: 0, minorFailure: 4, seriousFailure: 8, majorFailure: 12 } as const;
export type AuditOutcome = (typeof AuditOutcome)[keyof typeof AuditOutcome];

/** What was done: a FHIR restful-interaction code, or one of the platform's own events. */
export const AUDIT_INTERACTIONS = [
  'read',
  'vread',
  'search-type',
  'search-system',
  'search-compartment',
  'history-instance',
  'history-type',
  'history-system',
  'create',
  'update',
  'patch',
  'delete',
  'operation',
  'transaction',
  'batch',
  'capabilities',
  'break-glass',
  'break-glass-end',
  'login',
  'logout',
  // A Subscription notification that sent a resource to the subscriber's endpoint.
  'notification',
] as const;
export type AuditInteraction = (typeof AUDIT_INTERACTIONS)[number];

export type AgentKind = 'citizen' | 'professional' | 'system' | 'anonymous';

/** Who acted, on behalf of which organisation, through which client and token. */
export interface AuditAgent {
  readonly kind: AgentKind;
  /** `Patient/x`, `Practitioner/x`, or `Device/<client_id>` for systems. */
  readonly ref?: string;
  readonly name?: string;
  /** Authorisation id of a professional, else the token's sub. */
  readonly identifier?: string;
  readonly organizationRef?: string;
  readonly organizationName?: string;
  readonly clientId?: string;
  readonly tokenJti?: string;
}

/** One event to record. */
export interface AuditInput {
  readonly action: AuditAction;
  readonly interaction: AuditInteraction;
  /** Defaults to 0 (success). */
  readonly outcome?: AuditOutcome;
  readonly outcomeText?: string;
  readonly agent: AuditAgent;
  /** v3 ActReason code (TREAT, …); break-glass events are always BTG. */
  readonly purpose?: string;
  /** The access used break-glass (værdispring): raises a security alert per patient. */
  readonly breakGlass?: boolean;
  readonly requestId?: string;
  readonly sourceAddress?: string;
  /** Every patient (plain id) whose data the access touched or attempted to touch. */
  readonly patientIds?: readonly string[];
  /** References of the resources touched (`Observation/1` …). */
  readonly resourceRefs?: readonly string[];
  /** Only the query parameters (e.g. `Observation?patient=Patient/1&code=…`), never results. */
  readonly query?: string;
  /** Hide the entry from the citizen's log (audit restriction level NotCitizen). */
  readonly hiddenFromCitizen?: boolean;
  /** When it happened; defaults to now. */
  readonly recorded?: Date;
}

/** Tuning of the group commit and the retention job. */
export interface AuditLogOptions {
  /** How long the first event of a batch waits for others, in ms (0: until the next turn of the event loop). */
  readonly windowMs?: number;
  /** Most events in one batch; a full batch is written at once. */
  readonly maxBatch?: number;
  /** Batches written at the same time (PostgreSQL pool connections used by the audit log). */
  readonly maxInFlight?: number;
  /** false: every event is its own INSERT (for comparison in the benchmark). */
  readonly groupCommit?: boolean;
  /** Events deleted per retention statement. */
  readonly purgeBatchSize?: number;
}

/** A Min Log page. */
export interface AuditPage {
  readonly rows: AuditRow[];
  readonly total: number;
}

/** Who is searching the audit log through the FHIR API. */
export type AuditViewer = 'citizen' | 'operator';

/** How long entries are kept and shown: two years (Min Log; older entries are deleted by law). */
export const RETENTION_YEARS = 2;

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_COUNT = 20;
const MAX_COUNT = 200;
const INTERACTION_SET: ReadonlySet<string> = new Set(AUDIT_INTERACTIONS);
const ACTIONS: ReadonlySet<string> = new Set(Object.values(AuditAction));
const OUTCOMES: ReadonlySet<number> = new Set(Object.values(AuditOutcome));
const AGENT_KINDS: ReadonlySet<string> = new Set(['citizen', 'professional', 'system', 'anonymous']);

interface Waiter {
  readonly insert: AuditInsert;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The audit service. One per process, sharing the platform's database.
 */
export class AuditLog {
  readonly #db: Database;
  readonly #windowMs: number;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #groupCommit: boolean;
  readonly #purgeBatchSize: number;
  #pending: Waiter[] = [];
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #inFlight = 0;
  readonly #flushes = new Set<Promise<void>>();
  #retentionTimer: NodeJS.Timeout | undefined;
  #retentionRun: Promise<unknown> | undefined;
  #closed = false;
  #batches = 0;
  #batchedEvents = 0;
  #largestBatch = 0;

  /**
   * @param db - the platform database
   * @param options - group commit and retention tuning
   */
  constructor(db: Database, options: AuditLogOptions = {}) {
    this.#db = db;
    this.#windowMs = options.windowMs ?? 0;
    this.#maxBatch = Math.max(1, options.maxBatch ?? 200);
    // PGlite has one connection: parallel batches would only queue behind each other.
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? (db.dialect === 'pglite' ? 1 : 2));
    this.#groupCommit = options.groupCommit ?? true;
    this.#purgeBatchSize = options.purgeBatchSize ?? 5000;
  }

  /**
   * Records one event.
   * @param event - what happened
   * @param q - the open transaction of a write: the event is inserted there and shares its fate.
   *   Without it the event is group-committed. On PGlite, never call without `q` while holding a
   *   transaction open (one connection: the batch would wait for it).
   * @returns the event id, once the event is committed (or written into `q`)
   */
  async record(event: AuditInput, q?: Queryable): Promise<string> {
    const insert = toInsert(event);
    if (q !== undefined) {
      await insertAuditBatch(q, [insert]);
      return insert.row.id;
    }
    if (this.#closed) {
      throw new Error('The audit log is closed');
    }
    if (!this.#groupCommit) {
      await insertAuditBatch(this.#db, [insert]);
      return insert.row.id;
    }
    await new Promise<void>((resolve, reject) => {
      this.#pending.push({ insert, resolve, reject });
      this.#schedule();
    });
    return insert.row.id;
  }

  #schedule(): void {
    if (this.#pending.length >= this.#maxBatch && this.#inFlight < this.#maxInFlight) {
      this.#clearTimer();
      this.#flush();
      return;
    }
    if (this.#timer !== undefined || this.#inFlight >= this.#maxInFlight) {
      // A running batch picks up the waiting events when it finishes.
      return;
    }
    const fire = (): void => {
      this.#timer = undefined;
      if (this.#inFlight < this.#maxInFlight && this.#pending.length > 0) {
        this.#flush();
      }
    };
    this.#timer = this.#windowMs > 0 ? setTimeout(fire, this.#windowMs) : setImmediate(fire);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
      this.#timer = undefined;
    }
  }

  #flush(): void {
    const batch = this.#pending.splice(0, this.#maxBatch);
    this.#inFlight++;
    this.#batches++;
    this.#batchedEvents += batch.length;
    this.#largestBatch = Math.max(this.#largestBatch, batch.length);
    const run = insertAuditBatch(
      this.#db,
      batch.map((w) => w.insert),
    ).then(
      () => {
        for (const w of batch) {
          w.resolve();
        }
      },
      (err: unknown) => {
        for (const w of batch) {
          w.reject(err);
        }
      },
    );
    const done = run.finally(() => {
      this.#inFlight--;
      this.#flushes.delete(done);
      if (this.#pending.length > 0) {
        // These events already waited for a batch: write them now.
        this.#clearTimer();
        if (this.#inFlight < this.#maxInFlight) {
          this.#flush();
        }
      }
    });
    this.#flushes.add(done);
  }

  /**
   * Group-commit figures since start (for monitoring and the benchmark).
   * @returns batches written, events in them, and the largest batch
   */
  stats(): { batches: number; events: number; largestBatch: number } {
    return { batches: this.#batches, events: this.#batchedEvents, largestBatch: this.#largestBatch };
  }

  /**
   * Writes every pending event and waits for the batches in flight.
   * @returns when nothing is pending
   */
  async flush(): Promise<void> {
    while (this.#pending.length > 0 || this.#flushes.size > 0) {
      if (this.#pending.length > 0 && this.#inFlight < this.#maxInFlight) {
        this.#clearTimer();
        this.#flush();
      }
      await Promise.race(this.#flushes);
    }
  }

  /**
   * The citizen's access log (Min Log): look-ups of the patient's data by health professionals and
   * systems, newest first, at most two years back. Look-ups by citizens (the patient's own, and
   * those of proxies acting for them) and entries restricted from the citizen are not shown.
   * @param patientId - the patient (plain id)
   * @param opts - time window and paging; `includeOwn` may only be false
   * @returns the page of rows and the total
   */
  async searchForPatient(
    patientId: string,
    opts: { since?: Date; until?: Date; count: number; offset: number; includeOwn?: false },
  ): Promise<AuditPage> {
    const from = [retentionCutoff(new Date())];
    if (opts.since !== undefined) {
      from.push(opts.since);
    }
    return findAuditEvents(this.#db, {
      patientId,
      citizenVisibleOnly: true,
      from,
      before: opts.until !== undefined ? [opts.until] : [],
      limit: clampCount(opts.count),
      offset: Math.max(0, Math.trunc(opts.offset)),
    });
  }

  /**
   * `GET /fhir/AuditEvent?…`: supports `patient`, `date` (ge/le/gt/lt/eq), `agent`, `_count`,
   * `_offset` and `_sort=-date`; anything else is a 400 naming the parameter. Citizens must name a
   * patient (the caller has checked they may see that patient's log) and get the Min Log view.
   * @param params - the decoded query pairs
   * @param opts - the base URL for links (`…/fhir`) and who is asking
   * @returns a searchset Bundle
   */
  async searchByParams(params: readonly (readonly [string, string])[], opts: { baseUrl: string; viewer: AuditViewer }): Promise<Bundle<AuditEvent>> {
    const parsed = parseAuditSearch(params, opts.viewer);
    const { rows, total } = await findAuditEvents(this.#db, parsed.filter);
    const onlyPatient = opts.viewer === 'citizen' ? parsed.filter.patientId : undefined;
    const base = opts.baseUrl.replace(/\/+$/, '');
    const link = (offset: number): string => {
      const q = new URLSearchParams(parsed.kept);
      q.set('_count', String(parsed.filter.limit));
      q.set('_offset', String(offset));
      return `${base}/AuditEvent?${q.toString()}`;
    };
    const { limit, offset } = parsed.filter;
    const links: BundleLink[] = [{ relation: 'self', url: link(offset) }, { relation: 'first', url: link(0) }];
    if (limit > 0 && offset + limit < total) {
      links.push({ relation: 'next', url: link(offset + limit) });
    }
    if (offset > 0 && limit > 0) {
      links.push({ relation: 'previous', url: link(Math.max(0, offset - limit)) });
    }
    if (limit > 0 && total > 0) {
      links.push({ relation: 'last', url: link(Math.floor((total - 1) / limit) * limit) });
    }
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      total,
      link: links,
      entry: rows.map((r) => ({
        fullUrl: `${base}/AuditEvent/${r.id}`,
        resource: toAuditEvent(r, { onlyPatient }),
        search: { mode: 'match' },
      })),
    };
  }

  /**
   * Reads one event (operators; citizens read through the search).
   * @param id - the event id
   * @returns the AuditEvent, or undefined when there is none (or it has expired)
   */
  async read(id: string): Promise<AuditEvent | undefined> {
    const row = await findAuditEvent(this.#db, id);
    if (row === undefined || row.recorded < retentionCutoff(new Date())) {
      return undefined;
    }
    return toAuditEvent(row);
  }

  /**
   * Deletes events (with their patient rows and alerts) recorded more than two years before `now`.
   * @param now - the current time
   * @returns the number of events deleted
   */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    const cutoff = retentionCutoff(now);
    let total = 0;
    for (;;) {
      const n = await deleteExpiredBatch(this.#db, cutoff, this.#purgeBatchSize);
      total += n;
      if (n < this.#purgeBatchSize) {
        return total;
      }
    }
  }

  /**
   * Runs purgeExpired now and then once a day; close() stops it. The timer does not keep the
   * process alive.
   * @param onError - told when a run fails (the next run retries)
   */
  startRetentionJob(onError: (err: unknown) => void = () => undefined): void {
    if (this.#retentionTimer !== undefined || this.#closed) {
      return;
    }
    const run = (): void => {
      if (this.#retentionRun !== undefined) {
        return;
      }
      this.#retentionRun = this.purgeExpired()
        .catch(onError)
        .finally(() => {
          this.#retentionRun = undefined;
        });
    };
    this.#retentionTimer = setInterval(run, DAY_MS);
    this.#retentionTimer.unref();
    run();
  }

  /**
   * Lists security alerts, newest first.
   * @param opts - `unacknowledged` for the open ones only; `limit` (default 100)
   * @returns the alerts
   */
  async listAlerts(opts: { unacknowledged?: boolean; limit?: number } = {}): Promise<SecurityAlertRow[]> {
    return findSecurityAlerts(this.#db, opts.unacknowledged === true, Math.max(1, Math.min(opts.limit ?? 100, 1000)));
  }

  /**
   * Acknowledges an alert.
   * @param id - the alert id
   * @param by - who acknowledges it (a reference), if known
   * @returns the alert, or undefined when there is none with that id
   */
  async acknowledgeAlert(id: string, by?: string): Promise<SecurityAlertRow | undefined> {
    return updateAlertAcknowledged(this.#db, id, new Date(), by ?? null);
  }

  /**
   * Stops the retention job and writes every pending event. record() without a transaction
   * rejects afterwards. The database is left open (it belongs to the caller).
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retentionTimer !== undefined) {
      clearInterval(this.#retentionTimer);
      this.#retentionTimer = undefined;
    }
    await this.flush();
    await this.#retentionRun;
  }
}

/**
 * The agent of an event from the caller's principal (anonymous without one).
 * @param principal - the authenticated caller, if any
 * @param organizationName - display name of the principal's organisation, if the caller knows it
 * @returns the audit agent
 */
export function agentFromPrincipal(principal: Principal | undefined, organizationName?: string): AuditAgent {
  if (principal === undefined) {
    return { kind: 'anonymous' };
  }
  const c = principal.claims;
  return {
    kind: principal.kind,
    ref: principal.actorRef,
    name: principal.displayName,
    identifier: c.dsd_authorisation_id ?? c.sub,
    ...(principal.organizationRef !== undefined ? { organizationRef: principal.organizationRef } : {}),
    ...(organizationName !== undefined ? { organizationName } : {}),
    clientId: c.client_id,
    tokenJti: c.jti,
  };
}

/**
 * The AuditEvent.action of an interaction (BALP: searches, operations and bundles are Execute).
 * @param interaction - the interaction
 * @returns the action code
 */
export function actionOf(interaction: AuditInteraction): AuditAction {
  switch (interaction) {
    case 'read':
    case 'vread':
    case 'history-instance':
    case 'notification':
      return 'R';
    case 'create':
      return 'C';
    case 'update':
    case 'patch':
      return 'U';
    case 'delete':
      return 'D';
    default:
      return 'E';
  }
}

/**
 * The oldest instant still kept and shown: two years before `now`.
 * @param now - the current time
 * @returns the cutoff
 */
export function retentionCutoff(now: Date): Date {
  const d = new Date(now.getTime());
  d.setUTCFullYear(d.getUTCFullYear() - RETENTION_YEARS);
  return d;
}

function toInsert(e: AuditInput): AuditInsert {
  if (!ACTIONS.has(e.action)) {
    throw new TypeError(`Unknown audit action ${JSON.stringify(e.action)}`);
  }
  if (!INTERACTION_SET.has(e.interaction)) {
    throw new TypeError(`Unknown audit interaction ${JSON.stringify(e.interaction)}`);
  }
  const outcome = e.outcome ?? 0;
  if (!OUTCOMES.has(outcome)) {
    throw new TypeError(`Unknown audit outcome ${JSON.stringify(outcome)}`);
  }
  if (!AGENT_KINDS.has(e.agent.kind)) {
    throw new TypeError(`Unknown audit agent kind ${JSON.stringify(e.agent.kind)}`);
  }
  const recorded = e.recorded ?? new Date();
  if (Number.isNaN(recorded.getTime())) {
    throw new TypeError('Invalid audit time');
  }
  const patientIds = [...new Set(e.patientIds ?? [])].map((p) => (p.startsWith('Patient/') ? p.slice(8) : p));
  if (patientIds.some((p) => p === '')) {
    throw new TypeError('Empty patient id in audit event');
  }
  const breakGlass = e.breakGlass === true || e.interaction === 'break-glass';
  const row: AuditRow = {
    id: uuidV7(recorded),
    recorded,
    action: e.action,
    interaction: e.interaction,
    outcome,
    outcomeText: storable(e.outcomeText),
    agentKind: e.agent.kind,
    agentRef: e.agent.ref ?? null,
    agentName: e.agent.name ?? null,
    agentIdentifier: e.agent.identifier ?? null,
    organizationRef: e.agent.organizationRef ?? null,
    organizationName: e.agent.organizationName ?? null,
    clientId: e.agent.clientId ?? null,
    tokenJti: e.agent.tokenJti ?? null,
    purpose: breakGlass ? 'BTG' : (e.purpose ?? null),
    breakGlass,
    requestId: e.requestId ?? null,
    sourceAddress: e.sourceAddress ?? null,
    patientIds: [...new Set(patientIds)],
    resourceRefs: (e.resourceRefs ?? []).map((r) => storable(r) ?? ''),
    query: storable(e.query),
  };
  // Min Log shows look-ups by health professionals and systems; a citizen's own look-ups and
  // those made as a proxy (parent, power of attorney) are not shown.
  const citizenVisible = e.agent.kind !== 'citizen' && e.hiddenFromCitizen !== true;
  const alerts = e.interaction === 'break-glass' ? ['break-glass'] : [];
  return { row, citizenVisible, alerts };
}

/**
 * Text from a refused request as the database can store it: NUL and lone surrogates (which
 * PostgreSQL text cannot hold) become U+FFFD, so the refusal is still recorded.
 */
function storable(s: string | undefined): string | null {
  return s === undefined ? null : s.replace(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/**
 * A time-ordered UUID (RFC 9562 version 7): new events land at the right edge of the primary-key
 * index instead of at random pages, which keeps inserts cheap as the table grows.
 */
function uuidV7(at: Date): string {
  // randomUUID draws from a pooled random buffer (one syscall per many ids); its version-4 layout
  // already has the RFC 9562 variant bits, so the timestamp and version nibble are written over it.
  const r = randomUUID();
  const ms = Math.max(0, at.getTime()).toString(16).padStart(12, '0').slice(-12);
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${r.slice(15)}`;
}

function clampCount(n: number): number {
  if (!Number.isFinite(n)) {
    return DEFAULT_COUNT;
  }
  return Math.max(0, Math.min(MAX_COUNT, Math.trunc(n)));
}

const SEARCH_PARAMS = new Set(['patient', 'date', 'agent', '_count', '_offset', '_sort']);

interface ParsedSearch {
  readonly filter: AuditFilter;
  /** The parameters to repeat in paging links (without _count/_offset). */
  readonly kept: [string, string][];
}

function fail(text: string, param: string): never {
  throw new OperationOutcomeError(badRequest(text, [param]));
}

/**
 * Parses the query of an AuditEvent search.
 * @param params - the decoded query pairs
 * @param viewer - citizens must name a patient
 * @returns the filter and the parameters kept for links
 */
export function parseAuditSearch(params: readonly (readonly [string, string])[], viewer: AuditViewer): ParsedSearch {
  const from: Date[] = [retentionCutoff(new Date())];
  const before: Date[] = [];
  const kept: [string, string][] = [];
  let patientId: string | undefined;
  let agentRef: string | undefined;
  let limit = DEFAULT_COUNT;
  let offset = 0;
  for (const [name, value] of params) {
    if (!SEARCH_PARAMS.has(name)) {
      fail(`Unsupported search parameter for AuditEvent: ${name} (supported: patient, date, agent, _count, _offset, _sort=-date)`, name);
    }
    switch (name) {
      case 'patient': {
        if (patientId !== undefined) {
          fail('Only one patient parameter is supported', name);
        }
        const id = value.startsWith('Patient/') ? value.slice(8) : value;
        if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) {
          fail(`Invalid patient reference: ${value}`, name);
        }
        patientId = id;
        kept.push([name, `Patient/${id}`]);
        break;
      }
      case 'agent': {
        if (agentRef !== undefined || value === '' || value.includes(',')) {
          fail('Give one agent reference (e.g. Practitioner/123)', name);
        }
        agentRef = value;
        kept.push([name, value]);
        break;
      }
      case 'date': {
        const m = /^(eq|ge|le|gt|lt)?(.+)$/.exec(value);
        const range = m === null ? undefined : dateRange(m[2]!);
        if (m === null || range === undefined) {
          fail(`Invalid date: ${value} (use a FHIR date or dateTime with an optional ge, le, gt, lt or eq prefix)`, name);
        }
        const [start, end] = range;
        switch (m[1] ?? 'eq') {
          case 'eq':
            from.push(start);
            before.push(end);
            break;
          case 'ge':
            from.push(start);
            break;
          case 'gt':
            from.push(end);
            break;
          case 'le':
            before.push(end);
            break;
          case 'lt':
            before.push(start);
            break;
          default:
            break;
        }
        kept.push([name, value]);
        break;
      }
      case '_count': {
        if (!/^\d{1,6}$/.test(value)) {
          fail(`Invalid _count: ${value}`, name);
        }
        limit = clampCount(Number(value));
        break;
      }
      case '_offset': {
        if (!/^\d{1,9}$/.test(value)) {
          fail(`Invalid _offset: ${value}`, name);
        }
        offset = Number(value);
        break;
      }
      case '_sort': {
        if (value !== '-date') {
          fail(`Unsupported _sort for AuditEvent: ${value} (only -date, newest first)`, name);
        }
        kept.push([name, value]);
        break;
      }
      default:
        break;
    }
  }
  if (viewer === 'citizen' && patientId === undefined) {
    fail('The patient parameter is required', 'patient');
  }
  return {
    filter: {
      ...(patientId !== undefined ? { patientId, citizenVisibleOnly: viewer === 'citizen' } : {}),
      ...(agentRef !== undefined ? { agentRef } : {}),
      from,
      before,
      limit,
      offset,
    },
    kept,
  };
}

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The instants a FHIR date or dateTime stands for, as [start, end) (dates are UTC days).
 * See: https://hl7.org/fhir/R4/search.html#date
 */
function dateRange(text: string): [Date, Date] | undefined {
  const m = DATE_RE.exec(text);
  if (m === null) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  if (mo === undefined) {
    return [new Date(Date.UTC(year, 0, 1)), new Date(Date.UTC(year + 1, 0, 1))];
  }
  const month = Number(mo) - 1;
  if (month < 0 || month > 11) {
    return undefined;
  }
  if (d === undefined) {
    return [new Date(Date.UTC(year, month, 1)), new Date(Date.UTC(year, month + 1, 1))];
  }
  const day = Number(d);
  if (day < 1 || day > 31) {
    return undefined;
  }
  if (h === undefined) {
    const start = new Date(Date.UTC(year, month, day));
    if (start.getUTCDate() !== day) {
      return undefined;
    }
    return [start, new Date(start.getTime() + DAY_MS)];
  }
  if (tz === undefined) {
    // FHIR: a time must have a zone.
    return undefined;
  }
  const start = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${frac ?? ''}${tz}`);
  if (Number.isNaN(start.getTime())) {
    return undefined;
  }
  // The precision of the value decides the width of the range.
  const width = s === undefined ? 60_000 : frac === undefined ? 1000 : 1;
  return [start, new Date(start.getTime() + width)];
}
