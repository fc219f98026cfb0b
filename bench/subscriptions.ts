/**
 * FHIR Subscriptions: what matching costs a write, and how fast rest-hook notifications go out.
 * Observations are created one at a time over HTTP with 0, 10 and 100 active rest-hook
 * subscriptions on Observation (half of them match each write); then one dispatcher delivers the
 * queued notifications to a receiver on loopback. PGlite, or a scratch PostgreSQL database with
 * DATABASE_URL.
 *
 *   node --import tsx bench/subscriptions.ts [--writes 200]
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/subscriptions.ts
 *
 * Prints figures; asserts nothing (test/messaging/subscriptions.test.ts checks behaviour).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.ts';
import { allowDeliveryHost } from '../src/platform/messaging/index.ts';
import { SubscriptionDispatcher } from '../src/platform/subscriptions/index.ts';
import { buildApp } from '../src/server/app.ts';
import { subscriptionsOf } from '../src/server/subscriptions.ts';
import { backendToken, createScratchDatabase, openBenchDatabase } from './lib/environment.ts';

const { values } = parseArgs({ options: { writes: { type: 'string', default: '200' } } });
const WRITES = Number(values.writes);

const adminUrl = process.env.DATABASE_URL;
const scratch = adminUrl === undefined || adminUrl === '' ? undefined : await createScratchDatabase(adminUrl);
const db = await openBenchDatabase(scratch?.url);
let received = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
try {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DSD_BASE_URL: 'http://localhost:8080', DATABASE_URL: scratch?.url, DSD_DATA_DIR: 'memory://', DSD_FHIR_PACKAGES: '', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent' });
  const app = await buildApp(config, db);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const token = await backendToken(db, port, 'system/*.cruds');
  const post = async (type: string, body: unknown): Promise<{ id: string }> => {
    const res = await fetch(`http://127.0.0.1:${port}/fhir/${type}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
    if (res.status !== 201) {
      throw new Error(`${type}: ${res.status} ${await res.text()}`);
    }
    return (await res.json()) as { id: string };
  };
  await allowDeliveryHost(db, '127.0.0.1');
  const dispatcher = new SubscriptionDispatcher(subscriptionsOf(app));
  const patient = await post('Patient', { resourceType: 'Patient', name: [{ family: 'Bench' }] });
  const observation = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] }, subject: { reference: `Patient/${patient.id}` } };
  let subscriptions = 0;
  process.stdout.write(`${scratch === undefined ? 'PGlite' : 'PostgreSQL'}, ${WRITES} Observation creates per row, one at a time over HTTP\n`);
  process.stdout.write('| active subscriptions on Observation | writes/s | ms per write | notifications queued | delivered/s (1 dispatcher) |\n| --- | --- | --- | --- | --- |\n');
  for (const target of [0, 10, 100]) {
    for (; subscriptions < target; subscriptions++) {
      // Half match every write, half never do.
      const code = subscriptions % 2 === 0 ? '2345-7' : '718-7';
      await post('Subscription', { resourceType: 'Subscription', status: 'requested', reason: 'Bench', criteria: `Observation?code=${code}`, channel: { type: 'rest-hook', endpoint: hook, payload: 'application/fhir+json' } });
    }
    while ((await dispatcher.activate()) > 0) {
      // until all are active
    }
    const start = performance.now();
    for (let i = 0; i < WRITES; i++) {
      await post('Observation', observation);
    }
    const ms = performance.now() - start;
    const queued = Number((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM subscription_outbox WHERE status = 'pending'`))[0]!.n);
    const before = received;
    const t0 = performance.now();
    await dispatcher.drain(100_000);
    const deliverMs = performance.now() - t0;
    const delivered = received - before;
    process.stdout.write(`| ${target} | ${((WRITES * 1000) / ms).toFixed(0)} | ${(ms / WRITES).toFixed(1)} | ${queued} | ${delivered === 0 ? '–' : ((delivered * 1000) / deliverMs).toFixed(0)} |\n`);
  }
  await app.close();
} finally {
  receiver.close();
  await db.close();
  await scratch?.drop();
}
