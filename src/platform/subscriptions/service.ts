import type { CapabilityStatement, CapabilityStatementRestResource, Subscription } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import { RequestGuard } from '../access/guard.ts';
import type { AccessPolicy } from '../access/policy.ts';
import type { AccessTokenClaims, Principal } from '../access/principal.ts';
import type { AccessGuard, AccessOp, Bind } from '../fhir/access.ts';
import { OperationOutcomeError, badRequest, forbidden, notFound } from '../fhir/outcome.ts';
import type { ResourceChange, WriteHook } from '../fhir/platform.ts';
import type { FhirRepository } from '../fhir/repo.ts';
import { checkDeliveryHost } from '../messaging/index.ts';
import { checkSubscription, splitCriteria } from './criteria.ts';
import type { NewNotification, SubscriptionRow } from './subscription.store.ts';
import { deleteSubscription, discardNotifications, findActiveSubscriptions, findCompartments, findSubscription, insertNotifications, upsertSubscription } from './subscription.store.ts';

/**
 * FHIR R4 Subscriptions (docs/subscriptions.md). The after-write hook keeps the platform's view
 * of every Subscription resource and, for every other write, queues a notification for each
 * active subscription whose criteria the new version meets, in the write's transaction. Matching
 * runs the criteria through the platform's own search, restricted to the written ids and to what
 * the subscription's owner may read. Delivery is SubscriptionDispatcher's (dispatcher.ts).
 */

/** The R4 websocket channel's endpoint, below the FHIR base. */
export const WEBSOCKET_PATH = '$subscription-ws';

/** Something a notification can be sent to: a websocket connection. */
export interface NotificationSocket {
  send(text: string): void;
}

/**
 * The owner's access, for matching only: the same predicate the owner's own searches get, without
 * audit bookkeeping (a match discloses nothing until it is delivered) and without writing.
 */
class OwnerGuard implements AccessGuard {
  private readonly policy: AccessPolicy;
  private readonly principal: Principal;

  constructor(policy: AccessPolicy, principal: Principal) {
    this.policy = policy;
    this.principal = principal;
  }

  permit(op: AccessOp, resourceType: string): void {
    this.policy.permit(this.principal, op, resourceType);
  }

  readFilter(alias: string, bind: Bind): string {
    return this.policy.readFilter(this.principal, alias, bind);
  }

  checkWrite(): Promise<void> {
    return Promise.reject(new OperationOutcomeError(forbidden('Matching a subscription never writes')));
  }

  touched(): void {
    // Nothing leaves here; the delivery is the disclosure.
  }

  async beforeCommit(): Promise<void> {
    // No audit record of its own: matching runs inside the writer's transaction.
  }

  afterRollback(): void {
    // Nothing kept.
  }
}

/**
 * A rest-hook notification that carried the resource to the subscriber's endpoint: a disclosure
 * of the data to the subscription's owner, for the audit trail (and so for Min Log).
 */
export interface NotificationDisclosure {
  /** The owner, as their access token named them when they wrote the Subscription. */
  readonly owner: Principal | undefined;
  readonly subscriptionId: string;
  /** `Type/id` of the resource sent. */
  readonly resource: string;
  /** Ids of the patients whose compartments hold the resource. */
  readonly patients: readonly string[];
  /** False when the endpoint did not take it (it may still have read it). */
  readonly delivered: boolean;
  readonly outcomeText?: string;
}

export class SubscriptionService {
  /** The unrestricted repository (matching restricts it to each owner). */
  readonly repo: FhirRepository;
  readonly policy: AccessPolicy;
  /** Websocket connections bound to subscriptions in this process. */
  private readonly sockets = new Map<string, Set<NotificationSocket>>();
  /** Records each disclosure by notification (the server sets it to its audit trail). */
  private disclosureAudit: ((d: NotificationDisclosure) => Promise<void>) | undefined;

  constructor(repo: FhirRepository, policy: AccessPolicy) {
    this.repo = repo;
    this.policy = policy;
  }

  /**
   * @param audit - records every notification that carried a resource, before its outbox row is finished
   */
  auditDisclosuresWith(audit: (d: NotificationDisclosure) => Promise<void>): void {
    this.disclosureAudit = audit;
  }

  /**
   * Records that a notification sent a resource to the owner's endpoint.
   * @param s - the subscription
   * @param resourceType - the resource's type
   * @param resourceId - its id
   * @param delivered - whether the endpoint took it
   * @param outcomeText - why not
   */
  async auditDisclosure(s: SubscriptionRow, resourceType: string, resourceId: string, delivered: boolean, outcomeText?: string): Promise<void> {
    if (this.disclosureAudit === undefined) {
      return;
    }
    const owner = s.ownerClaims === null ? undefined : await this.policy.principal(JSON.parse(s.ownerClaims) as AccessTokenClaims);
    const patients = (await findCompartments(this.repo.platform.db, resourceType, resourceId)).filter((c) => c.startsWith('Patient/')).map((c) => c.slice('Patient/'.length));
    await this.disclosureAudit({ owner, subscriptionId: s.id, resource: `${resourceType}/${resourceId}`, patients, delivered, ...(outcomeText === undefined ? {} : { outcomeText }) });
  }

  /** The after-write hook to register with the FHIR platform. */
  readonly writeHook: WriteHook = async (tx, changes, writer) => {
    for (const c of changes) {
      if (c.resourceType === 'Subscription') {
        await this.keep(tx, c, writer);
      }
    }
    const data = changes.filter((c) => c.after !== undefined && c.resourceType !== 'Subscription');
    if (data.length === 0) {
      return;
    }
    const active = await findActiveSubscriptions(tx, [...new Set(data.map((c) => c.resourceType))]);
    if (active.length === 0) {
      return;
    }
    const matched = new Map<string, Map<string, string>>();
    for (const s of active) {
      const ids = [...new Set(data.filter((c) => c.resourceType === s.resourceType).map((c) => c.id))];
      matched.set(s.id, await this.match(tx, s, ids));
    }
    // In the order of the writes, so each subscription's queue follows the data.
    const queued: NewNotification[] = [];
    for (const c of data) {
      for (const s of active) {
        const content = s.resourceType === c.resourceType ? matched.get(s.id)?.get(c.id) : undefined;
        if (content !== undefined) {
          queued.push({ subscriptionId: s.id, channel: s.channel, resourceType: c.resourceType, resourceId: c.id, versionId: c.versionId, payload: s.payload === null ? null : content });
        }
      }
    }
    await insertNotifications(tx, queued);
  };

  /**
   * Which of the written resources meet a subscription's criteria, as its owner sees them.
   * @returns content of each match by id
   */
  private async match(tx: Queryable, s: SubscriptionRow, ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let repo = this.repo;
    if (s.ownerClaims !== null) {
      const guard = new OwnerGuard(this.policy, await this.policy.principal(JSON.parse(s.ownerClaims) as AccessTokenClaims));
      try {
        guard.permit('s', s.resourceType);
      } catch (err) {
        if (err instanceof OperationOutcomeError) {
          return out; // The owner may no longer search this type: nothing matches.
        }
        throw err;
      }
      repo = repo.withAccess(guard);
    }
    const { params } = splitCriteria(s.criteria);
    const page = Math.max(1, repo.platform.maxPageSize);
    for (let i = 0; i < ids.length; i += page) {
      const chunk = ids.slice(i, i + page);
      const res = await repo.search(s.resourceType, [...params, ['_id', chunk.join(',')], ['_count', String(chunk.length)], ['_total', 'none']], false, tx);
      for (const r of res.matches) {
        out.set(r.id, r.content);
      }
    }
    return out;
  }

  /** Checks a written Subscription and keeps the platform's view of it; throws (rolling the write back) when it is not supported. */
  private async keep(tx: Queryable, c: ResourceChange, writer: AccessGuard | undefined): Promise<void> {
    if (c.after === undefined) {
      await deleteSubscription(tx, c.id);
      await discardNotifications(tx, c.id, 'abonnementet blev slettet');
      return;
    }
    const s = checkSubscription(this.repo.platform, c.after as Subscription);
    if (s.endpoint !== null && writer !== undefined) {
      // A client's endpoint must be on the allow-list (checked again at every delivery).
      const { host, allowed } = await checkDeliveryHost(tx, s.endpoint);
      if (!allowed) {
        throw new OperationOutcomeError(badRequest(`Værten ${host} er ikke på listen over tilladte modtagere; en operatør kan tilføje den (dsd messaging allow-host)`, ['Subscription.channel.endpoint']));
      }
    }
    const stored = await findSubscription(tx, c.id);
    let ownerClaims: string | null;
    if (writer === undefined) {
      // The platform's own write (activation, error): the owner stays.
      ownerClaims = stored?.ownerClaims ?? null;
    } else if (writer instanceof RequestGuard) {
      const p = writer.principal;
      // Only the server moves a subscription to active or error.
      if ((s.status === 'active' || s.status === 'error') && stored?.status !== s.status) {
        throw new OperationOutcomeError(badRequest(`Subscription.status sættes til requested (eller off) af klienten; serveren sætter ${s.status}`, ['Subscription.status']));
      }
      // The writer becomes the owner: notifications carry only what they may read.
      this.policy.permit(p, 's', s.resourceType);
      ownerClaims = JSON.stringify(p.claims);
    } else {
      throw new OperationOutcomeError(forbidden('Subscription kan kun skrives af en klient med adgangstoken'));
    }
    await upsertSubscription(tx, { id: c.id, resourceType: s.resourceType, criteria: (c.after as Subscription).criteria ?? '', channel: s.channel, endpoint: s.endpoint, headers: s.headers, payload: s.payload, status: s.status, ownerClaims });
    if (s.status === 'off') {
      await discardNotifications(tx, c.id, 'abonnementet blev slået fra (status off)');
    }
  }

  /**
   * Binds a websocket connection to a subscription (R4 `bind <id>`): only the client that owns the
   * subscription may bind it.
   * @param socket - the connection
   * @param subscriptionId - the subscription
   * @param principal - the connection's verified caller
   */
  async bind(socket: NotificationSocket, subscriptionId: string, principal: Principal): Promise<void> {
    const s = await findSubscription(this.repo.platform.db, subscriptionId);
    const owner = s?.ownerClaims === null || s === undefined ? undefined : (JSON.parse(s.ownerClaims) as AccessTokenClaims);
    if (s === undefined || owner === undefined || owner.client_id !== principal.claims.client_id || owner.sub !== principal.claims.sub) {
      throw new OperationOutcomeError(notFound(`Subscription/${subscriptionId} findes ikke`));
    }
    if (s.channel !== 'websocket') {
      throw new OperationOutcomeError(badRequest(`Subscription/${subscriptionId} har ikke en websocket-kanal`));
    }
    const set = this.sockets.get(subscriptionId) ?? new Set();
    set.add(socket);
    this.sockets.set(subscriptionId, set);
  }

  /**
   * Forgets a closed connection.
   * @param socket - the connection
   */
  unbind(socket: NotificationSocket): void {
    for (const [id, set] of this.sockets) {
      set.delete(socket);
      if (set.size === 0) {
        this.sockets.delete(id);
      }
    }
  }

  /** @returns ids of the subscriptions with a bound connection in this process */
  boundSubscriptions(): string[] {
    return [...this.sockets.keys()];
  }

  /**
   * Sends `ping <id>` to every connection bound to a subscription.
   * @param subscriptionId - the subscription
   * @returns how many connections it was sent to
   */
  ping(subscriptionId: string): number {
    let sent = 0;
    for (const socket of this.sockets.get(subscriptionId) ?? []) {
      try {
        socket.send(`ping ${subscriptionId}`);
        sent++;
      } catch {
        this.unbind(socket);
      }
    }
    return sent;
  }
}

/**
 * States in the CapabilityStatement what Subscriptions support: the channels and payload on the
 * Subscription entry, and the websocket URL (R4 capabilitystatement-websocket extension).
 * @param cs - the generated statement
 * @param websocketUrl - ws(s) URL of the websocket channel
 * @returns the statement with both
 */
export function describeSubscriptions(cs: CapabilityStatement, websocketUrl: string): CapabilityStatement {
  const doc =
    'Subscription (R4): criteria er en søgning på én ressourcetype (Type?parametre, platformens egne søgeparametre). Kanaler: rest-hook (POST til et endpoint på en tilladt vært; payload tom eller application/fhir+json; channel.header sendes med) og websocket (bind <id> → bound <id>, derefter ping <id>). email, sms og message understøttes ikke. Notifikationer sendes kun for data, som abonnementets ejer (klienten, der skrev det) må læse. Hver oprettelse eller ændring, hvis nye version opfylder kriterierne, giver én notifikation; en sletning giver ingen.';
  const rest = cs.rest?.[0];
  if (rest === undefined) {
    return cs;
  }
  const resource = (rest.resource ?? []).map((r: CapabilityStatementRestResource) => (r.type === 'Subscription' ? { ...r, documentation: doc } : r));
  return {
    ...cs,
    rest: [{ ...rest, resource, extension: [...(rest.extension ?? []), { url: 'http://hl7.org/fhir/StructureDefinition/capabilitystatement-websocket', valueUri: websocketUrl }] }, ...(cs.rest?.slice(1) ?? [])],
  };
}
