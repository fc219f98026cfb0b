import type { Endpoint, OperationDefinition, OperationOutcome, Organization, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import { RequestGuard } from '../access/guard.ts';
import type { Principal } from '../access/principal.ts';
import { IdentifierSystem } from '../identifiers/systems.ts';
import { OperationOutcomeError, allOk, badRequest, forbidden } from '../fhir/outcome.ts';
import { FhirRepository } from '../fhir/repo.ts';
import type { FhirResponse, OperationHandler } from '../fhir/rest.ts';
import type { Party } from './acknowledgement.ts';
import { buildAcknowledgement } from './acknowledgement.ts';
import type { OrganizationAddress, ParsedMessage } from './message.ts';
import { ACKNOWLEDGEMENT_EVENT, AckError, MEDCOM_EVENT_SYSTEM, MESSAGE_PROFILES, fatalOutcome, parseMessage, resolveInBundle } from './message.ts';
import type { AcknowledgedDelivery, NewOutboxRow } from './messaging.store.ts';
import {
  findAcknowledgedDelivery,
  findDeliveryUrl,
  findInbox as readInboxRows,
  findResourceContent,
  findSenderBinding,
  findSentMessage,
  insertMessage,
  insertOutbox,
  insertSenderBinding,
  updateAcknowledged,
  updateTransientlyAcknowledged,
} from './messaging.store.ts';

/**
 * The sending side of the MedCom messaging hub: `POST /fhir/$process-message` checks a message
 * (structure, MedCom profile, sender, receivers and the message types they accept), stores it
 * and its outbox rows in one transaction, and answers with the acknowledgement (or, when the
 * receiver's own system acknowledges, an informational outcome). An acknowledgement from a
 * receiving system is linked to the delivery it acknowledges. Fatal problems are answered with
 * an OperationOutcome (4xx) and nothing is stored. Delivery and resends are the dispatcher's job
 * (dispatcher.ts). See docs/messaging.md.
 */

/** `$process-message` (FHIR R4 messaging, https://hl7.org/fhir/R4/messageheader-operation-process-message.html). */
export const processMessageOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'process-message',
  url: 'https://dsd.dk/fhir/OperationDefinition/process-message',
  name: 'processMessage',
  title: 'Modtag en MedCom FHIR-meddelelse',
  status: 'active',
  kind: 'operation',
  code: 'process-message',
  description:
    'Accepts a MedCom message Bundle (MessageHeader first, Provenance, focus resources), validates it against its MedCom profile, checks that the caller may send as MessageHeader.sender and that each receiver accepts the message type, stores it and queues its delivery. Answers with the acknowledgement (ok) when the platform is the receiving system (platform inbox), else with an informational outcome: the receiver\'s own system acknowledges through this operation, and its acknowledgement is linked to the delivery by response.identifier and forwarded to the sender. A fatal problem is answered with an OperationOutcome and nothing is stored. A duplicate (same sender, MessageHeader.id) gets the first answer again.',
  system: true,
  type: false,
  instance: false,
  parameter: [
    { name: 'content', use: 'in', min: 1, max: '1', type: 'Bundle' },
    { name: 'return', use: 'out', min: 0, max: '1', type: 'Bundle' },
  ],
};

/**
 * Lets a backend client send MedCom messages as an organisation (operator set-up, like
 * registering the client itself; see docs/messaging.md).
 * @param db - database
 * @param clientId - the registered backend client's id
 * @param organizationId - the Organization id on the platform (e.g. `hosp-auh-cardiology`)
 */
export async function registerMessagingSender(db: Queryable, clientId: string, organizationId: string): Promise<void> {
  if ((await findResourceContent(db, 'Organization', organizationId)) === undefined) {
    throw new Error(`Organization/${organizationId} does not exist`);
  }
  await insertSenderBinding(db, clientId, organizationId);
}

/** `Organization/{id}/$inbox`: the messages delivered to an organisation, in delivery order. */
export const inboxOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Organization-inbox',
  url: 'https://dsd.dk/fhir/OperationDefinition/Organization-inbox',
  name: 'inbox',
  title: 'Indbakke: MedCom-meddelelser leveret til en organisation',
  status: 'active',
  kind: 'operation',
  code: 'inbox',
  description:
    'The MedCom messages (and acknowledgements) delivered to an organisation, oldest first, each once. Readable by the organisation\'s own professionals and by the backend clients registered to send for it. Page with after (the last entry\'s inbox number, in the next link) and _count.',
  resource: ['Organization'],
  system: false,
  type: false,
  instance: true,
  affectsState: false,
  parameter: [
    { name: 'after', use: 'in', min: 0, max: '1', type: 'integer' },
    { name: '_count', use: 'in', min: 0, max: '1', type: 'integer' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
};

/** Extension on each inbox entry: its number in the inbox (for paging). */
const INBOX_NUMBER_URL = 'https://dsd.dk/fhir/StructureDefinition/inbox-number';

type Problem = { text: string; code?: AckError; expression?: string };

/**
 * Runs inside the transaction that accepts a message, after its outbox rows, so what it writes
 * commits or rolls back with the message (CareCommunication threads use it). A hook that throws
 * refuses the message.
 */
export type AcceptHook = (tx: Queryable, accepted: { readonly seq: number; readonly message: ParsedMessage; readonly senderOrg: string; readonly receiverOrg: string }) => Promise<void>;

export class MessagingService {
  /** The platform's unrestricted repository: routing looks up organisations beyond the caller's reach. */
  private readonly repo: FhirRepository;
  private readonly acceptHooks: AcceptHook[] = [];
  private readonly queuedListeners: (() => void)[] = [];

  /** Organisations and Endpoints found by routing; emptied when this process writes either type. */
  private readonly routing = new RoutingCache(ROUTING_CACHE_MS);

  constructor(repo: FhirRepository) {
    this.repo = new FhirRepository(repo.platform);
    repo.platform.addWriteHook((_tx, changes) => {
      if (changes.some((c) => c.resourceType === 'Organization' || c.resourceType === 'Endpoint')) {
        this.routing.clear();
      }
      return Promise.resolve();
    });
  }

  /**
   * @param hook - called in the transaction of every accepted message (see {@link AcceptHook})
   */
  addAcceptHook(hook: AcceptHook): void {
    this.acceptHooks.push(hook);
  }

  /**
   * @param listener - called after a message with deliveries to make has been committed (the
   *   server wakes its dispatcher with it)
   */
  onQueued(listener: () => void): void {
    this.queuedListeners.push(listener);
  }

  /** @returns the `$process-message` handler */
  handler(): OperationHandler {
    return async ({ repo, req, q }): Promise<FhirResponse> => {
      if (q !== undefined || req.method !== 'POST') {
        throw new OperationOutcomeError(badRequest('$process-message tager én meddelelse: POST /fhir/$process-message med en Bundle af typen message'));
      }
      return this.processMessage(repo, req.body);
    };
  }

  /** @returns the `Organization/{id}/$inbox` handler */
  inboxHandler(): OperationHandler {
    return async ({ repo, req, resourceType, id, params }): Promise<FhirResponse> => {
      if (resourceType !== 'Organization' || id === undefined || req.method !== 'GET') {
        throw new OperationOutcomeError(badRequest('Læs en indbakke med GET /fhir/Organization/{id}/$inbox'));
      }
      const guard = repo.access;
      if (!(guard instanceof RequestGuard) || !(await this.maySendAs(guard.principal, id))) {
        throw new OperationOutcomeError(forbidden('Indbakken kan kun læses af organisationens egne medarbejdere og systemer'));
      }
      guard.permit('r', 'Bundle');
      const number = (name: string, fallback: number): number => {
        const v = params[name]?.[0];
        if (v === undefined) {
          return fallback;
        }
        if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) {
          throw new OperationOutcomeError(badRequest(`${name} skal være et heltal`));
        }
        return Number(v);
      };
      const after = number('after', 0);
      const count = Math.min(number('_count', 50), 500);
      const rows = await readInboxRows(this.repo.platform.db, id, after, count + 1);
      const page = rows.slice(0, count);
      for (const r of page) {
        guard.touched('Bundle', (JSON.parse(r.content) as { id?: string }).id ?? String(r.messageSeq), []);
      }
      const base = `${this.repo.platform.baseUrl}/Organization/${id}/$inbox`;
      const last = page[page.length - 1];
      const links = [{ relation: 'self', url: `${base}?after=${after}&_count=${count}` }];
      if (rows.length > count && last !== undefined) {
        links.push({ relation: 'next', url: `${base}?after=${last.id}&_count=${count}` });
      }
      const head = JSON.stringify({ resourceType: 'Bundle', type: 'collection', timestamp: new Date().toISOString(), link: links });
      // Each message is served as stored (exact JSON text), not re-serialised.
      const entries = page.map((r) => `{"extension":[{"url":"${INBOX_NUMBER_URL}","valueInteger":${r.id}}],"resource":${r.content}}`);
      return { status: 200, body: `${head.slice(0, -1)},"entry":[${entries.join(',')}]}` };
    };
  }

  /**
   * Checks, stores and queues one message.
   * @param caller - the caller's repository (its guard names the principal; the audit record is written with the message)
   * @param body - the message Bundle
   * @returns the acknowledgement (or, for an acknowledgement, an OK outcome)
   */
  async processMessage(caller: FhirRepository, body: unknown): Promise<FhirResponse> {
    const guard = caller.access;
    if (!(guard instanceof RequestGuard) || guard.principal.kind === 'citizen') {
      throw new OperationOutcomeError(forbidden('Kun sundhedsfaglige og systemer kan sende MedCom-meddelelser'));
    }
    guard.permit('c', 'Bundle');
    const parsed = parseMessage(body);
    if (parsed.message === undefined) {
      throw new OperationOutcomeError(fatalOutcome('bad-request', parsed.problems));
    }
    const message = parsed.message;

    // The sender: an organisation on the platform the caller may send for.
    const senderOrg = await this.findOrganization(message.sender);
    if (senderOrg === undefined) {
      throw new OperationOutcomeError(fatalOutcome('invalid', [{ text: `Afsenderen (${describe(message.sender)}) findes ikke i organisationsregistret`, expression: 'Bundle.entry[0].resource.sender' }]));
    }
    if (!(await this.maySendAs(guard.principal, senderOrg.id))) {
      throw new OperationOutcomeError(fatalOutcome('forbidden', [{ text: `Du kan ikke sende som ${senderOrg.name ?? senderOrg.id} (MessageHeader.sender)`, expression: 'Bundle.entry[0].resource.sender' }]));
    }

    // A duplicate gets the first answer, whatever changed since (MedCom reliable messaging).
    const seen = await findSentMessage(this.repo.platform.db, senderOrg.id, message.headerId, message.bundleId);
    if (seen.byHeader !== undefined) {
      return answer(seen.byHeader.ackContent, seen.byHeader.eventCode);
    }
    if (seen.byBundle !== undefined) {
      throw new OperationOutcomeError(fatalOutcome('conflict', [{ text: `Bundle.id ${message.bundleId} er allerede brugt til en anden meddelelse; en ny meddelelse skal have nyt Bundle.id`, expression: 'Bundle.id' }]));
    }

    this.checkProfile(message);

    // Receivers: each must exist and accept the message type.
    const problems: Problem[] = [];
    const receivers: { use: 'primary' | 'cc'; party: Party }[] = [];
    for (const [i, d] of message.destinations.entries()) {
      const where = `Bundle.entry[0].resource.destination[${i}].receiver`;
      const org = await this.findOrganization(d.receiver);
      if (org === undefined) {
        problems.push({ text: `Modtageren (${describe(d.receiver)}) findes ikke i organisationsregistret`, code: AckError.receiverUnknown, expression: where });
        continue;
      }
      const endpoint = await this.endpointAccepting(org, message.eventCode);
      if (endpoint === undefined) {
        problems.push({ text: `${org.name ?? org.id} modtager ikke ${message.eventCode}`, code: AckError.receiverUnableToReceive, expression: where });
        continue;
      }
      receivers.push({ use: d.use, party: { organization: org, endpoint } });
    }
    if (problems.length > 0) {
      throw new OperationOutcomeError(fatalOutcome('invalid', problems));
    }
    const primary = receivers.find((r) => r.use === 'primary')!;
    const isAck = message.eventCode === ACKNOWLEDGEMENT_EVENT;
    // An acknowledgement from a receiving system: the delivery it acknowledges (refused if none).
    const acknowledged = isAck ? await this.acknowledgedDelivery(message, senderOrg, primary.party.organization.id) : undefined;
    // An acknowledgement is never acknowledged. A receiver with its own system (a delivery URL)
    // acknowledges itself; for a receiver reading its platform inbox the platform acknowledges.
    const receiverAcknowledges = isAck || (await findDeliveryUrl(this.repo.platform.db, primary.party.organization.id)) !== undefined;
    const senderParty: Party = { organization: senderOrg, endpoint: await this.endpointAccepting(senderOrg, ACKNOWLEDGEMENT_EVENT) };
    const ackContent = receiverAcknowledges ? null : JSON.stringify(buildAcknowledgement(message, primary.party, senderParty, this.repo.platform.baseUrl, new Date()));
    // A transient-error acknowledgement is held back: the platform resends, and the sender gets the final answer.
    const held = acknowledged?.code === 'transient-error';
    const outbox: NewOutboxRow[] = held ? [] : receivers.map((r) => ({ receiverOrg: r.party.organization.id, endpointId: r.party.endpoint?.id ?? null, role: r.use }));

    let queued = false;
    const response = await caller.transaction(async (tx) => {
      const seq = await insertMessage(tx, {
        bundleId: message.bundleId,
        headerId: message.headerId,
        eventCode: message.eventCode,
        senderOrg: senderOrg.id,
        receiverOrg: primary.party.organization.id,
        content: JSON.stringify(message.bundle),
        ackContent,
      });
      if (seq === undefined) {
        // A copy sent at the same moment won the race: answer as for any duplicate.
        const again = await findSentMessage(tx, senderOrg.id, message.headerId, message.bundleId);
        if (again.byHeader !== undefined) {
          return answer(again.byHeader.ackContent, again.byHeader.eventCode);
        }
        throw new OperationOutcomeError(fatalOutcome('conflict', [{ text: `Bundle.id ${message.bundleId} er allerede brugt til en anden meddelelse`, expression: 'Bundle.id' }]));
      }
      await insertOutbox(tx, seq, outbox);
      queued = outbox.length > 0;
      for (const hook of this.acceptHooks) {
        await hook(tx, { seq, message, senderOrg: senderOrg.id, receiverOrg: primary.party.organization.id });
      }
      if (acknowledged !== undefined) {
        const linked = acknowledged.code === 'transient-error' ? await updateTransientlyAcknowledged(tx, acknowledged.delivery.outboxId, seq) : await updateAcknowledged(tx, acknowledged.delivery.outboxId, acknowledged.code, seq, acknowledged.code === 'fatal-error' ? refusalReason(message) : null);
        if (!linked) {
          // Another acknowledgement for the same delivery was stored meanwhile: roll back.
          throw new OperationOutcomeError(alreadyAcknowledged(message.header.response?.identifier ?? message.headerId));
        }
      }
      guard.touched('Bundle', message.bundleId, []);
      return answer(ackContent, message.eventCode);
    });
    if (queued) {
      for (const listener of this.queuedListeners) {
        listener();
      }
    }
    return response;
  }

  /**
   * Links an acknowledgement from a receiving system to the delivery it acknowledges: the message
   * its receiver (the original sender) sent with MessageHeader.id = `response.identifier` to its
   * sender. Refused (nothing stored) when there is no such delivery, when it is itself an
   * acknowledgement, when the platform acknowledged it already on the receiver's behalf, or when
   * it already has its final acknowledgement.
   */
  private async acknowledgedDelivery(message: ParsedMessage, ackSender: Organization & { id: string }, ackReceiver: string): Promise<{ delivery: AcknowledgedDelivery; code: 'ok' | 'transient-error' | 'fatal-error' }> {
    const response = message.header.response;
    const where = 'Bundle.entry[0].resource.response.identifier';
    const code = response?.code;
    if (response?.identifier === undefined || (code !== 'ok' && code !== 'transient-error' && code !== 'fatal-error')) {
      throw new OperationOutcomeError(fatalOutcome('invalid', [{ text: 'En kvittering skal have MessageHeader.response med identifier og code (ok, transient-error eller fatal-error)', expression: 'Bundle.entry[0].resource.response' }]));
    }
    const delivery = await findAcknowledgedDelivery(this.repo.platform.db, ackReceiver, response.identifier, ackSender.id);
    if (delivery === undefined) {
      throw new OperationOutcomeError(
        fatalOutcome('invalid', [
          {
            text: `Kvitteringen gælder en ukendt meddelelse: ${ackSender.name ?? ackSender.id} har ikke fået en meddelelse med MessageHeader.id ${response.identifier} fra modtageren af kvitteringen gennem platformen`,
            expression: where,
          },
        ]),
      );
    }
    if (delivery.eventCode === ACKNOWLEDGEMENT_EVENT) {
      throw new OperationOutcomeError(fatalOutcome('invalid', [{ text: `Meddelelsen ${response.identifier} er selv en kvittering, og en kvittering kvitteres aldrig`, expression: where }]));
    }
    if (delivery.role === 'primary' && delivery.platformAck) {
      throw new OperationOutcomeError(
        fatalOutcome('conflict', [{ text: `Platformen har allerede kvitteret for ${ackSender.name ?? ackSender.id} på meddelelsen ${response.identifier} (modtageren havde ingen egen leveringsadresse, da meddelelsen blev modtaget)`, expression: where }]),
      );
    }
    if (delivery.acknowledged) {
      throw new OperationOutcomeError(alreadyAcknowledged(response.identifier, delivery.ackCode));
    }
    return { delivery, code };
  }

  /** The Bundle must claim the MedCom profile of its message type and conform to it. */
  private checkProfile(message: ParsedMessage): void {
    const expected = MESSAGE_PROFILES[message.eventCode];
    if (expected === undefined) {
      throw new OperationOutcomeError(fatalOutcome('invalid', [{ text: `Meddelelsestypen ${message.eventCode} understøttes ikke af platformen`, code: AckError.valueSetValueUnknown, expression: 'Bundle.entry[0].resource.eventCoding' }]));
    }
    const profiles = message.bundle.meta?.profile ?? [];
    if (!profiles.some((p) => p === expected || p.startsWith(`${expected}|`))) {
      throw new OperationOutcomeError(fatalOutcome('invalid', [{ text: `En ${message.eventCode} skal angive profilen ${expected} i Bundle.meta.profile`, expression: 'Bundle.meta.profile' }]));
    }
    // Throws a 422 OperationOutcome listing every profile violation.
    this.repo.validate(message.bundle);
  }

  /**
   * @param principal - the caller
   * @param organizationId - an organisation on the platform
   * @returns whether the caller may send, and read messages, as that organisation (docs/messaging.md, sender binding)
   */
  async maySendAs(principal: Principal, organizationId: string): Promise<boolean> {
    if (principal.kind === 'professional') {
      return principal.organizationRef === `Organization/${organizationId}`;
    }
    return principal.kind === 'system' && findSenderBinding(this.repo.platform.db, principal.claims.client_id, organizationId);
  }

  private findOrganization(a: OrganizationAddress): Promise<(Organization & { id: string }) | undefined> {
    return this.routing.get(`Organization ${a.bundled ? 'bundled' : 'literal'} ${a.sor ?? ''} ${a.gln ?? ''} ${a.reference}`, () => this.lookUpOrganization(a));
  }

  private async lookUpOrganization(a: OrganizationAddress): Promise<(Organization & { id: string }) | undefined> {
    if (a.sor === undefined && a.gln === undefined) {
      return a.bundled ? undefined : this.readOrganization(a.reference);
    }
    const query: [string, string] = a.sor !== undefined ? ['identifier', `${IdentifierSystem.sor}|${a.sor}`] : ['identifier', `${IdentifierSystem.gln}|${a.gln ?? ''}`];
    const result = await this.repo.search('Organization', [query, ['_count', '2']]);
    if (result.matches.length !== 1) {
      return undefined;
    }
    const org = JSON.parse(result.matches[0]!.content) as Organization & { id: string };
    if (a.sor !== undefined && a.gln !== undefined) {
      // Both given: they must name the same unit.
      const gln = org.identifier?.find((i) => i.system === IdentifierSystem.gln)?.value;
      if (gln !== undefined && gln !== a.gln) {
        return undefined;
      }
    }
    return org;
  }

  private readOrganization(reference: string): Promise<(Organization & { id: string }) | undefined> {
    return this.readIfPresent<Organization>('Organization', reference.slice('Organization/'.length));
  }

  /** A current resource, or undefined when it is missing or deleted. */
  private async readIfPresent<T extends Resource>(resourceType: T['resourceType'], id: string): Promise<(T & { id: string }) | undefined> {
    try {
      return JSON.parse((await this.repo.read(resourceType, id)).content) as T & { id: string };
    } catch (err) {
      if (err instanceof OperationOutcomeError) {
        return undefined;
      }
      throw err;
    }
  }

  /** The organisation's active Endpoint whose payloadType lists the message type (reference data, see registers/README.md). */
  private async endpointAccepting(org: Organization, eventCode: string): Promise<(Endpoint & { id: string }) | undefined> {
    for (const ref of org.endpoint ?? []) {
      const id = ref.reference?.startsWith('Endpoint/') === true ? ref.reference.slice('Endpoint/'.length) : undefined;
      if (id === undefined) {
        continue;
      }
      const ep = await this.routing.get(`Endpoint ${id}`, () => this.readIfPresent<Endpoint>('Endpoint', id));
      if (ep !== undefined && endpointAccepts(ep, eventCode)) {
        return ep;
      }
    }
    return undefined;
  }
}

/**
 * How long routing keeps an organisation or Endpoint it looked up. This process's own writes of
 * either type empty the cache at once; a change written by another process (another server
 * instance, the `dsd` CLI) is seen after at most this long. Delivery reads the receiver's
 * Endpoint again, uncached, so a message is never delivered to a unit that stopped taking it.
 */
const ROUTING_CACHE_MS = 5_000;

/** Look-ups by key, each kept for a time; results are shared, so callers must not change them. */
class RoutingCache {
  private readonly entries = new Map<string, { readonly value: unknown; readonly until: number }>();
  private readonly ttlMs: number;
  /** Bumped by clear(), so a look-up that was under way then is not kept. */
  private generation = 0;

  constructor(ttlMs: number) {
    this.ttlMs = ttlMs;
  }

  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.until > now) {
      return hit.value as T;
    }
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation) {
      if (this.entries.size >= 10_000) {
        this.entries.clear();
      }
      this.entries.set(key, { value, until: now + this.ttlMs });
    }
    return value;
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}

/**
 * @param ep - an Endpoint
 * @param eventCode - a MedCom message event code
 * @returns true when the Endpoint is active and lists the message type
 */
export function endpointAccepts(ep: Endpoint, eventCode: string): boolean {
  return ep.status === 'active' && (ep.payloadType ?? []).some((t) => (t.coding ?? []).some((c) => c.system === MEDCOM_EVENT_SYSTEM && c.code === eventCode));
}

function describe(a: OrganizationAddress): string {
  return a.sor !== undefined ? `SOR ${a.sor}` : a.gln !== undefined ? `GLN ${a.gln}` : a.reference;
}

/**
 * @param ack - a fatal-error acknowledgement
 * @returns what the receiving system said, for operators (its OperationOutcome's codes and texts)
 */
function refusalReason(ack: ParsedMessage): string {
  const ref = ack.header.response?.details?.reference;
  const outcome = ref === undefined ? undefined : resolveInBundle(ack.bundle, ref);
  const said =
    outcome?.resourceType === 'OperationOutcome'
      ? (outcome.issue ?? []).map((i) => [...(i.details?.coding ?? []).map((c) => c.code ?? ''), i.details?.text ?? i.diagnostics ?? ''].filter((x) => x !== '').join(': ')).filter((x) => x !== '')
      : [];
  return `modtagerens system afviste meddelelsen (fatal-error)${said.length === 0 ? '' : `: ${said.join('; ')}`}`.slice(0, 1_000);
}

function alreadyAcknowledged(headerId: string, code?: string | null): OperationOutcome {
  return fatalOutcome('conflict', [
    {
      text: `Meddelelsen ${headerId} er allerede kvitteret${code === null || code === undefined ? '' : ` (${code})`}; en anden kvittering for samme meddelelse afvises`,
      expression: 'Bundle.entry[0].resource.response.identifier',
    },
  ]);
}

/**
 * The answer to an accepted message, and to every copy of it later.
 * @param ackContent - the acknowledgement the platform wrote on the receiver's behalf, if any
 * @param eventCode - the message type
 * @returns the acknowledgement, or an informational outcome
 */
function answer(ackContent: string | null, eventCode: string): FhirResponse {
  if (ackContent !== null) {
    return { status: 200, body: ackContent };
  }
  const text = eventCode === ACKNOWLEDGEMENT_EVENT ? 'Kvitteringen er modtaget og knyttet til den kvitterede meddelelse; en kvittering kvitteres ikke' : 'Meddelelsen er modtaget og sendes til modtagerens eget system, som selv kvitterer';
  return { status: 200, body: JSON.stringify({ ...allOk, issue: [{ severity: 'information', code: 'informational', details: { text } }] }) };
}
