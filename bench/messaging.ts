/**
 * MedCom messaging throughput: HospitalNotifications accepted through POST /fhir/$process-message
 * over HTTP (token, MedCom profile validation, routing, storage with outbox rows, audit), then
 * delivered by concurrent outbox dispatchers (inbox + acknowledgement back to the sender), on
 * PGlite and (with DATABASE_URL) on a scratch PostgreSQL database.
 *
 *   node --import tsx bench/messaging.ts [--messages 3000] [--concurrency 16] [--workers 4]
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/messaging.ts
 *
 * Prints figures; asserts nothing (the tests in test/messaging check behaviour).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Bundle, MessageHeader, Organization, Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../src/config/load.ts';
import type { Database } from '../src/db/index.ts';
import { IdentifierSystem } from '../src/platform/identifiers/systems.ts';
import { clientCredentialsToken, generateClientKey, registerBackendClient } from '../src/platform/identity/index.ts';
import { MESSAGE_GLN_SYSTEM, MessageDispatcher, registerMessagingSender } from '../src/platform/messaging/index.ts';
import { referenceData } from '../src/platform/registers/index.ts';
import { buildApp } from '../src/server/app.ts';
import { loadValidator } from '../src/server/validator.ts';
import { createScratchDatabase, openBenchDatabase } from './lib/environment.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '16' },
    workers: { type: 'string', default: '4' },
  },
});
const MESSAGES = Number(values.messages);
const CONCURRENCY = Number(values.concurrency);
const WORKERS = Number(values.workers);
const PUBLIC_BASE = 'http://localhost:8080';
const HOSPITAL = 'hosp-auh-cardiology';
const TEMPLATE = `${loadConfig(process.env).fhirPackagesRoot ?? '../shared/fhir/packages'}/medcom.fhir.dk.hospitalnotification#3.0.2/package/Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json`;

const adminUrl = process.env.DATABASE_URL;
const scratch = adminUrl === undefined || adminUrl === '' ? undefined : await createScratchDatabase(adminUrl);
const db: Database = await openBenchDatabase(scratch?.url);
try {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DSD_BASE_URL: PUBLIC_BASE, DATABASE_URL: scratch?.url, DSD_DATA_DIR: 'memory://', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent' });
  const validator = await loadValidator(config);
  const app = await buildApp(config, db, { validator });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const local = (url: string): string => url.replace(PUBLIC_BASE, `http://127.0.0.1:${port}`);

  // A backend client bound to the sending hospital department.
  const jwk = await generateClientKey();
  const clientId = `bench-messaging-${process.pid}`;
  const scope = 'system/*.cruds';
  await registerBackendClient(db, { clientId, jwks: { keys: [jwk] }, scope, name: 'Messaging benchmark' });
  const token = (await clientCredentialsToken(`${PUBLIC_BASE}/auth/token`, clientId, jwk, scope, (input, init) => fetch(local(String(input instanceof Request ? input.url : input)), init))).access_token;
  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`http://127.0.0.1:${port}/fhir${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });

  // The sender and the home nursing units of 20 municipalities, with their ancestors and Endpoints.
  const ref = referenceData();
  const orgs = new Map(ref.organizations.map((o) => [o.id!, o]));
  const receivers = ref.organizations.filter((o) => o.id!.startsWith('hjemmesygepleje-')).slice(0, 20).map((o) => o.id!);
  const wanted = new Map<string, Organization>();
  const add = (id: string): void => {
    const o = orgs.get(id);
    if (o !== undefined && !wanted.has(id)) {
      wanted.set(id, o);
      const parent = o.partOf?.reference?.replace('Organization/', '');
      if (parent !== undefined) {
        add(parent);
      }
    }
  };
  [HOSPITAL, ...receivers].forEach(add);
  const resources: Resource[] = [...wanted.values(), ...ref.endpoints.filter((e) => wanted.has(e.managingOrganization?.reference?.replace('Organization/', '') ?? ''))];
  const setup = await post('', { resourceType: 'Bundle', type: 'transaction', entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id ?? ''}` } })) });
  if (setup.status !== 200) {
    throw new Error(`set-up failed: ${setup.status} ${(await setup.text()).slice(0, 300)}`);
  }
  await registerMessagingSender(db, clientId, HOSPITAL);

  const template = JSON.parse(readFileSync(TEMPLATE, 'utf8')) as Bundle;
  const addressOf = (id: string): { system: string; value: string }[] => {
    const o = orgs.get(id)!;
    return [IdentifierSystem.gln, IdentifierSystem.sor].map((system) => ({ system: system === IdentifierSystem.gln ? MESSAGE_GLN_SYSTEM : system, value: o.identifier!.find((i) => i.system === system)!.value! }));
  };
  const message = (i: number): Bundle => {
    const b = structuredClone(template);
    const h = b.entry![0]!.resource as MessageHeader;
    const oldHeader = h.id!;
    h.id = randomUUID();
    b.id = randomUUID();
    b.entry![0]!.fullUrl = b.entry![0]!.fullUrl!.replace(oldHeader, h.id);
    for (const e of b.entry!) {
      const r = e.resource!;
      if (r.resourceType === 'Organization') {
        const isSender = e.fullUrl!.endsWith(`/${h.sender!.reference!}`);
        r.identifier = addressOf(isSender ? HOSPITAL : receivers[i % receivers.length]!);
      }
      if (r.resourceType === 'Provenance') {
        r.target = r.target.map((t) => (t.reference === `MessageHeader/${oldHeader}` ? { reference: `MessageHeader/${h.id!}` } : t));
      }
    }
    return b;
  };

  // Warm-up, then the measured run.
  for (let i = 0; i < 20; i++) {
    await post('/$process-message', message(i));
  }
  let next = 0;
  let accepted = 0;
  let refused = 0;
  const acceptStart = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < MESSAGES; i = next++) {
        const res = await post('/$process-message', message(i));
        await res.arrayBuffer();
        if (res.status === 200) {
          accepted++;
        } else {
          refused++;
        }
      }
    }),
  );
  const acceptSeconds = (performance.now() - acceptStart) / 1000;

  const dispatchers = Array.from({ length: WORKERS }, (_, n) => new MessageDispatcher(db, { workerId: `bench-${n}`, batchSize: 50 }));
  const pending = async (): Promise<number> => Number((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message_outbox WHERE status = 'pending'`))[0]!.n);
  let delivered = 0;
  const deliverStart = performance.now();
  await Promise.all(
    dispatchers.map(async (d) => {
      for (;;) {
        const r = await d.runOnce();
        delivered += r.delivered;
        if (r.claimed === 0) {
          if ((await pending()) === 0) {
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      }
    }),
  );
  const deliverSeconds = (performance.now() - deliverStart) / 1000;
  await app.close();

  const round = (x: number): number => Math.round(x * 10) / 10;
  process.stdout.write(
    `${JSON.stringify(
      {
        database: db.dialect,
        messages: MESSAGES,
        concurrency: CONCURRENCY,
        receivers: receivers.length,
        accept: { accepted, refused, seconds: round(acceptSeconds), messagesPerSecond: round(accepted / acceptSeconds) },
        deliver: { workers: WORKERS, delivered, seconds: round(deliverSeconds), deliveriesPerSecond: round(delivered / deliverSeconds), note: 'messages and their acknowledgements' },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await db.close();
  await scratch?.drop();
}
