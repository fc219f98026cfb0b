import type { Bundle, Coding, Identifier, MessageHeader, OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { GLN_HTTPS_MISSPELLING, IdentifierSystem } from '../identifiers/systems.ts';

/**
 * The shape of a MedCom FHIR message (https://medcomfhir.dk/ig/messaging/): a Bundle of type
 * message whose first entry is the MessageHeader, with at least one Provenance for that header,
 * the sender and receivers as bundled Organizations carrying SOR code and GLN, and the focus
 * resources. Pure functions: no database.
 */

export const MEDCOM_EVENT_SYSTEM = 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes';
export const ACK_ERROR_SYSTEM = 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-acknowledgement-error-codes';
export const DESTINATION_USE_URL = 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension';
export const ACKNOWLEDGEMENT_EVENT = 'acknowledgement-message';
/**
 * The GLN identifier system inside MedCom messages. The MedCom message packages on the platform
 * (Messaging 4.0.1, CareCommunication 5.0.4, HospitalNotification 3.0.2, Acknowledgement 2.0.3)
 * depend on DK-core 2.0.0 to 3.4.0, whose `dk-core-gln-identifier` fixes `https://www.gs1.org/gln`;
 * DK-core 3.5.0 changed it to `http://`, which the platform's own Organizations use. A message is
 * validated with the versions its package depends on, so the platform writes the `https` form in
 * the messages it builds, and reads a GLN written either way.
 */
export const MESSAGE_GLN_SYSTEM = GLN_HTTPS_MISSPELLING;

/** The Bundle profile each message type must declare in Bundle.meta.profile. */
export const MESSAGE_PROFILES: Readonly<Record<string, string>> = {
  'hospital-notification-message': 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalNotification-message',
  'care-communication-message': 'http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-message',
  'acknowledgement-message': 'http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement',
  'empty-message': 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-message',
};

/** Codes of MedCom's acknowledgement error code system used in fatal-error outcomes. */
export const AckError = {
  receiverUnknown: 'MSG_Receiver_Identifier_UNKNOWN',
  receiverMissing: 'MSG_Receiver_Identifier_MISSING',
  receiverUnableToReceive: 'MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE',
  valueSetValueUnknown: 'MSG_VALUESET_VALUE_UNKNOWN',
  mailboxOutOfOperation: 'MSG_Mailbox_Out_Of_Operation',
} as const;
export type AckError = (typeof AckError)[keyof typeof AckError];

/** How a bundled Organization names a platform organisation. */
export interface OrganizationAddress {
  /** `Organization/<id>` as written in the message. */
  readonly reference: string;
  readonly sor: string | undefined;
  readonly gln: string | undefined;
  readonly name: string | undefined;
  /** True when the message bundles the Organization (MedCom), false for a literal platform reference. */
  readonly bundled: boolean;
}

/** One destination of the message. */
export interface Destination {
  readonly use: 'primary' | 'cc';
  readonly receiver: OrganizationAddress;
}

/** The parts of a message the hub routes on. */
export interface ParsedMessage {
  readonly bundle: Bundle;
  readonly header: MessageHeader;
  readonly bundleId: string;
  readonly headerId: string;
  readonly eventCode: string;
  readonly sender: OrganizationAddress;
  readonly destinations: readonly Destination[];
}

/**
 * An OperationOutcome that a fatal-error acknowledgement would carry: one error issue per
 * problem, coded with MedCom's acknowledgement error codes where one fits.
 * @param id - the outcome id (selects the HTTP status, see outcome.ts)
 * @param problems - text (Danish) and optional MedCom code and FHIRPath location
 * @returns the outcome
 */
export function fatalOutcome(id: 'bad-request' | 'invalid' | 'forbidden' | 'conflict', problems: readonly { text: string; code?: AckError; expression?: string }[]): OperationOutcome {
  const issueCode: OperationOutcomeIssue['code'] = id === 'forbidden' ? 'forbidden' : id === 'conflict' ? 'conflict' : id === 'bad-request' ? 'structure' : 'invalid';
  return {
    resourceType: 'OperationOutcome',
    id,
    issue: problems.map((p) => ({
      severity: 'error',
      code: issueCode,
      details: { ...(p.code === undefined ? {} : { coding: [{ system: ACK_ERROR_SYSTEM, code: p.code }] }), text: p.text },
      ...(p.expression === undefined ? {} : { expression: [p.expression] }),
    })),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Finds the entry a reference inside a message points to: by fullUrl ending in `/<Type>/<id>`,
 * by exact fullUrl, or by resource type and id.
 * @param bundle - the message
 * @param reference - e.g. `Organization/abc`
 * @returns the resource
 */
export function resolveInBundle(bundle: Bundle, reference: string): Resource | undefined {
  for (const e of bundle.entry ?? []) {
    const r = e.resource;
    if (r === undefined) {
      continue;
    }
    if (e.fullUrl === reference || (e.fullUrl?.endsWith(`/${reference}`) ?? false) || `${r.resourceType}/${r.id ?? ''}` === reference) {
      return r;
    }
  }
  return undefined;
}

function identifierValue(ids: readonly Identifier[] | undefined, systems: readonly string[]): string | undefined {
  return ids?.find((i) => i.system !== undefined && systems.includes(i.system) && typeof i.value === 'string')?.value;
}

function address(bundle: Bundle, reference: string | undefined): OrganizationAddress | undefined {
  if (reference === undefined) {
    return undefined;
  }
  const r = resolveInBundle(bundle, reference);
  if (r === undefined) {
    // Not bundled: a literal reference to an Organization on this platform.
    return /^Organization\/[A-Za-z0-9\-.]{1,64}$/.test(reference) ? { reference, sor: undefined, gln: undefined, name: undefined, bundled: false } : undefined;
  }
  if (r.resourceType !== 'Organization') {
    return undefined;
  }
  const org = r;
  return {
    reference,
    sor: identifierValue(org.identifier, [IdentifierSystem.sor]),
    gln: identifierValue(org.identifier, [MESSAGE_GLN_SYSTEM, IdentifierSystem.gln]),
    name: org.name,
    bundled: true,
  };
}

/**
 * Checks the structure the hub relies on before anything else; throws nothing, returns problems.
 * @param body - the request body
 * @returns the parsed message, or the problems found
 */
export function parseMessage(body: unknown): { message: ParsedMessage; problems?: undefined } | { message?: undefined; problems: { text: string; code?: AckError; expression?: string }[] } {
  const problems: { text: string; code?: AckError; expression?: string }[] = [];
  if (!isObject(body) || body.resourceType !== 'Bundle') {
    return { problems: [{ text: 'Beskeden skal være en Bundle af typen message (MedCom FHIR-meddelelse)' }] };
  }
  const bundle = body as unknown as Bundle;
  if (bundle.type !== 'message') {
    problems.push({ text: `Bundle.type skal være "message", ikke "${String(bundle.type)}"`, expression: 'Bundle.type' });
  }
  if (typeof bundle.id !== 'string' || bundle.id === '') {
    problems.push({ text: 'Bundle.id mangler (bruges til dubletkontrol)', expression: 'Bundle.id' });
  }
  if (typeof bundle.timestamp !== 'string') {
    problems.push({ text: 'Bundle.timestamp mangler', expression: 'Bundle.timestamp' });
  }
  const first = bundle.entry?.[0]?.resource;
  if (first?.resourceType !== 'MessageHeader') {
    problems.push({ text: 'Første entry skal være en MessageHeader', expression: 'Bundle.entry[0]' });
    return { problems };
  }
  const header = first;
  if (typeof header.id !== 'string' || header.id === '') {
    problems.push({ text: 'MessageHeader.id mangler (bruges til dubletkontrol)', expression: 'Bundle.entry[0].resource.id' });
  }
  const event: Coding | undefined = header.eventCoding;
  if (event?.system !== MEDCOM_EVENT_SYSTEM || typeof event.code !== 'string') {
    problems.push({ text: `MessageHeader.eventCoding skal være en kode fra ${MEDCOM_EVENT_SYSTEM}`, code: AckError.valueSetValueUnknown, expression: 'Bundle.entry[0].resource.eventCoding' });
  }
  const headerRefs = new Set([`MessageHeader/${header.id ?? ''}`, bundle.entry?.[0]?.fullUrl ?? '']);
  const provenances = (bundle.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === 'Provenance');
  if (provenances.length === 0) {
    problems.push({ text: 'Beskeden mangler en Provenance', expression: 'Bundle.entry' });
  } else if (!provenances.some((p) => (p.target ?? []).some((t) => t.reference !== undefined && (headerRefs.has(t.reference) || [...headerRefs].some((h) => h !== '' && h.endsWith(`/${t.reference ?? ''}`)))))) {
    problems.push({ text: 'Ingen Provenance har denne MessageHeader som target', expression: 'Bundle.entry' });
  }
  for (const [i, f] of (header.focus ?? []).entries()) {
    if (f.reference === undefined || resolveInBundle(bundle, f.reference) === undefined) {
      problems.push({ text: `MessageHeader.focus ${f.reference ?? ''} findes ikke i beskeden`, expression: `Bundle.entry[0].resource.focus[${i}]` });
    }
  }
  const sender = address(bundle, header.sender?.reference);
  if (sender === undefined) {
    problems.push({ text: 'MessageHeader.sender skal henvise til en Organization i beskeden', expression: 'Bundle.entry[0].resource.sender' });
  }
  const destinations: Destination[] = [];
  for (const [i, d] of (header.destination ?? []).entries()) {
    const useCode = d.extension?.find((x) => x.url === DESTINATION_USE_URL)?.valueCoding?.code;
    const receiver = address(bundle, d.receiver?.reference);
    if (receiver === undefined) {
      problems.push({ text: 'Modtageren (MessageHeader.destination.receiver) skal henvise til en Organization', code: AckError.receiverMissing, expression: `Bundle.entry[0].resource.destination[${i}].receiver` });
      continue;
    }
    destinations.push({ use: useCode === 'cc' ? 'cc' : 'primary', receiver });
  }
  if (destinations.filter((d) => d.use === 'primary').length !== 1 && problems.every((p) => p.code !== AckError.receiverMissing)) {
    problems.push({ text: 'Beskeden skal have præcis én primær modtager', code: AckError.receiverMissing, expression: 'Bundle.entry[0].resource.destination' });
  }
  if (problems.length > 0 || sender === undefined || event?.code === undefined) {
    return { problems };
  }
  return { message: { bundle, header, bundleId: bundle.id!, headerId: header.id!, eventCode: event.code, sender, destinations } };
}
