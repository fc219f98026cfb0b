import { randomUUID } from 'node:crypto';
import type {
  Attachment,
  Bundle,
  BundleEntry,
  Communication,
  CommunicationPayload,
  Endpoint,
  Extension,
  MessageHeader,
  OperationDefinition,
  Organization,
  Parameters,
  ParametersParameter,
  Patient,
  Practitioner,
  PractitionerRole,
  Provenance,
  Resource,
} from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import { RequestGuard } from '../access/guard.ts';
import type { Principal } from '../access/principal.ts';
import { OperationOutcomeError, badRequest, forbidden, tooLarge } from '../fhir/outcome.ts';
import { FhirRepository } from '../fhir/repo.ts';
import type { FhirResponse, OperationHandler } from '../fhir/rest.ts';
import { IdentifierSystem } from '../identifiers/systems.ts';
import { DESTINATION_USE_SYSTEM, bundledOrganization, messageProvenance, sorEndpoint } from './acknowledgement.ts';
import type { CareCommunicationRow } from './care-communication.store.ts';
import { findCareCommunications, findReceivedCareCommunication, insertCareCommunication } from './care-communication.store.ts';
import { AckError, DESTINATION_USE_URL, MEDCOM_EVENT_SYSTEM, MESSAGE_PROFILES, fatalOutcome } from './message.ts';
import type { ParsedMessage } from './message.ts';
import type { MessagingService } from './service.ts';
import { endpointAccepts } from './service.ts';

/**
 * CareCommunication (korrespondancemeddelelse, MedCom CareCommunication 5.0.4) as a platform
 * feature: a unit writes to another unit about a patient, replies to what it received, and reads
 * its threads. The platform builds the MedCom message Bundle, and sends it through
 * `$process-message` (the same checks, profile validation, outbox and acknowledgement as any
 * message). Every accepted CareCommunication, whoever built it, is indexed in its thread in the
 * transaction that accepts it. See docs/messaging.md, section CareCommunication.
 */

export const CARE_COMMUNICATION_EVENT = 'care-communication-message';
const CATEGORY_SYSTEM = 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-careCommunication-categoryCodes';
const CC = 'http://medcomfhir.dk/ig/carecommunication/StructureDefinition';
const CORE = 'http://medcomfhir.dk/ig/core/StructureDefinition';
const MESSAGE_DEFINITION = 'http://medcomfhir.dk/ig/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|5.0';
const EXT = {
  date: `${CORE}/medcom-core-datetime-extension`,
  identifier: `${CORE}/medcom-core-identifier-extension`,
  author: `${CORE}/medcom-core-practitioner-extension`,
  contact: `${CORE}/medcom-core-contact-extension`,
} as const;
const CPR_SYSTEMS: ReadonlySet<string> = new Set([IdentifierSystem.cpr, 'urn:oid:1.2.208.176.1.6.1.1', 'urn:oid:1.2.208.176.1.6.1.3']);

/** MedCom's categories (`medcom-careCommunication-categoryCodes`, terminology 2.0.1). */
export const CARE_COMMUNICATION_CATEGORIES: readonly string[] = [
  'alcohol-and-drug-treatment',
  'assistive-devices',
  'carecoordination',
  'decease',
  'discharge',
  'examination-results',
  'healthcare',
  'home-care-assessment',
  'medicine',
  'nursing',
  'outpatient',
  'psychiatry-social-disability',
  'regarding-referral',
  'telemedicine',
  'training',
  'acute-ambulant',
  'extended-care-responsibility',
  'other',
];

/**
 * Attachment content types MedCom allows (`medcom-core-attachmentMimeTypes`), each with the first
 * bytes its files start with: the platform checks that the data is what the content type says.
 */
const ATTACHMENT_SIGNATURES: Readonly<Record<string, readonly (readonly number[])[]>> = {
  'application/pdf': [[0x25, 0x50, 0x44, 0x46, 0x2d]], // %PDF-
  'image/png': [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  'image/jpeg': [[0xff, 0xd8, 0xff]],
  'image/gif': [[0x47, 0x49, 0x46, 0x38]], // GIF8
  'image/tiff': [
    [0x49, 0x49, 0x2a, 0x00],
    [0x4d, 0x4d, 0x00, 0x2a],
  ],
  'image/bmp': [[0x42, 0x4d]], // BM
};

/** Size limits of attachments (decoded bytes). MedCom's profile sets none; these are the platform's. */
export interface CareCommunicationLimits {
  /** One attachment; default 8 MiB. */
  readonly maxAttachmentBytes: number;
  /** All attachments of one message together; default 10 MiB. */
  readonly maxTotalAttachmentBytes: number;
}

const DEFAULT_LIMITS: CareCommunicationLimits = { maxAttachmentBytes: 8 * 1024 * 1024, maxTotalAttachmentBytes: 10 * 1024 * 1024 };

/** `Organization/{id}/$care-communication`: write a CareCommunication as the organisation, or reply to one it received. */
export const careCommunicationOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Organization-care-communication',
  url: 'https://dsd.dk/fhir/OperationDefinition/Organization-care-communication',
  name: 'careCommunication',
  title: 'Send en korrespondancemeddelelse (MedCom CareCommunication)',
  status: 'active',
  kind: 'operation',
  code: 'care-communication',
  description:
    'Writes a MedCom CareCommunication from the organisation to another unit about a patient (receiver, patient, category, text, optional topic and attachments), or a reply to a CareCommunication the organisation received (replyTo = its MessageHeader.id: same thread, to its sender). The platform builds the message Bundle, validates it against medcom-careCommunication-message and sends it through $process-message. Answers with the message sent, its thread id and the acknowledgement.',
  resource: ['Organization'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'receiver', use: 'in', min: 0, max: '1', type: 'Reference', documentation: 'Organization/<id> of the receiving unit (new message only).' },
    { name: 'patient', use: 'in', min: 0, max: '1', type: 'Reference', documentation: 'Patient/<id> (new message only).' },
    { name: 'category', use: 'in', min: 0, max: '1', type: 'code', documentation: 'medcom-careCommunication-categoryCodes (new message only; a reply keeps the thread\'s).' },
    { name: 'topic', use: 'in', min: 0, max: '1', type: 'string', documentation: 'Required with category other.' },
    { name: 'text', use: 'in', min: 1, max: '1', type: 'string' },
    { name: 'attachment', use: 'in', min: 0, max: '*', type: 'Attachment', documentation: 'contentType, data (base64) and title; PDF, PNG, JPEG, GIF, TIFF or BMP.' },
    { name: 'replyTo', use: 'in', min: 0, max: '1', type: 'string', documentation: 'MessageHeader.id of the received CareCommunication answered.' },
    { name: 'authorName', use: 'in', min: 0, max: '1', type: 'string', documentation: 'Backend systems: the person writing (professionals are the author themselves).' },
    { name: 'authorRole', use: 'in', min: 0, max: '1', type: 'string' },
    { name: 'contactPhone', use: 'in', min: 0, max: '1', type: 'string', documentation: 'Defaults to the sending organisation\'s phone.' },
    { name: 'message', use: 'out', min: 1, max: '1', type: 'Bundle' },
    { name: 'threadId', use: 'out', min: 1, max: '1', type: 'string' },
    { name: 'acknowledgement', use: 'out', min: 0, max: '1', type: 'Bundle' },
  ],
};

/** `Organization/{id}/$care-communication-threads`: the organisation's CareCommunication threads. */
export const careCommunicationThreadsOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Organization-care-communication-threads',
  url: 'https://dsd.dk/fhir/OperationDefinition/Organization-care-communication-threads',
  name: 'careCommunicationThreads',
  title: 'Korrespondancetråde for en organisation',
  status: 'active',
  kind: 'operation',
  code: 'care-communication-threads',
  description:
    'The CareCommunication threads the organisation takes part in (sent by it, or delivered to its inbox), newest activity first; each with its id, patient, category, topic, the other unit and its messages in the order sent. thread narrows to one thread. Readable by the organisation\'s professionals and its bound backend clients.',
  resource: ['Organization'],
  system: false,
  type: false,
  instance: true,
  affectsState: false,
  parameter: [
    { name: 'thread', use: 'in', min: 0, max: '1', type: 'string' },
    { name: 'thread', use: 'out', min: 0, max: '*', type: 'Element' },
  ],
};

/** What a caller asked to send. */
interface Input {
  readonly receiver?: string;
  readonly patient?: string;
  readonly category?: string;
  readonly topic?: string;
  readonly text: string;
  readonly attachments: readonly Attachment[];
  readonly replyTo?: string;
  readonly authorName?: string;
  readonly authorRole?: string;
  readonly contactPhone?: string;
}

type Org = Organization & { id: string };

export class CareCommunicationService {
  /** Unrestricted repository: organisations, Endpoints and practitioners beyond the caller's own reach. */
  private readonly repo: FhirRepository;
  private readonly messaging: MessagingService;
  private readonly limits: CareCommunicationLimits;

  /**
   * @param messaging - the hub the messages are sent through; the service indexes every accepted CareCommunication in it
   * @param repo - the platform repository
   * @param limits - attachment size limits
   */
  constructor(messaging: MessagingService, repo: FhirRepository, limits: Partial<CareCommunicationLimits> = {}) {
    this.repo = new FhirRepository(repo.platform);
    this.messaging = messaging;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    messaging.addAcceptHook(async (tx, accepted) => indexCareCommunication(tx, accepted));
  }

  /** @returns the `Organization/{id}/$care-communication` handler */
  handler(): OperationHandler {
    return async ({ repo, req, resourceType, id }): Promise<FhirResponse> => {
      if (resourceType !== 'Organization' || id === undefined || req.method !== 'POST') {
        throw new OperationOutcomeError(badRequest('Send en korrespondancemeddelelse med POST /fhir/Organization/{id}/$care-communication og en Parameters-ressource'));
      }
      const principal = await this.authorise(repo, id);
      const input = this.parseInput(req.body);
      const sent = await this.send(repo, principal, id, input);
      const out: Parameters = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'message', resource: sent.message },
          { name: 'threadId', valueString: sent.threadId },
          ...(sent.answer.resourceType === 'Bundle' ? [{ name: 'acknowledgement', resource: sent.answer }] : []),
        ],
      };
      return { status: 200, body: JSON.stringify(out) };
    };
  }

  /** @returns the `Organization/{id}/$care-communication-threads` handler */
  threadsHandler(): OperationHandler {
    return async ({ repo, req, resourceType, id, params }): Promise<FhirResponse> => {
      if (resourceType !== 'Organization' || id === undefined || req.method !== 'GET') {
        throw new OperationOutcomeError(badRequest('Læs korrespondancetråde med GET /fhir/Organization/{id}/$care-communication-threads'));
      }
      const guard = repo.access;
      await this.authorise(repo, id);
      if (guard instanceof RequestGuard) {
        guard.permit('r', 'Bundle');
      }
      const threadParam = params['thread']?.[0];
      if (threadParam !== undefined && (typeof threadParam !== 'string' || threadParam.length === 0 || threadParam.length > 200)) {
        throw new OperationOutcomeError(badRequest('thread skal være et tråd-id (Communication.identifier)'));
      }
      const rows = await findCareCommunications(this.repo.platform.db, id, threadParam);
      const threads = new Map<string, CareCommunicationRow[]>();
      for (const r of rows) {
        const list = threads.get(r.threadId) ?? [];
        list.push(r);
        threads.set(r.threadId, list);
      }
      const ordered = [...threads.values()].sort((a, b) => b[b.length - 1]!.messageSeq - a[a.length - 1]!.messageSeq);
      const parameter: ParametersParameter[] = [];
      for (const messages of ordered) {
        const first = messages[0]!;
        const last = messages[messages.length - 1]!;
        const other = first.senderOrg === id ? first.receiverOrg : first.senderOrg;
        const part: ParametersParameter[] = [
          { name: 'id', valueString: first.threadId },
          { name: 'category', valueCoding: { system: CATEGORY_SYSTEM, code: last.category } },
          ...(last.topic === null ? [] : [{ name: 'topic', valueString: last.topic }]),
          ...(last.patientIdentifier === null ? [] : [{ name: 'patient', valueIdentifier: { value: last.patientIdentifier } }]),
          { name: 'otherParty', valueReference: { reference: `Organization/${other}` } },
          { name: 'lastActivity', valueInstant: last.sent },
        ];
        for (const m of messages) {
          const bundle = JSON.parse(m.content) as Bundle;
          if (guard instanceof RequestGuard) {
            guard.touched('Bundle', bundle.id ?? String(m.messageSeq), []);
          }
          part.push({
            name: 'message',
            part: [
              { name: 'direction', valueCode: m.senderOrg === id ? 'sent' : 'received' },
              { name: 'activity', valueCode: m.activity },
              { name: 'sent', valueInstant: m.sent },
              { name: 'bundle', resource: bundle },
            ],
          });
        }
        parameter.push({ name: 'thread', part });
      }
      const out: Parameters = { resourceType: 'Parameters', ...(parameter.length === 0 ? {} : { parameter }) };
      return { status: 200, body: JSON.stringify(out) };
    };
  }

  /**
   * Builds, validates and sends one CareCommunication (new, or a reply).
   * @param caller - the caller's repository (its guard, its access to the patient)
   * @param principal - the caller
   * @param senderId - the sending organisation
   * @param input - what to send
   * @returns the message sent, its thread id and what $process-message answered
   */
  async send(caller: FhirRepository, principal: Principal, senderId: string, input: Input): Promise<{ message: Bundle; threadId: string; answer: Resource }> {
    const sender = await this.readOrganization(senderId);
    if (sender === undefined) {
      throw new OperationOutcomeError(fatalOutcome('invalid', [{ text: `Organization/${senderId} findes ikke` }]));
    }
    const author = await this.author(principal, input, senderId);
    const now = new Date().toISOString();
    const message = input.replyTo === undefined ? await this.buildNew(caller, sender, author, input, now) : await this.buildReply(sender, author, input, now);
    const threadId = (message.entry ?? []).map((e) => e.resource).find((r): r is Communication => r?.resourceType === 'Communication')!.identifier![0]!.value!;
    const res = await this.messaging.processMessage(caller, message);
    return { message, threadId, answer: JSON.parse(res.body ?? '{}') as Resource };
  }

  private async authorise(repo: FhirRepository, organizationId: string): Promise<Principal> {
    const guard = repo.access;
    if (!(guard instanceof RequestGuard) || guard.principal.kind === 'citizen') {
      throw new OperationOutcomeError(forbidden('Kun sundhedsfaglige og systemer kan bruge korrespondancemeddelelser'));
    }
    if (!(await this.messaging.maySendAs(guard.principal, organizationId))) {
      throw new OperationOutcomeError(forbidden('Kun organisationens egne medarbejdere og systemer kan sende og læse dens korrespondance'));
    }
    return guard.principal;
  }

  private parseInput(body: unknown): Input {
    const params = body as Parameters | undefined;
    if (params?.resourceType !== 'Parameters' || !Array.isArray(params.parameter)) {
      throw new OperationOutcomeError(badRequest('Kroppen skal være en Parameters-ressource'));
    }
    const known = new Set(['receiver', 'patient', 'category', 'topic', 'text', 'attachment', 'replyTo', 'authorName', 'authorRole', 'contactPhone']);
    const seen = new Set<string>();
    const attachments: Attachment[] = [];
    const values: Record<string, string> = {};
    for (const p of params.parameter) {
      if (!known.has(p.name ?? '')) {
        throw new OperationOutcomeError(badRequest(`Ukendt parameter: ${String(p.name)}`));
      }
      const name = p.name;
      if (name === 'attachment') {
        if (p.valueAttachment === undefined) {
          throw new OperationOutcomeError(badRequest('attachment skal være en valueAttachment'));
        }
        attachments.push(p.valueAttachment);
        continue;
      }
      if (seen.has(name)) {
        throw new OperationOutcomeError(badRequest(`Parameteren ${name} må kun angives én gang`));
      }
      seen.add(name);
      const v = p.valueReference?.reference ?? p.valueString ?? p.valueCode;
      if (typeof v !== 'string' || v.trim().length === 0) {
        throw new OperationOutcomeError(badRequest(`Parameteren ${name} mangler en værdi`));
      }
      values[name] = v;
    }
    const text = values['text'];
    if (text === undefined) {
      throw new OperationOutcomeError(badRequest('En korrespondancemeddelelse skal have en tekst (text)'));
    }
    if (text.length > 100_000) {
      throw new OperationOutcomeError(badRequest('Teksten er for lang (højst 100.000 tegn)'));
    }
    const input: Input = { ...values, text, attachments };
    if (input.replyTo === undefined) {
      if (input.receiver === undefined || !/^Organization\/[A-Za-z0-9\-.]{1,64}$/.test(input.receiver)) {
        throw new OperationOutcomeError(badRequest('Angiv modtageren som receiver = Organization/<id>'));
      }
      if (input.patient === undefined || !/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(input.patient)) {
        throw new OperationOutcomeError(badRequest('Angiv patienten som patient = Patient/<id>'));
      }
      if (input.category === undefined || !CARE_COMMUNICATION_CATEGORIES.includes(input.category)) {
        throw new OperationOutcomeError(badRequest(`Kategorien skal være en af MedComs kategorier: ${CARE_COMMUNICATION_CATEGORIES.join(', ')}`));
      }
      if (input.category === 'other' && input.topic === undefined) {
        throw new OperationOutcomeError(badRequest('Kategorien other kræver et emne (topic)'));
      }
    } else {
      for (const name of ['receiver', 'patient', 'category'] as const) {
        if (input[name] !== undefined) {
          throw new OperationOutcomeError(badRequest(`Et svar går til afsenderen af den besvarede meddelelse i samme tråd; ${name} kan ikke angives sammen med replyTo`));
        }
      }
    }
    this.checkAttachments(attachments);
    return input;
  }

  /** MedCom's content types, base64 data that is what its content type says, a title without file extension, within the size limits. */
  private checkAttachments(attachments: readonly Attachment[]): void {
    let total = 0;
    attachments.forEach((a, i) => {
      const where = `Vedhæftning ${i + 1}`;
      const signatures = a.contentType === undefined ? undefined : ATTACHMENT_SIGNATURES[a.contentType];
      if (signatures === undefined) {
        throw new OperationOutcomeError(badRequest(`${where}: filtypen ${a.contentType ?? '(ingen)'} er ikke tilladt; MedCom tillader ${Object.keys(ATTACHMENT_SIGNATURES).join(', ')}`));
      }
      if (a.url !== undefined || typeof a.data !== 'string' || a.data.length === 0) {
        throw new OperationOutcomeError(badRequest(`${where}: indholdet skal sendes med, base64-kodet i data`));
      }
      if (typeof a.title !== 'string' || a.title.trim().length === 0) {
        throw new OperationOutcomeError(badRequest(`${where}: en vedhæftning skal have en titel`));
      }
      if (/\.(pdf|png|jpe?g|gif|tiff?|bmp)$/i.test(a.title)) {
        throw new OperationOutcomeError(badRequest(`${where}: titlen må ikke ende på filtypen (MedCom)`));
      }
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(a.data) || a.data.length % 4 !== 0) {
        throw new OperationOutcomeError(badRequest(`${where}: data er ikke gyldig base64`));
      }
      const bytes = Buffer.from(a.data, 'base64');
      if (bytes.length > this.limits.maxAttachmentBytes) {
        throw new OperationOutcomeError(tooLarge(`${where} fylder ${bytes.length} byte; højst ${this.limits.maxAttachmentBytes} byte pr. vedhæftning`));
      }
      total += bytes.length;
      if (total > this.limits.maxTotalAttachmentBytes) {
        throw new OperationOutcomeError(tooLarge(`Vedhæftningerne fylder tilsammen over ${this.limits.maxTotalAttachmentBytes} byte`));
      }
      if (!signatures.some((sig) => sig.every((b, k) => bytes[k] === b))) {
        throw new OperationOutcomeError(badRequest(`${where}: indholdet er ikke en ${a.contentType!}-fil`));
      }
    });
  }

  /** The PractitionerRole and Practitioner who write the message segment, as bundled resources. */
  private async author(principal: Principal, input: Input, senderId: string): Promise<{ role: PractitionerRole & { id: string }; practitioner: Practitioner & { id: string }; phone: string }> {
    let name: { family?: string; given?: string[] } | undefined;
    let roleText = input.authorRole;
    let roleId: string;
    let practitionerId: string;
    if (principal.kind === 'professional') {
      const storedRole = principal.claims.dsd_practitioner_role === undefined ? undefined : await this.readResource<PractitionerRole>('PractitionerRole', principal.claims.dsd_practitioner_role);
      const pracRef = storedRole?.practitioner?.reference ?? principal.claims.fhirUser;
      const stored = pracRef?.startsWith('Practitioner/') === true ? await this.readResource<Practitioner>('Practitioner', pracRef.slice('Practitioner/'.length)) : undefined;
      const n = stored?.name?.find((x) => x.use === 'official') ?? stored?.name?.[0];
      name = n === undefined ? undefined : { ...(n.family === undefined ? {} : { family: n.family }), ...(n.given === undefined ? {} : { given: [...n.given] }) };
      roleText ??= storedRole?.code?.[0]?.coding?.[0]?.display ?? storedRole?.code?.[0]?.text ?? principal.claims.dsd_role;
      roleId = storedRole?.id ?? randomUUID();
      practitionerId = stored?.id ?? randomUUID();
    } else {
      if (input.authorName === undefined) {
        throw new OperationOutcomeError(badRequest('Et system skal angive forfatteren (authorName)'));
      }
      const parts = input.authorName.trim().split(/\s+/);
      name = { family: parts[parts.length - 1]!, ...(parts.length > 1 ? { given: parts.slice(0, -1) } : {}) };
      roleId = randomUUID();
      practitionerId = randomUUID();
    }
    if (name === undefined) {
      throw new OperationOutcomeError(badRequest('Forfatterens navn kendes ikke'));
    }
    const sender = await this.readOrganization(senderId);
    const phone = input.contactPhone ?? sender?.telecom?.find((t) => t.system === 'phone')?.value;
    if (phone === undefined || !/^[+]?[-0-9 ]{4,20}$/.test(phone)) {
      throw new OperationOutcomeError(badRequest('Angiv et telefonnummer forfatteren kan kontaktes på (contactPhone)'));
    }
    const practitioner: Practitioner & { id: string } = { resourceType: 'Practitioner', id: practitionerId, meta: { profile: [`${CORE}/medcom-core-practitioner`] }, name: [name] };
    const role: PractitionerRole & { id: string } = {
      resourceType: 'PractitionerRole',
      id: roleId,
      meta: { profile: [`${CORE}/medcom-core-practitionerrole`] },
      practitioner: { reference: `Practitioner/${practitionerId}` },
      organization: { reference: `Organization/${senderId}` },
      code: [{ text: roleText ?? 'Sundhedsfaglig' }],
    };
    return { role, practitioner, phone };
  }

  private async buildNew(caller: FhirRepository, sender: Org, author: Awaited<ReturnType<CareCommunicationService['author']>>, input: Input, now: string): Promise<Bundle> {
    const receiverId = input.receiver!.slice('Organization/'.length);
    const receiver = await this.readOrganization(receiverId);
    if (receiver === undefined) {
      throw new OperationOutcomeError(fatalOutcome('invalid', [{ text: `Modtageren ${input.receiver!} findes ikke i organisationsregistret`, expression: 'receiver' }]));
    }
    const receiverEndpoint = await this.acceptingEndpoint(receiver);
    // The patient is read with the caller's own access: only a patient the caller may see can be written about.
    const stored = JSON.parse((await caller.read('Patient', input.patient!.slice('Patient/'.length))).content) as Patient & { id: string };
    const patient = bundledPatient(stored);
    const communicationId = randomUUID();
    const payloads = this.payloads(input, author, sender.id, now);
    const communication: Communication & { id: string } = {
      resourceType: 'Communication',
      id: communicationId,
      meta: { profile: [`${CC}/medcom-careCommunication-communication`] },
      identifier: [{ value: `urn:uuid:${randomUUID()}` }],
      status: 'unknown',
      category: [{ coding: [{ system: CATEGORY_SYSTEM, code: input.category! }] }],
      ...(input.topic === undefined ? {} : { topic: { text: input.topic } }),
      subject: { reference: `Patient/${patient.id}` },
      payload: payloads,
    };
    const senderEndpoint = await this.endpointFor(sender, 'acknowledgement-message');
    const headerId = randomUUID();
    const header = this.header(headerId, sender, senderEndpoint, receiver, receiverEndpoint, communicationId);
    const provenance = this.provenance(headerId, 'new-message', sender.id, now, payloads, undefined);
    const resources: Resource[] = [header, patient, communication, author.role, author.practitioner, bundledOrganization(receiver), bundledOrganization(sender), provenance];
    return this.bundle(resources, now);
  }

  private async buildReply(sender: Org, author: Awaited<ReturnType<CareCommunicationService['author']>>, input: Input, now: string): Promise<Bundle> {
    const original = await findReceivedCareCommunication(this.repo.platform.db, sender.id, input.replyTo!);
    if (original === undefined) {
      throw new OperationOutcomeError(fatalOutcome('invalid', [{ text: `${sender.name ?? sender.id} har ikke modtaget en korrespondancemeddelelse med MessageHeader.id ${input.replyTo!}`, expression: 'replyTo' }]));
    }
    const previous = JSON.parse(original.content) as Bundle;
    const entries = (previous.entry ?? []).filter((e) => e.resource !== undefined);
    const previousHeader = entries[0]!.resource as MessageHeader;
    const receiver = await this.readOrganization(original.senderOrg);
    if (receiver === undefined) {
      throw new OperationOutcomeError(fatalOutcome('invalid', [{ text: `Afsenderen af den besvarede meddelelse (Organization/${original.senderOrg}) findes ikke længere` }]));
    }
    const receiverEndpoint = await this.acceptingEndpoint(receiver);
    const senderEndpoint = await this.endpointFor(sender, 'acknowledgement-message');
    // MedCom: a reply carries the thread so far (every earlier segment and Provenance), keeps the
    // thread id (Communication.identifier), and adds its own segment and a Provenance whose
    // preceding message is the one answered (role revision).
    const keep = entries.filter((e) => e.resource!.resourceType !== 'MessageHeader').map((e) => structuredClone(e.resource!));
    const communication = keep.find((r): r is Communication & { id: string } => r.resourceType === 'Communication')!;
    const payloads = this.payloads(input, author, sender.id, now);
    communication.payload = [...(communication.payload ?? []), ...payloads];
    if (input.topic !== undefined) {
      communication.topic = { text: input.topic };
    }
    // The two units, as the platform writes them now (the earlier bundled copies are replaced).
    const replaced = new Set([previousHeader.sender?.reference, ...(previousHeader.destination ?? []).map((d) => d.receiver?.reference)]);
    const kept = keep.filter((r) => !(r.resourceType === 'Organization' && replaced.has(`Organization/${r.id ?? ''}`)));
    const present = new Set(kept.map((r) => `${r.resourceType}/${r.id ?? ''}`));
    retarget(kept, previousHeader, sender.id, receiver.id);
    const headerId = randomUUID();
    const header = this.header(headerId, sender, senderEndpoint, receiver, receiverEndpoint, communication.id);
    const provenance = this.provenance(headerId, 'reply-message', sender.id, now, payloads, previousHeader.id);
    const added = [author.role, author.practitioner].filter((r) => !present.has(`${r.resourceType}/${r.id}`));
    const resources: Resource[] = [header, ...kept, ...added, bundledOrganization(receiver), bundledOrganization(sender), provenance];
    return this.bundle(resources, now);
  }

  private payloads(input: Input, author: { role: { id: string }; phone: string }, senderId: string, now: string): CommunicationPayload[] {
    const segment = (extra: Extension[]): Extension[] => [
      { url: EXT.date, valueDateTime: now },
      { url: EXT.identifier, valueIdentifier: { value: `urn:uuid:${randomUUID()}`, assigner: { reference: `Organization/${senderId}` } } },
      { url: EXT.author, valueReference: { reference: `PractitionerRole/${author.role.id}` } },
      ...extra,
    ];
    const text: CommunicationPayload = { extension: segment([{ url: EXT.contact, valueContactPoint: { system: 'phone', value: author.phone } }]), contentString: input.text };
    const files = input.attachments.map((a): CommunicationPayload => ({
      extension: segment([]),
      contentAttachment: { contentType: a.contentType!, data: a.data!, title: a.title!, creation: a.creation ?? now },
    }));
    return [text, ...files];
  }

  private header(id: string, sender: Org, senderEndpoint: Endpoint | undefined, receiver: Org, receiverEndpoint: Endpoint, communicationId: string): MessageHeader {
    return {
      resourceType: 'MessageHeader',
      id,
      meta: { profile: [`${CC}/medcom-careCommunication-messageHeader`] },
      text: narrative(`Korrespondancemeddelelse fra ${sender.name ?? sender.id} til ${receiver.name ?? receiver.id}`),
      eventCoding: { system: MEDCOM_EVENT_SYSTEM, code: CARE_COMMUNICATION_EVENT },
      destination: [
        {
          extension: [{ url: DESTINATION_USE_URL, valueCoding: { system: DESTINATION_USE_SYSTEM, code: 'primary' } }],
          endpoint: sorEndpoint({ organization: receiver, endpoint: receiverEndpoint as Endpoint & { id: string } }),
          receiver: { reference: `Organization/${receiver.id}` },
        },
      ],
      sender: { reference: `Organization/${sender.id}` },
      source: { endpoint: sorEndpoint({ organization: sender, endpoint: senderEndpoint as (Endpoint & { id: string }) | undefined }) },
      focus: [{ reference: `Communication/${communicationId}` }],
      definition: MESSAGE_DEFINITION,
    };
  }

  private provenance(headerId: string, activity: 'new-message' | 'reply-message', senderId: string, now: string, payloads: readonly CommunicationPayload[], precedingHeaderId: string | undefined): Provenance {
    const sources = payloads.map((p) => ({ role: 'source' as const, what: { identifier: { value: p.extension!.find((e) => e.url === EXT.identifier)!.valueIdentifier!.value! } } }));
    return messageProvenance({ id: randomUUID(), profile: `${CC}/medcom-careCommunication-provenance`, headerId, when: now, activity, agentOrg: senderId, ...(precedingHeaderId === undefined ? {} : { revises: precedingHeaderId }), entities: sources });
  }

  private bundle(resources: readonly Resource[], now: string): Bundle {
    const base = this.repo.platform.baseUrl;
    const entry: BundleEntry[] = resources.map((r) => {
      const withText = (r as { text?: unknown }).text === undefined && r.resourceType !== 'Bundle' ? { ...r, text: narrative(r.resourceType) } : r;
      return { fullUrl: `${base}/${r.resourceType}/${r.id ?? ''}`, resource: withText };
    });
    return { resourceType: 'Bundle', id: randomUUID(), meta: { profile: [MESSAGE_PROFILES[CARE_COMMUNICATION_EVENT]!] }, type: 'message', timestamp: now, entry };
  }

  /** The receiver's Endpoint that accepts CareCommunication; a clear 422 before anything is built or stored when there is none. */
  private async acceptingEndpoint(receiver: Org): Promise<Endpoint & { id: string }> {
    const ep = await this.endpointFor(receiver, CARE_COMMUNICATION_EVENT);
    if (ep === undefined) {
      throw new OperationOutcomeError(
        fatalOutcome('invalid', [{ text: `${receiver.name ?? receiver.id} modtager ikke korrespondancemeddelelser (care-communication-message); vælg en anden modtager`, code: AckError.receiverUnableToReceive, expression: 'receiver' }]),
      );
    }
    return ep;
  }

  private async endpointFor(org: Organization, eventCode: string): Promise<(Endpoint & { id: string }) | undefined> {
    for (const ref of org.endpoint ?? []) {
      const id = ref.reference?.startsWith('Endpoint/') === true ? ref.reference.slice('Endpoint/'.length) : undefined;
      const ep = id === undefined ? undefined : await this.readResource<Endpoint>('Endpoint', id);
      if (ep !== undefined && endpointAccepts(ep, eventCode)) {
        return ep;
      }
    }
    return undefined;
  }

  private async readOrganization(id: string): Promise<Org | undefined> {
    return this.readResource<Organization>('Organization', id);
  }

  private async readResource<T extends Resource>(resourceType: T['resourceType'], id: string): Promise<(T & { id: string }) | undefined> {
    try {
      return JSON.parse((await this.repo.read(resourceType, id)).content) as T & { id: string };
    } catch (err) {
      if (err instanceof OperationOutcomeError) {
        return undefined;
      }
      throw err;
    }
  }
}

/**
 * Indexes an accepted CareCommunication in its thread (an {@link AcceptHook} of the hub).
 * @param tx - the accepting transaction
 * @param accepted - the message and its parties
 * @param accepted.seq - its row in `message`
 * @param accepted.message - the parsed message
 * @param accepted.senderOrg - the sending organisation
 * @param accepted.receiverOrg - the primary receiver
 */
export async function indexCareCommunication(tx: Queryable, accepted: { readonly seq: number; readonly message: ParsedMessage; readonly senderOrg: string; readonly receiverOrg: string }): Promise<void> {
  const { message } = accepted;
  if (message.eventCode !== CARE_COMMUNICATION_EVENT) {
    return;
  }
  const resources = (message.bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
  const communication = resources.find((r): r is Communication => r.resourceType === 'Communication');
  const threadId = communication?.identifier?.[0]?.value;
  if (communication === undefined || threadId === undefined) {
    return; // the profile requires both; a message without them has been refused already
  }
  const own = resources.find((r): r is Provenance => r.resourceType === 'Provenance' && r.target.some((t) => t.reference === `MessageHeader/${message.headerId}`));
  const patient = resources.find((r): r is Patient => r.resourceType === 'Patient');
  await insertCareCommunication(tx, {
    messageSeq: accepted.seq,
    threadId,
    headerId: message.headerId,
    senderOrg: accepted.senderOrg,
    receiverOrg: accepted.receiverOrg,
    activity: own?.activity?.coding?.[0]?.code ?? 'new-message',
    category: communication.category?.[0]?.coding?.[0]?.code ?? 'other',
    topic: communication.topic?.text ?? null,
    patientIdentifier: patient?.identifier?.find((i) => CPR_SYSTEMS.has(i.system ?? ''))?.value ?? null,
  });
}

/** A platform Patient as MedCom core's patient profile wants it in a message: id, CPR, official name. */
function bundledPatient(p: Patient & { id: string }): Patient & { id: string } {
  const identifier = (p.identifier ?? []).filter((i) => CPR_SYSTEMS.has(i.system ?? '')).map((i) => ({ ...(i.use === undefined ? {} : { use: i.use }), system: i.system!, value: i.value! }));
  const name = p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
  if (name === undefined) {
    throw new OperationOutcomeError(badRequest('Patienten har intet navn; MedCom kræver patientens officielle navn'));
  }
  return {
    resourceType: 'Patient',
    id: p.id,
    meta: { profile: [`${CORE}/medcom-core-patient`] },
    identifier,
    name: [{ use: 'official', ...(name.family === undefined ? {} : { family: name.family }), ...(name.given === undefined ? {} : { given: [...name.given] }) }],
  };
}

/** References to the replaced bundled Organizations of an earlier message now point at the platform's ids of the same two units. */
function retarget(resources: Resource[], previousHeader: MessageHeader, senderNow: string, receiverNow: string): void {
  const map = new Map<string, string>();
  const prevSender = previousHeader.sender?.reference;
  const prevReceiver = previousHeader.destination?.[0]?.receiver?.reference;
  // The earlier sender is the receiver now, and the other way round.
  if (prevSender !== undefined) {
    map.set(prevSender, `Organization/${receiverNow}`);
  }
  if (prevReceiver !== undefined) {
    map.set(prevReceiver, `Organization/${senderNow}`);
  }
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(walk);
    } else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const [k, x] of Object.entries(o)) {
        if (k === 'reference' && typeof x === 'string' && map.has(x)) {
          o[k] = map.get(x);
        } else {
          walk(x);
        }
      }
    }
  };
  resources.forEach(walk);
}

function narrative(text: string): { status: 'generated'; div: string } {
  const escaped = text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);
  return { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${escaped}</div>` };
}
