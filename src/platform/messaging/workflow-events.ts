import { randomUUID } from 'node:crypto';
import type { Address, Bundle, BundleEntry, Encounter, Endpoint, Extension, MessageHeader, OperationOutcomeIssue, Organization, Patient, Period, Provenance, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import { IdentifierSystem } from '../identifiers/systems.ts';
import { OperationOutcomeError, invalid } from '../fhir/outcome.ts';
import type { FhirPlatform, ResourceChange } from '../fhir/platform.ts';
import { FhirRepository } from '../fhir/repo.ts';
import type { Party } from './acknowledgement.ts';
import { DESTINATION_USE_SYSTEM, buildAcknowledgement, bundledOrganization, messageProvenance, sorEndpoint } from './acknowledgement.ts';
import { DESTINATION_USE_URL, MEDCOM_EVENT_SYSTEM, MESSAGE_PROFILES, parseMessage } from './message.ts';
import { insertMessage, insertOutbox } from './messaging.store.ts';
import { endpointAccepts } from './service.ts';
import type { WorkflowNotificationRow } from './workflow-events.store.ts';
import { findSentNotifications, findUnroutableNotifications, findWorkflowNotification, insertWorkflowNotification, updateNotificationSent } from './workflow-events.store.ts';

/**
 * Workflow events (docs/messaging.md, "Workflow events"): when an Encounter of a hospital stay
 * changes status (admitted, sent on leave, back from leave, discharged, entered in error), the
 * platform writes MedCom's HospitalNotification (sygehusadvis) from the sending department to
 * the citizen's home municipality. It is an after-write hook: the message is built, validated
 * against `medcom-hospitalNotification-message`, stored and queued in the Encounter write's own
 * transaction, so it commits or rolls back with the Encounter. The existing dispatcher delivers
 * it, and the municipality's acknowledgement goes back to the department as for any message.
 */

export const HOSPITAL_NOTIFICATION_EVENT = 'hospital-notification-message';

/** MedCom's activity codes of a HospitalNotification (`medcom-hospitalNotification-messageActivities`). */
export const NotificationActivity = {
  admitInpatient: 'admit-inpatient',
  admitEmergency: 'admit-emergency',
  startLeave: 'start-leave-inpatient',
  endLeave: 'end-leave-inpatient',
  dischargeInpatient: 'discharge-inpatient-home',
  dischargeEmergency: 'discharge-emergency-home',
  cancelAdmitInpatient: 'cancel-admit-inpatient',
  cancelAdmitEmergency: 'cancel-admit-emergency',
  cancelStartLeave: 'cancel-start-leave-inpatient',
  cancelEndLeave: 'cancel-end-leave-inpatient',
  cancelDischargeInpatient: 'cancel-discharge-inpatient-home',
  cancelDischargeEmergency: 'cancel-discharge-emergency-home',
} as const;
export type NotificationActivity = (typeof NotificationActivity)[keyof typeof NotificationActivity];

/** The cancellation of each notification (MedCom's AN_ messages). */
const CANCELLATION: Readonly<Partial<Record<string, NotificationActivity>>> = {
  [NotificationActivity.admitInpatient]: NotificationActivity.cancelAdmitInpatient,
  [NotificationActivity.admitEmergency]: NotificationActivity.cancelAdmitEmergency,
  [NotificationActivity.startLeave]: NotificationActivity.cancelStartLeave,
  [NotificationActivity.endLeave]: NotificationActivity.cancelEndLeave,
  [NotificationActivity.dischargeInpatient]: NotificationActivity.cancelDischargeInpatient,
  [NotificationActivity.dischargeEmergency]: NotificationActivity.cancelDischargeEmergency,
};

const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const HEADER_PROFILE = 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalNotification-messageHeader';
const ENCOUNTER_PROFILE = 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalNotification-encounter';
const LEAVE_PERIOD_URL = 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalnotifiation-leave-period-extension';
const PATIENT_PROFILE = 'http://medcomfhir.dk/fhir/dk-medcom-core/StructureDefinition/medcom-core-patient';
/** DK-core's extension on an address naming its municipality (`dk-core-municipality-codes`). */
const MUNICIPALITY_EXTENSION = 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-municipalityCodes';
/** SOR organisation type of a home care unit (hjemmeplejeenhed): preferred receiver when several units accept. */
const HOME_CARE_SOR_TYPE = '554821000005109';

/** A hospital stay as far as notifications go: the class (inpatient or acute ambulant) and status. */
interface Stay {
  readonly cls: 'IMP' | 'EMER';
  readonly status: string;
}

/** What an Encounter change means for the home municipality. */
export type Transition = { readonly activity: NotificationActivity } | { readonly refused: string } | undefined;

/**
 * The notification an Encounter change calls for (MedCom HospitalNotification 3.0.2). Pure.
 * @param before - the previous version (undefined when new)
 * @param after - the new version (undefined when deleted)
 * @param lastSent - the activity of the last notification sent for this Encounter
 * @returns the activity, a refusal (the writer's fault) or undefined (no notification)
 */
export function notificationFor(before: Encounter | undefined, after: Encounter | undefined, lastSent: string | undefined): Transition {
  const b = stayOf(before);
  const a = stayOf(after);
  // Entered in error (or deleted): what was sent about the stay is cancelled.
  if (after === undefined || after.status === 'entered-in-error') {
    if (before?.status === 'entered-in-error' || (a === undefined && b === undefined)) {
      return undefined;
    }
    const cancel = lastSent === undefined ? undefined : CANCELLATION[lastSent];
    return cancel === undefined ? undefined : { activity: cancel };
  }
  if (a === undefined) {
    return undefined;
  }
  const same = b !== undefined && b.cls === a.cls ? b.status : undefined;
  if (same === a.status) {
    return undefined;
  }
  switch (a.status) {
    case 'in-progress':
      if (same === 'onleave') {
        return { activity: NotificationActivity.endLeave };
      }
      if (same === 'finished') {
        // A discharge taken back: MedCom cancels the discharge notification.
        const cancel = lastSent === NotificationActivity.dischargeInpatient || lastSent === NotificationActivity.dischargeEmergency ? CANCELLATION[lastSent] : undefined;
        return cancel === undefined ? undefined : { activity: cancel };
      }
      return { activity: a.cls === 'IMP' ? NotificationActivity.admitInpatient : NotificationActivity.admitEmergency };
    case 'onleave':
      if (a.cls !== 'IMP') {
        return { refused: 'Orlov findes kun for indlagte patienter (Encounter.class IMP); et akut ambulant forløb (EMER) kan ikke sættes på orlov' };
      }
      if (same !== 'in-progress') {
        return { refused: 'Orlov kræver en igangværende indlæggelse: sæt først Encounter.status til in-progress (indlæggelsen sender sygehusadvis)' };
      }
      return { activity: NotificationActivity.startLeave };
    case 'finished':
      if (same === 'in-progress' || same === 'onleave') {
        return { activity: a.cls === 'IMP' ? NotificationActivity.dischargeInpatient : NotificationActivity.dischargeEmergency };
      }
      // Created finished (a record of a past stay) or never begun: no one to notify.
      return undefined;
    default:
      if (same === 'in-progress' || same === 'onleave') {
        return { refused: `Et påbegyndt sygehusophold kan ikke sættes tilbage til status ${a.status}; brug entered-in-error for at annullere det (kommunen får en annullering)` };
      }
      return undefined;
  }
}

function stayOf(e: Encounter | undefined): Stay | undefined {
  const code = e?.class?.code;
  if (e === undefined || (code !== 'IMP' && code !== 'EMER') || (e.class.system !== undefined && e.class.system !== ACT_CODE_SYSTEM)) {
    return undefined;
  }
  return { cls: code, status: e.status };
}

/** A notification that cannot be addressed: stored as a dead letter for operators. */
class Unroutable extends Error {}

/** Platforms whose hook is registered (buildApp may be given the same platform twice). */
const registered = new WeakSet<FhirPlatform>();

/**
 * Registers the workflow events' after-write hook on the platform (once per platform).
 * @param platform - the FHIR platform
 */
export function registerWorkflowEvents(platform: FhirPlatform): void {
  if (registered.has(platform)) {
    return;
  }
  registered.add(platform);
  const events = new WorkflowEvents(new FhirRepository(platform));
  platform.addWriteHook((tx, changes) => events.onChanges(tx, changes));
}

/** An unroutable notification as operators see it. */
export interface UnroutableNotification {
  readonly id: number;
  readonly encounter: string;
  readonly patient: string;
  readonly activity: string;
  readonly senderOrg: string;
  readonly reason: string;
  readonly created: string;
}

/**
 * Notifications that could not be addressed (dead letters of the workflow events), oldest first.
 * @param q - database
 * @param limit - most rows
 * @returns them
 */
export async function listUnroutableNotifications(q: Queryable, limit = 100): Promise<UnroutableNotification[]> {
  return (await findUnroutableNotifications(q, limit)).map((r) => ({
    id: r.id,
    encounter: `Encounter/${r.encounterId}/_history/${r.encounterVersion}`,
    patient: `Patient/${r.patientId}`,
    activity: r.activity,
    senderOrg: r.senderOrg,
    reason: r.reason ?? '',
    created: r.created,
  }));
}

/**
 * Sends an unroutable notification again, once an operator has fixed what was missing (the
 * citizen's address, the municipality's receiving unit): it is built from the Encounter version
 * that caused it and the citizen's current data, validated, stored and queued in one transaction.
 * @param platform - the FHIR platform (with the MedCom validator)
 * @param id - the notification's id (`listUnroutableNotifications`)
 * @returns the receiving organisation's id
 */
export async function resendWorkflowNotification(platform: FhirPlatform, id: number): Promise<string> {
  const repo = new FhirRepository(platform);
  const events = new WorkflowEvents(repo);
  return platform.db.transaction(async (tx) => {
    const row = await findWorkflowNotification(tx, id);
    if (row?.status !== 'unroutable') {
      throw new OperationOutcomeError(invalid([{ severity: 'error', code: 'not-found', details: { text: `Sygehusadvis ${id} venter ikke på at blive sendt (se dsd messaging dead-letters)` } }]));
    }
    const version = JSON.parse((await repo.vread('Encounter', row.encounterId, String(row.encounterVersion), tx)).content) as Encounter;
    const sent = await events.send(tx, row.activity as NotificationActivity, version, row.encounterVersion, { resend: row });
    return 'receiver' in sent ? sent.receiver : '';
  });
}

class WorkflowEvents {
  /** Unrestricted: the hook reads the citizen and the organisations, whoever wrote the Encounter. */
  private readonly repo: FhirRepository;

  constructor(repo: FhirRepository) {
    this.repo = repo;
  }

  /** @returns a warning for each notification that could not be addressed (the write is kept) */
  async onChanges(tx: Queryable, changes: readonly ResourceChange[]): Promise<OperationOutcomeIssue[]> {
    const warnings: OperationOutcomeIssue[] = [];
    for (const c of changes) {
      // Bulk loads of past data (reference data, the synthetic population) notify no one.
      if (c.resourceType !== 'Encounter' || c.trusted) {
        continue;
      }
      const before = c.before === undefined ? undefined : (JSON.parse(c.before) as Encounter);
      const after = c.after as Encounter | undefined;
      if (stayOf(before) === undefined && stayOf(after) === undefined) {
        continue;
      }
      const sent = await findSentNotifications(tx, c.id);
      const transition = notificationFor(before, after, sent[sent.length - 1]?.activity);
      if (transition === undefined) {
        continue;
      }
      if ('refused' in transition) {
        throw new OperationOutcomeError(invalid([{ severity: 'error', code: 'business-rule', details: { text: transition.refused }, expression: ['Encounter.status'] }]));
      }
      // A deleted Encounter is notified as entered in error, from its last version.
      const encounter = after ?? { ...before!, status: 'entered-in-error' };
      const result = await this.send(tx, transition.activity, encounter, c.versionId, { sent });
      if ('unroutable' in result) {
        warnings.push({
          severity: 'warning',
          code: 'incomplete',
          details: {
            text: `Encounter/${c.id} er gemt, men sygehusadvisen (${transition.activity}) kan ikke sendes til borgerens kommune: ${result.reason}. Den venter hos driften (dsd messaging dead-letters, notification ${result.unroutable}) og sendes, når fejlen er rettet.`,
          },
          expression: ['Encounter.subject'],
        });
      }
    }
    return warnings;
  }

  /**
   * Builds, validates, stores and queues one notification, or records it as unroutable.
   * @returns the receiving organisation's id, or the unroutable row's id and reason
   */
  async send(
    tx: Queryable,
    activity: NotificationActivity,
    encounter: Encounter,
    version: number,
    context: { sent?: WorkflowNotificationRow[]; resend?: WorkflowNotificationRow },
  ): Promise<{ receiver: string } | { unroutable: number; reason: string }> {
    const encounterId = encounter.id!;
    const sender = await this.sender(tx, encounter);
    const patient = await this.patient(tx, encounter);
    let receiver: Party;
    try {
      receiver = await this.homeMunicipality(tx, patient);
    } catch (err) {
      if (!(err instanceof Unroutable)) {
        throw err;
      }
      if (context.resend !== undefined) {
        throw new OperationOutcomeError(invalid([{ severity: 'error', code: 'business-rule', details: { text: `Sygehusadvisen kan stadig ikke sendes: ${err.message}` } }]));
      }
      const unroutable = await insertWorkflowNotification(tx, {
        encounterId,
        encounterVersion: version,
        patientId: patient.id,
        activity,
        senderOrg: sender.organization.id,
        receiverOrg: null,
        messageSeq: null,
        headerId: null,
        provenance: null,
        status: 'unroutable',
        reason: err.message,
      });
      return { unroutable, reason: err.message };
    }
    const sent = context.sent ?? (await findSentNotifications(tx, encounterId));
    const now = new Date();
    const built = buildHospitalNotification({ activity, encounter, patient, sender, receiver, previous: sent, baseUrl: this.repo.platform.baseUrl, now });
    this.validate(built.bundle, encounterId, activity);
    const parsed = parseMessage(built.bundle);
    if (parsed.message === undefined) {
      throw new Error(`the HospitalNotification built for Encounter/${encounterId} is not a message: ${parsed.problems.map((p) => p.text).join('; ')}`);
    }
    const ack = buildAcknowledgement(parsed.message, receiver, sender, this.repo.platform.baseUrl, now);
    const seq = await insertMessage(tx, {
      bundleId: parsed.message.bundleId,
      headerId: parsed.message.headerId,
      eventCode: HOSPITAL_NOTIFICATION_EVENT,
      senderOrg: sender.organization.id,
      receiverOrg: receiver.organization.id,
      content: JSON.stringify(built.bundle),
      ackContent: JSON.stringify(ack),
    });
    if (seq === undefined) {
      throw new Error('a new HospitalNotification collided with a stored message id');
    }
    await insertOutbox(tx, seq, [{ receiverOrg: receiver.organization.id, endpointId: receiver.endpoint?.id ?? null, role: 'primary' }]);
    const facts = { receiverOrg: receiver.organization.id, messageSeq: seq, headerId: parsed.message.headerId, provenance: JSON.stringify(built.provenance) };
    if (context.resend !== undefined) {
      await updateNotificationSent(tx, context.resend.id, facts);
    } else {
      await insertWorkflowNotification(tx, { encounterId, encounterVersion: version, patientId: patient.id, activity, senderOrg: sender.organization.id, ...facts, status: 'queued', reason: null });
    }
    return { receiver: receiver.organization.id };
  }

  /** The generated message must conform to MedCom's profile; if not, the Encounter write fails. */
  private validate(bundle: Bundle, encounterId: string, activity: string): void {
    try {
      this.repo.validate(bundle);
    } catch (err) {
      if (err instanceof OperationOutcomeError) {
        const lead = {
          severity: 'error' as const,
          code: 'business-rule' as const,
          details: { text: `Sygehusadvisen (${activity}) for Encounter/${encounterId} overholder ikke MedComs profil medcom-hospitalNotification-message; Encounter gemmes ikke` },
        };
        throw new OperationOutcomeError(invalid([lead, ...(err.outcome.issue ?? [])]));
      }
      throw err;
    }
  }

  /** The sending department: Encounter.serviceProvider, an organisation on the platform with a SOR code. */
  private async sender(tx: Queryable, encounter: Encounter): Promise<Party & { organization: { id: string } }> {
    const ref = encounter.serviceProvider?.reference;
    const refuse = (text: string): never => {
      throw new OperationOutcomeError(invalid([{ severity: 'error', code: 'business-rule', details: { text }, expression: ['Encounter.serviceProvider'] }]));
    };
    if (ref === undefined || !ref.startsWith('Organization/')) {
      return refuse('Et sygehusophold skal have Encounter.serviceProvider: den afdeling, der sender sygehusadvis til borgerens kommune');
    }
    const org = await this.readOrganization(tx, ref.slice('Organization/'.length));
    if (org === undefined) {
      return refuse(`Encounter.serviceProvider (${ref}) findes ikke på platformen`);
    }
    if (org.identifier?.some((i) => i.system === IdentifierSystem.sor && i.value !== undefined) !== true) {
      return refuse(`Encounter.serviceProvider (${org.name ?? ref}) har ingen SOR-kode og kan ikke sende sygehusadvis`);
    }
    return { organization: org, endpoint: await this.endpointAccepting(tx, org, 'acknowledgement-message') };
  }

  private async patient(tx: Queryable, encounter: Encounter): Promise<Patient & { id: string }> {
    const ref = encounter.subject?.reference;
    if (ref === undefined || !ref.startsWith('Patient/')) {
      throw new OperationOutcomeError(invalid([{ severity: 'error', code: 'business-rule', details: { text: 'Et sygehusophold skal have Encounter.subject: den borger, kommunen får sygehusadvis om' }, expression: ['Encounter.subject'] }]));
    }
    return JSON.parse((await this.repo.read('Patient', ref.slice('Patient/'.length), tx)).content) as Patient & { id: string };
  }

  /**
   * The receiving unit of the citizen's home municipality: the municipality (the Organization with
   * the municipality code as identifier) or one of its units (partOf) whose active Endpoint accepts
   * HospitalNotifications. Where several do, the home care unit, else the first by id.
   */
  private async homeMunicipality(tx: Queryable, patient: Patient & { id: string }): Promise<Party> {
    const code = municipalityCode(patient);
    if (code === undefined) {
      throw new Unroutable(`Patient/${patient.id} har ingen adresse med kommunekode (dk-core-municipalityCodes); borgerens kommune kendes ikke`);
    }
    const found = await this.repo.search('Organization', [['identifier', `${IdentifierSystem.municipalityCode}|${code}`], ['_count', '2']], false, tx);
    const municipality = found.matches[0] === undefined ? undefined : (JSON.parse(found.matches[0].content) as Organization & { id: string });
    if (municipality === undefined) {
      throw new Unroutable(`kommunekode ${code} (Patient/${patient.id}) findes ikke i organisationsregistret`);
    }
    const units = await this.repo.search('Organization', [['partof', `Organization/${municipality.id}`], ['_count', '100']], false, tx);
    const candidates = [municipality, ...units.matches.map((m) => JSON.parse(m.content) as Organization & { id: string })]
      .filter((o) => o.active !== false)
      .sort((x, y) => Number(!isHomeCare(x)) - Number(!isHomeCare(y)) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    for (const org of candidates) {
      const endpoint = await this.endpointAccepting(tx, org, HOSPITAL_NOTIFICATION_EVENT);
      if (endpoint !== undefined) {
        return { organization: org, endpoint };
      }
    }
    throw new Unroutable(`ingen enhed i ${municipality.name ?? municipality.id} modtager ${HOSPITAL_NOTIFICATION_EVENT} (MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE)`);
  }

  private async readOrganization(tx: Queryable, id: string): Promise<(Organization & { id: string }) | undefined> {
    try {
      return JSON.parse((await this.repo.read('Organization', id, tx)).content) as Organization & { id: string };
    } catch (err) {
      if (err instanceof OperationOutcomeError) {
        return undefined;
      }
      throw err;
    }
  }

  private async endpointAccepting(tx: Queryable, org: Organization, eventCode: string): Promise<(Endpoint & { id: string }) | undefined> {
    for (const ref of org.endpoint ?? []) {
      if (ref.reference?.startsWith('Endpoint/') !== true) {
        continue;
      }
      try {
        const ep = JSON.parse((await this.repo.read('Endpoint', ref.reference.slice('Endpoint/'.length), tx)).content) as Endpoint & { id: string };
        if (endpointAccepts(ep, eventCode)) {
          return ep;
        }
      } catch (err) {
        if (!(err instanceof OperationOutcomeError)) {
          throw err;
        }
      }
    }
    return undefined;
  }
}

function isHomeCare(o: Organization): boolean {
  return (o.type ?? []).some((t) => (t.coding ?? []).some((c) => c.code === HOME_CARE_SOR_TYPE));
}

/**
 * The citizen's home municipality code: from the current home address (else any current address)
 * carrying DK-core's municipality code extension.
 * @param patient - the citizen
 * @returns the 4-digit code
 */
export function municipalityCode(patient: Patient): string | undefined {
  const now = new Date().toISOString();
  const current = (a: Address): boolean => a.period?.end === undefined || a.period.end > now;
  const addresses = (patient.address ?? []).filter((a) => current(a) && a.use !== 'old');
  const ordered = [...addresses.filter((a) => a.use === 'home'), ...addresses.filter((a) => a.use !== 'home')];
  for (const a of ordered) {
    const code = a.extension?.find((x) => x.url === MUNICIPALITY_EXTENSION)?.valueCodeableConcept?.coding?.find((c) => /^\d{4}$/.test(c.code ?? ''))?.code;
    if (code !== undefined) {
      return code;
    }
  }
  return undefined;
}

/** What a HospitalNotification is built from. */
export interface NotificationInput {
  readonly activity: NotificationActivity;
  readonly encounter: Encounter;
  readonly patient: Patient & { id: string };
  readonly sender: Party;
  readonly receiver: Party;
  /** Notifications sent earlier for the same Encounter, oldest first (their Provenances are carried). */
  readonly previous: readonly WorkflowNotificationRow[];
  readonly baseUrl: string;
  readonly now: Date;
}

/**
 * Builds the HospitalNotification message (MedCom HospitalNotification 3.0.2): MessageHeader,
 * the citizen, the Encounter as MedCom's profile has it, both organisations, the Provenances of
 * the notifications sent earlier about the stay and a new one for this activity, which refers
 * to the previous message.
 * @param x - the parts
 * @returns the message and its new Provenance
 */
export function buildHospitalNotification(x: NotificationInput): { bundle: Bundle; provenance: Provenance } {
  const when = x.now.toISOString();
  const headerId = randomUUID();
  const provenanceId = randomUUID();
  const sender = x.sender.organization;
  const receiver = x.receiver.organization;
  const previousHeader = x.previous[x.previous.length - 1]?.headerId ?? undefined;
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: headerId,
    meta: { profile: [HEADER_PROFILE] },
    eventCoding: { system: MEDCOM_EVENT_SYSTEM, code: HOSPITAL_NOTIFICATION_EVENT },
    destination: [
      {
        extension: [{ url: DESTINATION_USE_URL, valueCoding: { system: DESTINATION_USE_SYSTEM, code: 'primary' } }],
        endpoint: sorEndpoint(x.receiver),
        receiver: { reference: `Organization/${receiver.id}` },
      },
    ],
    sender: { reference: `Organization/${sender.id}` },
    source: { endpoint: sorEndpoint(x.sender) },
    focus: [{ reference: `Encounter/${x.encounter.id!}` }],
  };
  const provenance = messageProvenance({ id: provenanceId, headerId, when, activity: x.activity, agentOrg: sender.id, ...(previousHeader === undefined ? {} : { revises: previousHeader }) });
  const earlier = x.previous.flatMap((p) => (p.provenance === null ? [] : [JSON.parse(p.provenance) as Provenance]));
  const entry = (r: Resource): BundleEntry => ({ fullUrl: `${x.baseUrl}/${r.resourceType}/${r.id ?? ''}`, resource: r });
  const orgs = receiver.id === sender.id ? [receiver] : [receiver, sender];
  return {
    provenance,
    bundle: {
      resourceType: 'Bundle',
      id: randomUUID(),
      meta: { profile: [MESSAGE_PROFILES[HOSPITAL_NOTIFICATION_EVENT]!] },
      type: 'message',
      timestamp: when,
      entry: [
        entry(header),
        entry(messagePatient(x.patient)),
        entry(messageEncounter(x, sender)),
        ...orgs.map((o) => entry(bundledOrganization(o))),
        ...earlier.map(entry),
        entry(provenance),
      ],
    },
  };
}

/** The citizen as MedCom's core Patient profile has it: CPR number, official name, address. */
function messagePatient(p: Patient & { id: string }): Patient {
  const official = p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
  const address = p.address?.find((a) => a.use === 'home') ?? p.address?.[0];
  return {
    resourceType: 'Patient',
    id: p.id,
    meta: { profile: [PATIENT_PROFILE] },
    identifier: (p.identifier ?? []).filter((i) => i.system === IdentifierSystem.cpr).map((i) => ({ system: i.system, value: i.value })),
    ...(official === undefined ? {} : { name: [{ ...official, use: 'official' as const }] }),
    ...(p.deceasedBoolean === undefined ? {} : { deceasedBoolean: p.deceasedBoolean }),
    ...(p.deceasedDateTime === undefined ? {} : { deceasedDateTime: p.deceasedDateTime }),
    ...(address === undefined ? {} : { address: [address] }),
  };
}

/**
 * The Encounter as MedCom's profile has it: status, class, the citizen, the stay's episode of
 * care identifier, period, serviceProvider and (on leave) the leave period. Elements the
 * profile forbids (type, participant, diagnosis, hospitalization, …) are left out.
 */
function messageEncounter(x: NotificationInput, sender: Organization & { id: string }): Encounter {
  const e = x.encounter;
  const when = x.now.toISOString();
  const sor = sender.identifier?.find((i) => i.system === IdentifierSystem.sor)?.value ?? '';
  const episodes = (e.episodeOfCare ?? []).filter((r) => r.identifier?.value !== undefined).map((r) => ({ identifier: r.identifier! }));
  const period: Period = { start: e.period?.start ?? when, ...(e.status === 'finished' ? { end: e.period?.end ?? when } : {}) };
  const leave = leavePeriod(x);
  return {
    resourceType: 'Encounter',
    id: e.id!,
    meta: { profile: [ENCOUNTER_PROFILE] },
    ...(leave === undefined ? {} : { extension: [{ url: LEAVE_PERIOD_URL, valuePeriod: leave }] }),
    status: e.status,
    class: { system: ACT_CODE_SYSTEM, code: e.class.code! },
    subject: { reference: `Patient/${x.patient.id}` },
    // The stay's identifier: the hospital's own, else the platform's Encounter id under the department's SOR address.
    episodeOfCare: episodes.length > 0 ? episodes : [{ identifier: { system: `https://sor2.sum.dsdn.dk/#id=${sor}`, value: e.id! } }],
    period,
    serviceProvider: { reference: `Organization/${sender.id}` },
  };
}

/** The leave period for a leave's start or end: the Encounter's own, else its status history, else the notifications' times. */
function leavePeriod(x: NotificationInput): Period | undefined {
  if (x.activity !== NotificationActivity.startLeave && x.activity !== NotificationActivity.endLeave) {
    return undefined;
  }
  const own = x.encounter.extension?.find((ext: Extension) => ext.url === LEAVE_PERIOD_URL)?.valuePeriod;
  const history = [...(x.encounter.statusHistory ?? [])].reverse().find((h) => h.status === 'onleave')?.period;
  const startedNotice = [...x.previous].reverse().find((p) => p.activity === NotificationActivity.startLeave);
  const noticeText = startedNotice?.provenance ?? undefined;
  const noticed = noticeText === undefined ? undefined : (JSON.parse(noticeText) as Provenance).occurredDateTime;
  const start = own?.start ?? history?.start ?? noticed ?? x.now.toISOString();
  if (x.activity === NotificationActivity.startLeave) {
    return { start };
  }
  return { start, end: own?.end ?? history?.end ?? x.now.toISOString() };
}
