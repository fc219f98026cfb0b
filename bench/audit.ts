/**
 * Audit log throughput: group commit against one INSERT per event, and the cost of auditing a
 * primary-key read, on PGlite and (with DATABASE_URL) on a scratch PostgreSQL database.
 *
 *   node --import tsx bench/audit.ts [--seconds 3] [--concurrency 64]
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/audit.ts
 *
 * Prints figures; asserts nothing. Compare ratios measured in the same run.
 */
import { parseArgs } from 'node:util';
import type { Database } from '../src/db/index.ts';
import type { AuditInput } from '../src/platform/audit/service.ts';
import { AuditLog } from '../src/platform/audit/service.ts';
import { createScratchDatabase, openBenchDatabase } from './lib/environment.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
    'read-concurrency': { type: 'string', default: '32' },
    'in-flight': { type: 'string' },
    window: { type: 'string', default: '0' },
    only: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const READ_CONCURRENCY = Number(values['read-concurrency']);
const PATIENTS = 1000;
const TUNING = {
  windowMs: Number(values.window),
  ...(values['in-flight'] !== undefined ? { maxInFlight: Number(values['in-flight']) } : {}),
};

function event(i: number): AuditInput {
  const patient = `bench-${i % PATIENTS}`;
  return {
    action: 'R',
    interaction: 'read',
    agent: {
      kind: 'professional',
      ref: 'Practitioner/doc-1',
      name: 'Læge Lone Hansen',
      identifier: 'ABC12',
      organizationRef: 'Organization/sor-1',
      organizationName: 'Kardiologisk afdeling',
      clientId: 'ehr-client',
      tokenJti: `jti-${i}`,
    },
    purpose: 'TREAT',
    requestId: `req-${i}`,
    sourceAddress: '10.0.0.7',
    patientIds: [patient],
    resourceRefs: [`Patient/${patient}`],
  };
}

/** Runs `op` from `concurrency` loops for `seconds`; returns operations per second. */
async function drive(concurrency: number, seconds: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await op(n++);
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

async function seedPatients(db: Database): Promise<void> {
  const ids = Array.from({ length: PATIENTS }, (_, i) => `bench-${i}`);
  const contents = ids.map((id) => JSON.stringify({ resourceType: 'Patient', id, meta: { versionId: '1' }, name: [{ family: 'Hansen', given: ['Jens'] }], birthDate: '1980-01-01' }));
  await db.query(
    `INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, content, compartments)
     SELECT 'Patient', id, 1, now(), false, content, ARRAY['Patient/' || id] FROM unnest($1::text[], $2::text[]) AS x(id, content)`,
    [ids, contents],
  );
}

interface Figures {
  readonly backend: string;
  readonly groupRecordsPerSecond: number;
  readonly singleRecordsPerSecond: number;
  readonly groupOverSingle: number;
  readonly meanBatch: number;
  readonly meanBatchAuditedReads: number;
  readonly readRps: number;
  readonly readAuditedGroupRps: number;
  readonly readAuditedSingleRps: number;
  readonly auditedGroupOverUnaudited: number;
  readonly auditedSingleOverUnaudited: number;
}

async function measure(backend: string, db: Database): Promise<Figures> {
  await seedPatients(db);
  const read = async (i: number): Promise<unknown> => db.query('SELECT content FROM resource WHERE resource_type = $1 AND id = $2', ['Patient', `bench-${i % PATIENTS}`]);

  // Warm-up of both paths.
  const warm = new AuditLog(db);
  await drive(CONCURRENCY, 0.5, (i) => warm.record(event(i)));
  await warm.close();

  const group = new AuditLog(db, TUNING);
  const groupRps = await drive(CONCURRENCY, SECONDS, (i) => group.record(event(i)));
  const stats = group.stats();
  const single = new AuditLog(db, { groupCommit: false });
  const singleRps = await drive(CONCURRENCY, SECONDS, (i) => single.record(event(i)));

  // An authorised read writes one audit event before the data leaves: read, then record.
  const readRps = await drive(READ_CONCURRENCY, SECONDS, read);
  const before = group.stats();
  const readGroupRps = await drive(READ_CONCURRENCY, SECONDS, async (i) => {
    await read(i);
    return group.record(event(i));
  });
  const during = group.stats();
  const readSingleRps = await drive(READ_CONCURRENCY, SECONDS, async (i) => {
    await read(i);
    return single.record(event(i));
  });
  await group.close();
  await single.close();
  return {
    backend,
    groupRecordsPerSecond: Math.round(groupRps),
    singleRecordsPerSecond: Math.round(singleRps),
    groupOverSingle: round(groupRps / singleRps),
    meanBatch: round(stats.events / Math.max(1, stats.batches)),
    meanBatchAuditedReads: round((during.events - before.events) / Math.max(1, during.batches - before.batches)),
    readRps: Math.round(readRps),
    readAuditedGroupRps: Math.round(readGroupRps),
    readAuditedSingleRps: Math.round(readSingleRps),
    auditedGroupOverUnaudited: round(readGroupRps / readRps),
    auditedSingleOverUnaudited: round(readSingleRps / readRps),
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

const results: Figures[] = [];
if (values.only !== 'postgres') {
  const db = await openBenchDatabase(undefined);
  try {
    results.push(await measure('pglite', db));
  } finally {
    await db.close();
  }
}
const url = process.env.DATABASE_URL;
if (url !== undefined && url !== '' && values.only !== 'pglite') {
  const scratch = await createScratchDatabase(url);
  try {
    const db = await openBenchDatabase(scratch.url);
    try {
      results.push(await measure('postgres', db));
    } finally {
      await db.close();
    }
  } finally {
    await scratch.drop();
  }
}
console.table(results);
