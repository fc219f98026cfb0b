/**
 * MedCom messaging end to end: HospitalNotifications sent to POST /fhir/$process-message over
 * HTTP (backend token, MedCom profile validation, routing, storage with outbox rows, audit), then
 * delivered by the server's own background dispatcher (woken when a message is accepted) into the
 * receivers' inboxes, with the acknowledgement the platform writes for each delivered back to the
 * sender's inbox. A message counts once its acknowledgement is in the sender's inbox.
 *
 * Two phases:
 * - throughput: `--messages` messages from `--concurrency` clients as fast as they go; messages
 *   per second from the first send until the last acknowledgement is delivered;
 * - latency: `--rate` messages per second for `--seconds` seconds (an open loop: each message is
 *   sent on its schedule, not after the previous answer); from send to delivery into the
 *   receiver's inbox, and to the acknowledgement in the sender's inbox, p50/p95/p99.
 *
 *   node --import tsx bench/messaging.ts [--messages 3000] [--concurrency 16] [--rate 100] [--seconds 20]
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/messaging.ts
 *
 * `npm run bench` runs it after the FHIR benchmark. Prints figures and writes
 * bench/results/messaging.json; asserts nothing (the tests in test/messaging check behaviour).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Bundle, Organization, Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../src/config/load.ts';
import type { Database } from '../src/db/index.ts';
import { IdentifierSystem } from '../src/platform/identifiers/systems.ts';
import { clientCredentialsToken, generateClientKey, registerBackendClient } from '../src/platform/identity/index.ts';
import { MESSAGE_GLN_SYSTEM, registerMessagingSender } from '../src/platform/messaging/index.ts';
import { referenceData } from '../src/platform/registers/index.ts';
import { buildApp } from '../src/server/app.ts';
import { loadValidator } from '../src/server/validator.ts';
import { createScratchDatabase, openBenchDatabase } from './lib/environment.ts';
import { startTypeScriptWorker } from './lib/client.ts';
import type { RateJob, SenderJob, SenderResult, ThroughputJob } from './lib/messaging-sender.ts';
import { percentile, sortedCopy } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '16' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
  },
});
const MESSAGES = Number(values.messages);
const CONCURRENCY = Number(values.concurrency);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const PUBLIC_BASE = 'http://localhost:8080';
const HOSPITAL = 'hosp-auh-cardiology';
const TEMPLATE = `${loadConfig(process.env).fhirPackagesRoot ?? '../shared/fhir/packages'}/medcom.fhir.dk.hospitalnotification#3.0.2/package/Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json`;

const adminUrl = process.env.DATABASE_URL;
const scratch = adminUrl === undefined || adminUrl === '' ? undefined : await createScratchDatabase(adminUrl);
const db: Database = await openBenchDatabase(scratch?.url);
try {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DSD_BASE_URL: PUBLIC_BASE, DATABASE_URL: scratch?.url, DSD_DATA_DIR: 'memory://', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent' });
  const validator = await loadValidator(config);
  const app = await buildApp(config, db, { validator, messagingDispatcher: true });
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
  const log = (line: string): void => {
    process.stderr.write(`[messaging] ${line}\n`);
  };
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  /** Acknowledgements delivered into the hospital's inbox, for messages with these MessageHeader ids. */
  const acknowledgedCount = async (headerIds: readonly string[]): Promise<number> =>
    Number(
      (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM message_inbox i JOIN message a ON a.seq = i.message_seq JOIN message m ON m.seq = a.acknowledges
            WHERE i.organization_id = $1 AND m.header_id = ANY($2::text[])`,
          [HOSPITAL, headerIds],
        )
      )[0]!.n,
    );
  const waitAcknowledged = async (headerIds: readonly string[], limitMs: number): Promise<number> => {
    const until = performance.now() + limitMs;
    let n = await acknowledgedCount(headerIds);
    while (n < headerIds.length && performance.now() < until) {
      await sleep(20);
      n = await acknowledgedCount(headerIds);
    }
    return n;
  };

  // The senders run in a worker thread: building and posting messages is the clients' work, not the server's.
  const senders = startTypeScriptWorker(new URL('./lib/messaging-sender.ts', import.meta.url));
  senders.unref();
  let jobId = 0;
  const common = { port, token, template, sender: addressOf(HOSPITAL), receivers: receivers.map(addressOf) };
  const runSenders = (job: Omit<ThroughputJob, 'id' | keyof typeof common> | Omit<RateJob, 'id' | keyof typeof common>): Promise<SenderResult> =>
    new Promise((resolve, reject) => {
      const id = ++jobId;
      const onMessage = (r: SenderResult): void => {
        if (r.id === id) {
          senders.off('message', onMessage);
          if (r.error === undefined) {
            resolve(r);
          } else {
            reject(new Error(`senders: ${r.error}`));
          }
        }
      };
      senders.on('message', onMessage);
      const message: SenderJob = { ...common, ...job, id };
      senders.postMessage(message);
    });

  // Warm-up.
  const warm = await runSenders({ kind: 'throughput', concurrency: 1, firstIndex: 0, messages: 20 });
  await waitAcknowledged(warm.accepted.map(([h]) => h), 30_000);

  // Throughput: as fast as the clients go, until every acknowledgement is delivered.
  log(`throughput: ${MESSAGES} messages from ${CONCURRENCY} clients`);
  const start = performance.now();
  const sent = await runSenders({ kind: 'throughput', concurrency: CONCURRENCY, firstIndex: 20, messages: MESSAGES });
  const sentIds = sent.accepted.map(([h]) => h);
  const refused = sent.refused;
  const acceptSeconds = (performance.now() - start) / 1000;
  const acknowledged = await waitAcknowledged(sentIds, 300_000);
  const endToEndSeconds = (performance.now() - start) / 1000;
  log(`throughput: ${sentIds.length} accepted in ${acceptSeconds.toFixed(1)} s, ${acknowledged} acknowledged after ${endToEndSeconds.toFixed(1)} s`);

  // Latency at a fixed rate: each message sent on its schedule.
  const total = Math.round(RATE * SECONDS);
  log(`latency: ${total} messages at ${RATE}/s`);
  const atRate = await runSenders({ kind: 'rate', rate: RATE, firstIndex: 20 + MESSAGES, messages: total });
  const sentAt = new Map(atRate.accepted);
  const refusedAtRate = atRate.refused;
  const achievedRate = total / atRate.seconds;
  await waitAcknowledged([...sentAt.keys()], 120_000);
  const times = await db.query<{ header_id: string; delivered: number; acknowledged: number | null }>(
    `SELECT m.header_id, (extract(epoch FROM d.delivered) * 1000)::float8 AS delivered,
            (SELECT (extract(epoch FROM ai.delivered) * 1000)::float8 FROM message a JOIN message_inbox ai ON ai.message_seq = a.seq
              WHERE a.acknowledges = m.seq AND ai.organization_id = m.sender_org LIMIT 1) AS acknowledged
       FROM message m JOIN message_inbox d ON d.message_seq = m.seq AND d.organization_id = m.receiver_org
      WHERE m.sender_org = $1 AND m.header_id = ANY($2::text[])`,
    [HOSPITAL, [...sentAt.keys()]],
  );
  const delivery = sortedCopy(times.map((t) => Number(t.delivered) - sentAt.get(t.header_id)!));
  const ackLatency = sortedCopy(times.filter((t) => t.acknowledged !== null).map((t) => Number(t.acknowledged) - sentAt.get(t.header_id)!));
  await senders.terminate();
  await app.close();

  const round = (x: number): number => Math.round(x * 10) / 10;
  const result = {
    date: new Date().toISOString(),
    database: db.dialect,
    receivers: receivers.length,
    throughput: {
      messages: MESSAGES,
      concurrency: CONCURRENCY,
      accepted: sentIds.length,
      refused,
      acknowledged,
      acceptedPerSecond: round(sentIds.length / acceptSeconds),
      endToEndPerSecond: round(acknowledged / endToEndSeconds),
      seconds: round(endToEndSeconds),
    },
    latency: {
      targetRate: RATE,
      achievedRate: round(achievedRate),
      messages: total,
      refused: refusedAtRate,
      delivered: delivery.length,
      acknowledged: ackLatency.length,
      deliveryP50Ms: round(percentile(delivery, 50)),
      deliveryP95Ms: round(percentile(delivery, 95)),
      deliveryP99Ms: round(percentile(delivery, 99)),
      acknowledgementP50Ms: round(percentile(ackLatency, 50)),
      acknowledgementP99Ms: round(percentile(ackLatency, 99)),
    },
  };
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'messaging.json'), `${JSON.stringify(result, null, 2)}\n`);
  const t = result.throughput;
  const l = result.latency;
  const meets = (ok: boolean): string => (ok ? 'met' : 'below');
  process.stdout.write(
    [
      '',
      `MedCom messaging, end to end: database ${result.database}, ${result.receivers} receivers, the server's own dispatcher`,
      `  messages/s end to end (accepted, delivered, acknowledged)  ${String(t.endToEndPerSecond).padStart(8)}   >= 500 on PostgreSQL (${meets(t.endToEndPerSecond >= 500)})`,
      `  messages/s accepted by $process-message (${t.concurrency} clients)   ${String(t.acceptedPerSecond).padStart(8)}`,
      `  accepted / refused / acknowledged                       ${`${t.accepted} / ${t.refused} / ${t.acknowledged}`.padStart(11)}`,
      `  at ${l.targetRate}/s (achieved ${l.achievedRate}/s): delivery p50 / p95 / p99 ms   ${`${l.deliveryP50Ms} / ${l.deliveryP95Ms} / ${l.deliveryP99Ms}`.padStart(16)}   p99 < 1000 (${meets(l.deliveryP99Ms < 1000)})`,
      `  at ${l.targetRate}/s: acknowledgement in the sender's inbox p50 / p99 ms ${`${l.acknowledgementP50Ms} / ${l.acknowledgementP99Ms}`.padStart(12)}`,
      `  delivered / acknowledged of ${l.messages}                          ${`${l.delivered} / ${l.acknowledged}`.padStart(11)}`,
      '  (wrote bench/results/messaging.json)',
      '',
    ].join('\n'),
  );
} finally {
  await db.close();
  await scratch?.drop();
}
