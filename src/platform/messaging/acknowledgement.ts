import { randomUUID } from 'node:crypto';
import type { Bundle, Endpoint, MessageHeader, Organization, Provenance } from '@medplum/fhirtypes';
import { IdentifierSystem } from '../identifiers/systems.ts';
import { ACKNOWLEDGEMENT_EVENT, DESTINATION_USE_URL, MEDCOM_EVENT_SYSTEM, MESSAGE_GLN_SYSTEM, MESSAGE_PROFILES } from './message.ts';
import type { ParsedMessage } from './message.ts';

/**
 * Builds MedCom Acknowledgement messages (https://medcomfhir.dk/ig/acknowledgement/): from the
 * receiver back to the sender, `MessageHeader.response` naming the acknowledged MessageHeader,
 * a Provenance with activity `acknowledgement` whose entity is that header.
 */

const ACK_HEADER_PROFILE = 'http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader';
const PROVENANCE_PROFILE = 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-provenance';
const ORGANIZATION_PROFILE = 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-organization';
export const ACTIVITY_SYSTEM = 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes';
export const DESTINATION_USE_SYSTEM = 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse';

/** A platform organisation taking part in a message, with its MedCom address. */
export interface Party {
  readonly organization: Organization & { id: string };
  readonly endpoint: (Endpoint & { id: string }) | undefined;
}

/**
 * @param party - an organisation
 * @returns its SOR address as MedCom writes endpoints (`https://sor2.sum.dsdn.dk/#id=<SOR>`)
 */
export function sorEndpoint(party: Party): string {
  const sor = party.organization.identifier?.find((i) => i.system === IdentifierSystem.sor)?.value ?? '';
  return party.endpoint?.address ?? `https://sor2.sum.dsdn.dk/#id=${sor}`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);
}

/**
 * A platform Organization as a MedCom message carries it: its SOR code, and its GLN in the
 * message's GLN system ({@link MESSAGE_GLN_SYSTEM}).
 * @param o - the platform's Organization
 * @returns the bundled copy
 */
export function bundledOrganization(o: Organization & { id: string }): Organization {
  const keep = (o.identifier ?? [])
    .filter((i) => i.system === IdentifierSystem.sor || i.system === IdentifierSystem.gln || i.system === MESSAGE_GLN_SYSTEM)
    .map((i) => (i.system === IdentifierSystem.gln ? { ...i, system: MESSAGE_GLN_SYSTEM } : i));
  return { resourceType: 'Organization', id: o.id, meta: { profile: [ORGANIZATION_PROFILE] }, identifier: keep, ...(o.name === undefined ? {} : { name: o.name }) };
}

/**
 * The positive acknowledgement (`ok`) a receiver answers for a message it accepted.
 * @param message - the acknowledged message
 * @param receiver - who acknowledges (the message's primary receiver)
 * @param sender - who receives the acknowledgement (the message's sender)
 * @param baseUrl - the FHIR base, for fullUrls
 * @param now - the time of acknowledgement
 * @returns the acknowledgement message
 */
/**
 * The Provenance of a MedCom message: who did what (the activity code) to which MessageHeader,
 * and, for a reply, correction or acknowledgement, the earlier MessageHeader it revises.
 * @param p - its parts; `profile` defaults to the MedCom messaging Provenance
 * @returns the Provenance
 */
export function messageProvenance(p: {
  readonly id: string;
  readonly headerId: string;
  readonly when: string;
  readonly activity: string;
  readonly agentOrg: string;
  readonly revises?: string;
  readonly entities?: NonNullable<Provenance['entity']>;
  readonly profile?: string;
}): Provenance {
  const entity = [...(p.revises === undefined ? [] : [{ role: 'revision' as const, what: { reference: `MessageHeader/${p.revises}` } }]), ...(p.entities ?? [])];
  return {
    resourceType: 'Provenance',
    id: p.id,
    meta: { profile: [p.profile ?? PROVENANCE_PROFILE] },
    target: [{ reference: `MessageHeader/${p.headerId}` }],
    occurredDateTime: p.when,
    recorded: p.when,
    activity: { coding: [{ system: ACTIVITY_SYSTEM, code: p.activity }] },
    agent: [{ who: { reference: `Organization/${p.agentOrg}` } }],
    ...(entity.length === 0 ? {} : { entity }),
  };
}

export function buildAcknowledgement(message: ParsedMessage, receiver: Party, sender: Party, baseUrl: string, now: Date): Bundle {
  const headerId = randomUUID();
  const provenanceId = randomUUID();
  const when = now.toISOString();
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: headerId,
    meta: { profile: [ACK_HEADER_PROFILE] },
    text: {
      status: 'generated',
      div: `<div xmlns="http://www.w3.org/1999/xhtml">Kvittering (ok) fra ${escapeXml(receiver.organization.name ?? receiver.organization.id)} for meddelelse ${escapeXml(message.headerId)}</div>`,
    },
    eventCoding: { system: MEDCOM_EVENT_SYSTEM, code: ACKNOWLEDGEMENT_EVENT },
    destination: [
      {
        extension: [{ url: DESTINATION_USE_URL, valueCoding: { system: DESTINATION_USE_SYSTEM, code: 'primary' } }],
        endpoint: message.header.source?.endpoint ?? sorEndpoint(sender),
        receiver: { reference: `Organization/${sender.organization.id}` },
      },
    ],
    sender: { reference: `Organization/${receiver.organization.id}` },
    source: { endpoint: sorEndpoint(receiver) },
    response: { identifier: message.headerId, code: 'ok' },
  };
  const provenance = messageProvenance({ id: provenanceId, headerId, when, activity: 'acknowledgement', agentOrg: receiver.organization.id, revises: message.headerId });
  const orgs = receiver.organization.id === sender.organization.id ? [receiver.organization] : [receiver.organization, sender.organization];
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { profile: [MESSAGE_PROFILES[ACKNOWLEDGEMENT_EVENT]!] },
    type: 'message',
    timestamp: when,
    entry: [
      { fullUrl: `${baseUrl}/MessageHeader/${headerId}`, resource: header },
      { fullUrl: `${baseUrl}/Provenance/${provenanceId}`, resource: provenance },
      ...orgs.map((o) => ({ fullUrl: `${baseUrl}/Organization/${o.id}`, resource: bundledOrganization(o) })),
    ],
  };
}
