import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import type { AccessGuard, AccessOp, Bind } from '../fhir/access.ts';
import { breakGlassAmong } from './access.store.ts';
import type { AccessPolicy } from './policy.ts';
import type { Principal } from './principal.ts';

/**
 * One request's access guard: the policy bound to one principal, plus the bookkeeping that
 * gives every access exactly one audit record. A write's record is written in the write's own
 * transaction (committed together or not at all); everything else — reads, searches, refusals,
 * failed writes — is recorded when the request finishes, before the response leaves.
 */

/** One access as the audit trail receives it. */
export interface AccessAuditEvent {
  /** read, vread, search-type, history-instance, create, update, patch, delete, operation, transaction, batch … */
  readonly interaction: string;
  readonly action: 'C' | 'R' | 'U' | 'D' | 'E';
  /** FHIR AuditEvent outcome: 0 success, 4 minor failure (refused, bad request), 8 serious failure. */
  readonly outcome: 0 | 4 | 8 | 12;
  readonly outcomeText?: string;
  readonly principal: Principal | undefined;
  /** Ids of the patients whose data was disclosed or asked for. */
  readonly patients: readonly string[];
  /** `Type/id` of the resources touched. */
  readonly resources: readonly string[];
  /** The query parameters (never results), e.g. `code=1234&patient=Patient/1`. */
  readonly query: string | undefined;
  readonly requestId: string;
  readonly sourceAddress: string | undefined;
  /** True when a running værdispring gave access to any of the patients. */
  readonly breakGlass: boolean;
}

/** Where audit events go (the audit service). With `q` the event joins that transaction. */
export interface AuditSink {
  record(event: AccessAuditEvent, q?: Queryable): Promise<void>;
}

/** What the HTTP layer knows about the request. */
export interface RequestFacts {
  readonly interaction: string;
  readonly action: AccessAuditEvent['action'];
  readonly query: string | undefined;
  readonly requestId: string;
  readonly sourceAddress: string | undefined;
}

/** Most resource refs kept per audit record (the patients are always all kept). */
const MAX_RESOURCES = 200;

export class RequestGuard implements AccessGuard {
  readonly principal: Principal;
  private readonly policy: AccessPolicy;
  private readonly sink: AuditSink;
  private facts: RequestFacts;
  private pendingPatients = new Set<string>();
  private pendingResources = new Set<string>();
  private inFlight: { patients: Set<string>; resources: Set<string> } | undefined;
  private records = 0;

  constructor(policy: AccessPolicy, principal: Principal, sink: AuditSink, facts: RequestFacts) {
    this.policy = policy;
    this.principal = principal;
    this.sink = sink;
    this.facts = facts;
  }

  /**
   * Renames what the request does (an operation that is a distinct audited event, e.g. værdispring).
   * @param interaction - the audit interaction
   * @param action - the audit action
   */
  retitle(interaction: string, action: AccessAuditEvent['action']): void {
    this.facts = { ...this.facts, interaction, action };
  }

  permit(op: AccessOp, resourceType: string): void {
    this.policy.permit(this.principal, op, resourceType);
  }

  readFilter(alias: string, bind: Bind): string {
    return this.policy.readFilter(this.principal, alias, bind);
  }

  async checkWrite(q: Queryable, op: 'c' | 'u' | 'd', resourceType: string, before: readonly string[] | undefined, after: readonly string[] | undefined, resource?: Resource): Promise<void> {
    await this.policy.checkWrite(this.principal, q, op, resourceType, before, after, resource);
  }

  touched(resourceType: string, id: string, compartments: readonly string[]): void {
    for (const c of compartments) {
      if (c.startsWith('Patient/')) {
        this.pendingPatients.add(c.slice(8));
      }
    }
    if (this.pendingResources.size < MAX_RESOURCES) {
      this.pendingResources.add(`${resourceType}/${id}`);
    }
  }

  async beforeCommit(tx: Queryable): Promise<void> {
    if (this.pendingPatients.size === 0 && this.pendingResources.size === 0) {
      return;
    }
    const patients = this.pendingPatients;
    const resources = this.pendingResources;
    this.pendingPatients = new Set();
    this.pendingResources = new Set();
    this.inFlight = { patients, resources };
    await this.sink.record(await this.event(0, undefined, patients, resources, tx), tx);
    this.records++;
  }

  afterRollback(): void {
    if (this.inFlight !== undefined) {
      for (const p of this.inFlight.patients) {
        this.pendingPatients.add(p);
      }
      for (const r of this.inFlight.resources) {
        this.pendingResources.add(r);
      }
      this.inFlight = undefined;
      this.records--;
    }
  }

  /**
   * Records what is not yet recorded, with the request's outcome; resolves after the record is
   * durable (the caller sends the response only then).
   * @param status - the HTTP status of the response
   * @param outcomeText - the error text, for failures
   */
  async finish(status: number, outcomeText?: string): Promise<void> {
    this.inFlight = undefined;
    if (this.records > 0 && this.pendingPatients.size === 0 && this.pendingResources.size === 0) {
      return;
    }
    const outcome = status < 400 ? 0 : status < 500 ? 4 : 8;
    await this.sink.record(await this.event(outcome, outcomeText, this.pendingPatients, this.pendingResources, this.policy.platform.db));
    this.records++;
    this.pendingPatients = new Set();
    this.pendingResources = new Set();
  }

  private async event(outcome: AccessAuditEvent['outcome'], outcomeText: string | undefined, patients: ReadonlySet<string>, resources: ReadonlySet<string>, q: Queryable): Promise<AccessAuditEvent> {
    let breakGlass = false;
    if (this.principal.kind === 'professional' && patients.size > 0) {
      breakGlass = (await breakGlassAmong(q, this.principal.actorRef, [...patients].map((p) => `Patient/${p}`))).length > 0;
    }
    return {
      ...this.facts,
      outcome,
      ...(outcomeText === undefined ? {} : { outcomeText }),
      principal: this.principal,
      patients: [...patients],
      resources: [...resources],
      breakGlass,
    };
  }
}
