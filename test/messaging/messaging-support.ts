import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, Endpoint, MessageHeader, Organization, Resource } from '@medplum/fhirtypes';
import { clientCredentialsToken } from '../../src/platform/identity/index.ts';
import { IdentifierSystem } from '../../src/platform/identifiers/systems.ts';
import { MEDCOM_EVENT_SYSTEM, MESSAGE_GLN_SYSTEM, readInbox, registerMessagingSender } from '../../src/platform/messaging/index.ts';
import { referenceData } from '../../src/platform/registers/index.ts';
import { TOKEN_URL, injectFetch, registerTestBackendClient } from '../auth-support.ts';
import type { TestApp, TestResponse } from '../support.ts';
import { loadTestConfig } from '../support.ts';

/**
 * Shared set-up of the messaging tests: a backend client with its own token, organisations and
 * Endpoints on the platform (from the reference data or made for the MedCom examples), the
 * MedCom example messages, and row counts to prove a refused message changed nothing.
 */

/** The FHIR packages folder the platform loads (DSD_FHIR_PACKAGES, default ../shared/fhir/packages). */
export const PACKAGES = loadTestConfig().fhirPackagesRoot ?? '../shared/fhir/packages';
export const EXAMPLE_PACKAGES = ['medcom.fhir.dk.acknowledgement#2.0.3', 'medcom.fhir.dk.carecommunication#5.0.4', 'medcom.fhir.dk.hospitalnotification#3.0.2', 'medcom.fhir.dk.messaging#4.0.1'];
export const ALL_EVENTS = ['hospital-notification-message', 'care-communication-message', 'acknowledgement-message', 'empty-message'];

/** A backend client that sends messages. */
export interface Sender {
  readonly clientId: string;
  readonly token: string;
  /** POST /fhir/$process-message as this client. */
  post(bundle: unknown): Promise<TestResponse>;
  /** Lets this client send as the organisation. */
  bind(organizationId: string): Promise<void>;
}

/**
 * @param t - the app
 * @returns a new backend client with a real token
 */
export async function createSender(t: TestApp): Promise<Sender> {
  const scopes = 'system/*.cruds';
  const { clientId, jwk } = await registerTestBackendClient(t, scopes);
  const token = (await clientCredentialsToken(TOKEN_URL, clientId, jwk, scopes, injectFetch(t.app))).access_token;
  return {
    clientId,
    token,
    post: (bundle) => t.request('POST', '/fhir/$process-message', bundle, { authorization: `Bearer ${token}` }),
    bind: (organizationId) => registerMessagingSender(t.db, clientId, organizationId),
  };
}

/**
 * Stores resources through the FHIR API (one transaction Bundle of PUTs).
 * @param t - the app
 * @param resources - resources with ids
 */
export async function putResources(t: TestApp, resources: readonly Resource[]): Promise<void> {
  const res = await t.request('POST', '/fhir', {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id ?? ''}` } })),
  });
  if (res.status !== 200) {
    throw new Error(`storing test organisations failed: ${res.status} ${res.text.slice(0, 500)}`);
  }
}

/**
 * Stores reference-data units with their ancestors (partOf) and Endpoints.
 * @param t - the app
 * @param ids - Organization ids, e.g. `hosp-auh-cardiology`
 * @returns the stored Organizations by id
 */
export async function putReferenceUnits(t: TestApp, ids: readonly string[]): Promise<Map<string, Organization>> {
  const ref = referenceData();
  const orgs = new Map(ref.organizations.map((o) => [o.id!, o]));
  const wanted = new Map<string, Organization>();
  const add = (id: string): void => {
    const o = orgs.get(id);
    if (o === undefined || wanted.has(id)) {
      return;
    }
    wanted.set(id, o);
    const parent = o.partOf?.reference?.replace('Organization/', '');
    if (parent !== undefined) {
      add(parent);
    }
  };
  ids.forEach(add);
  const endpoints = ref.endpoints.filter((e) => wanted.has(e.managingOrganization?.reference?.replace('Organization/', '') ?? ''));
  await putResources(t, [...wanted.values(), ...endpoints]);
  return wanted;
}

/**
 * @param o - an Organization
 * @returns its SOR code and GLN
 */
export function addressOf(o: Organization): { sor: string; gln: string } {
  return { sor: o.identifier!.find((i) => i.system === IdentifierSystem.sor)!.value!, gln: o.identifier!.find((i) => i.system === IdentifierSystem.gln)!.value! };
}

/**
 * An Organization and Endpoint made for a unit named in a MedCom example.
 * @param id - Organization id
 * @param sor - SOR code
 * @param gln - GLN
 * @param name - name
 * @param accepts - message types its Endpoint accepts
 * @returns the two resources
 */
export function makeUnit(id: string, sor: string, gln: string, name: string, accepts: readonly string[]): [Organization, Endpoint] {
  return [
    {
      resourceType: 'Organization',
      id,
      identifier: [
        { system: IdentifierSystem.sor, value: sor },
        { system: IdentifierSystem.gln, value: gln },
      ],
      name,
      endpoint: [{ reference: `Endpoint/ep-${id}` }],
    },
    {
      resourceType: 'Endpoint',
      id: `ep-${id}`,
      status: 'active',
      connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-msg' },
      managingOrganization: { reference: `Organization/${id}` },
      payloadType: accepts.map((code) => ({ coding: [{ system: MEDCOM_EVENT_SYSTEM, code }] })),
      payloadMimeType: ['application/fhir+json'],
      address: `https://sor2.sum.dsdn.dk/#id=${sor}`,
    },
  ];
}

/** One MedCom example message. */
export interface Example {
  readonly pkg: string;
  readonly file: string;
  readonly bundle: Bundle;
}

/** @returns every example message Bundle in the MedCom packages */
export function medcomExamples(): Example[] {
  const out: Example[] = [];
  for (const pkg of EXAMPLE_PACKAGES) {
    const dir = `${PACKAGES}/${pkg}/package`;
    for (const file of readdirSync(dir).filter((f) => f.startsWith('Bundle-') && f.endsWith('.json')).sort()) {
      const bundle = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as Bundle;
      if (bundle.type === 'message') {
        out.push({ pkg, file, bundle });
      }
    }
  }
  return out;
}

/** @returns a deep copy */
export function copy<T>(v: T): T {
  return structuredClone(v);
}

/**
 * @param b - a message
 * @returns its MessageHeader
 */
export function headerOf(b: Bundle): MessageHeader {
  return b.entry![0]!.resource as MessageHeader;
}

/**
 * @param b - a message
 * @param reference - `Organization/<id>` as the message writes it
 * @returns the bundled Organization
 */
export function bundledOrganization(b: Bundle, reference: string): Organization {
  const e = b.entry!.find((x) => x.fullUrl?.endsWith(`/${reference}`) === true || `${x.resource?.resourceType ?? ''}/${x.resource?.id ?? ''}` === reference);
  return e!.resource as Organization;
}

/**
 * Replaces the SOR code and GLN of the bundled Organization a reference points to.
 * @param b - a message (changed)
 * @param reference - `Organization/<id>`
 * @param to - the new address
 * @param to.sor - SOR code
 * @param to.gln - GLN
 */
export function readdress(b: Bundle, reference: string, to: { sor: string; gln: string }): void {
  const o = bundledOrganization(b, reference);
  o.identifier = [
    { system: MESSAGE_GLN_SYSTEM, value: to.gln },
    { system: IdentifierSystem.sor, value: to.sor },
  ];
}

/** Row counts of everything a message can leave behind. */
export interface MessagingCounts {
  readonly messages: number;
  readonly outbox: number;
  readonly inbox: number;
  readonly resources: number;
}

/**
 * @param t - the app
 * @returns the counts
 */
export async function messagingCounts(t: TestApp): Promise<MessagingCounts> {
  const rows = await t.db.query<{ m: number; o: number; i: number; r: number }>(
    'SELECT (SELECT count(*) FROM message)::int AS m, (SELECT count(*) FROM message_outbox)::int AS o, (SELECT count(*) FROM message_inbox)::int AS i, (SELECT count(*) FROM resource)::int AS r',
  );
  const r = rows[0]!;
  return { messages: Number(r.m), outbox: Number(r.o), inbox: Number(r.i), resources: Number(r.r) };
}

/**
 * @param t - the app
 * @param organizationId - receiver
 * @returns the delivered message Bundles, in delivery order
 */
export async function inboxBundles(t: TestApp, organizationId: string): Promise<Bundle[]> {
  return (await readInbox(t.db, organizationId, { limit: 1000 })).map((r) => JSON.parse(r.content) as Bundle);
}

/**
 * Gives a message new Bundle.id and MessageHeader.id (a new message with the same content),
 * updating the header's fullUrl and the Provenance that targets it.
 * @param b - a message
 * @returns the changed copy
 */
export function renew(b: Bundle): Bundle {
  const out = copy(b);
  const header = headerOf(out);
  const old = header.id!;
  const id = randomUUID();
  header.id = id;
  out.id = randomUUID();
  out.entry![0]!.fullUrl = out.entry![0]!.fullUrl!.replace(old, id);
  for (const e of out.entry!) {
    if (e.resource?.resourceType === 'Provenance') {
      for (const t of e.resource.target ?? []) {
        if (t.reference === `MessageHeader/${old}`) {
          t.reference = `MessageHeader/${id}`;
        }
      }
    }
  }
  return out;
}

/**
 * @param o - an OperationOutcome
 * @returns the MedCom acknowledgement error codes in it
 */
export function ackErrorCodes(o: { issue?: { details?: { coding?: { code?: string }[] } }[] }): string[] {
  return (o.issue ?? []).flatMap((i) => (i.details?.coding ?? []).map((c) => c.code ?? ''));
}

/**
 * A real HTTP server on 127.0.0.1 standing in for a receiving system. It can be stopped and
 * started again on the same port, to play a receiver that is down for a while.
 */
export abstract class HttpTestServer {
  private server: Server | undefined;
  port = 0;

  /** Answers one request whose body has been read. */
  protected abstract handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void;

  async start(): Promise<void> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s !== undefined) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}
