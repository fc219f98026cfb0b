// Performance benchmark of the FHIR server: read (against a bare-Fastify baseline measured in
// the same run), ingest, search and memory. Reports figures; never asserts timings.
// Usage: npm run bench -- [--quick | --scale quick|medium|large]   (see bench/README.md)
import { spawn } from 'node:child_process';
import os from 'node:os';
import type { Database } from '../src/db/index.ts';
import type { LoadClient } from './lib/client.ts';
import { startLoadClient } from './lib/client.ts';
import type { RunningServer, ScratchDatabase } from './lib/environment.ts';
import { backendToken, createScratchDatabase, existingDatabase, openBenchDatabase, startBaseline, startPlatform } from './lib/environment.ts';
import type { PatientSummary } from './lib/generate.ts';
import { createdIds, generatePatientBundle, generatePatientsBundle } from './lib/generate.ts';
import { createHttpClient } from './lib/http.ts';
import type { ReadResult } from './lib/jobs.ts';
import { osMaxRssMb, startRssSampler } from './lib/memory.ts';
import type { Options, Profile } from './lib/options.ts';
import { parseOptions, USAGE } from './lib/options.ts';
import { createRng, mixSeed } from './lib/prng.ts';
import type { SampledPatient } from './lib/queries.ts';
import { QUERY_CLASSES } from './lib/queries.ts';
import type { BenchResult, ClassFigures, Failure } from './lib/report.ts';
import { formatReport, readBaseline, writeResult } from './lib/report.ts';
import { median, percentile, round, sortedCopy } from './lib/stats.ts';

const startedAt = performance.now();
const elapsed = (): number => (performance.now() - startedAt) / 1000;
const log = (message: string): void => {
  process.stdout.write(`[${elapsed().toFixed(1).padStart(6)}s] ${message}\n`);
};
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Index of the first read-benchmark patient (far from the ingest patients, 0, 1, 2 …). */
const READ_PATIENT_BASE = 500_000_000;
const SEARCH_SAMPLE_PATIENTS = 500;

function emptyResult(options: Options, database: BenchResult['database']): BenchResult {
  const p = options.profile;
  return {
    date: new Date().toISOString(),
    scale: p.scale,
    database,
    node: process.version,
    read: {
      rps: null,
      p50Ms: null,
      p99Ms: null,
      baselineRps: null,
      ratio: null,
      baselineP50Ms: null,
      baselineP99Ms: null,
      errors: 0,
      authorisedRps: null,
      authorisedP50Ms: null,
      authorisedP99Ms: null,
      authorisedRatio: null,
      authorisedErrors: 0,
      patients: 0,
      concurrency: p.readConcurrency,
      rounds: p.readRounds,
      secondsPerRound: p.readRoundMs / 1000,
    },
    ingest: { resources: 0, seconds: null, resourcesPerSecond: null, bundlesPerSecond: null, bundles: 0, errors: 0, concurrency: p.ingestConcurrency, stoppedByTimeBudget: false },
    search: { queries: 0, errors: 0, empty: 0, p50Ms: null, p95Ms: null, concurrency: p.searchConcurrency, classes: {}, failures: [] },
    memory: {
      peakRssMb: null,
      osMaxRssMb: null,
      note:
        database === 'pglite'
          ? 'RSS of this one process: the server, the embedded PGlite database and the load-generator worker thread all run in-process'
          : 'RSS of this one process: the server and the load-generator worker thread run in-process; PostgreSQL runs separately and is not counted',
    },
    problems: [],
  };
}

/** Milliseconds left of the run's wall-clock budget (Infinity when the scale has none). */
function remainingMs(profile: Profile): number {
  return profile.budgetMs === undefined ? Number.POSITIVE_INFINITY : profile.budgetMs - elapsed() * 1000;
}

async function createReadPatients(port: number, options: Options, result: BenchResult): Promise<string[]> {
  const client = createHttpClient(port, 2);
  const ids: string[] = [];
  const perBundle = 100;
  try {
    for (let first = 0; first < options.profile.readPatients; first += perBundle) {
      const count = Math.min(perBundle, options.profile.readPatients - first);
      const { bundle } = generatePatientsBundle(options.seed, READ_PATIENT_BASE + first, count);
      const r = await client.send({ method: 'POST', path: '/fhir', body: JSON.stringify(bundle), keepBody: 'always', timeoutMs: 120_000 });
      if (r.status !== 200) {
        result.problems.push(`read setup: transaction of ${count} Patients failed: ${r.status} ${(r.body ?? r.error ?? '').slice(0, 400)}`);
        break;
      }
      const created = createdIds(JSON.parse(r.body ?? '{}') as unknown);
      for (const id of created.ids) {
        if (id !== undefined) {
          ids.push(id);
        }
      }
      if (created.ids.length !== count || created.ids.some((id) => id === undefined)) {
        result.problems.push(`read setup: transaction-response had ${created.ids.filter((id) => id !== undefined).length} usable response.location values for ${count} Patients`);
        break;
      }
    }
  } finally {
    client.close();
  }
  return ids;
}

async function runRead(load: LoadClient, platform: RunningServer, controlled: RunningServer, baseline: RunningServer, token: string, options: Options, result: BenchResult): Promise<void> {
  const p = options.profile;
  log(`read: creating ${p.readPatients} patients (transaction Bundles of 100)`);
  const ids = await createReadPatients(platform.port, options, result);
  result.read.patients = ids.length;
  if (ids.length === 0) {
    result.problems.push('read: skipped, no patients could be created');
    return;
  }
  const targets = {
    baseline: { port: baseline.port, pathPrefix: '/baseline/Patient/' },
    platform: { port: platform.port, pathPrefix: '/fhir/Patient/' },
    authorised: { port: controlled.port, pathPrefix: '/fhir/Patient/', authorization: `Bearer ${token}` },
  } as const;
  type Target = keyof typeof targets;
  const seedOf: Record<Target, number> = { platform: 1, baseline: 2, authorised: 3 };
  const job = (which: Target, durationMs: number, round: number): Promise<ReadResult> =>
    load.read({ ...targets[which], ids, concurrency: p.readConcurrency, durationMs, seed: mixSeed(options.seed, round, seedOf[which]), timeoutMs: 10_000 });
  log(`read: warming up the three servers (${p.readWarmupMs / 1000} s each)`);
  await job('baseline', p.readWarmupMs, 1000);
  await job('platform', p.readWarmupMs, 1001);
  await job('authorised', p.readWarmupMs, 1002);
  const rounds: Record<Target, ReadResult[]> = { baseline: [], platform: [], authorised: [] };
  const orders: readonly (readonly Target[])[] = [
    ['baseline', 'platform', 'authorised'],
    ['authorised', 'platform', 'baseline'],
    ['platform', 'authorised', 'baseline'],
  ];
  for (let i = 0; i < p.readRounds; i++) {
    // Rotating order, so that drift of the machine's load does not favour one side.
    for (const which of orders[i % orders.length]!) {
      const r = await job(which, p.readRoundMs, i);
      rounds[which].push(r);
      log(`read: round ${i + 1}/${p.readRounds} ${which.padEnd(10)} ${(r.latencies.length / r.seconds).toFixed(0).padStart(6)} req/s, errors ${r.errors}`);
    }
  }
  const summarise = (rs: readonly ReadResult[]): { rps: number; p50: number; p99: number; errors: number } => {
    const all: number[] = [];
    for (const r of rs) {
      for (const v of r.latencies) {
        all.push(v);
      }
    }
    const sorted = sortedCopy(all);
    return {
      rps: median(rs.map((r) => r.latencies.length / r.seconds)),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      errors: rs.reduce((n, r) => n + r.errors, 0),
    };
  };
  const plat = summarise(rounds.platform);
  const base = summarise(rounds.baseline);
  const auth = summarise(rounds.authorised);
  result.read.rps = round(plat.rps, 0);
  result.read.p50Ms = round(plat.p50);
  result.read.p99Ms = round(plat.p99);
  result.read.baselineRps = round(base.rps, 0);
  result.read.baselineP50Ms = round(base.p50);
  result.read.baselineP99Ms = round(base.p99);
  result.read.ratio = base.rps > 0 ? round(plat.rps / base.rps, 3) : null;
  result.read.errors = plat.errors;
  result.read.authorisedRps = round(auth.rps, 0);
  result.read.authorisedP50Ms = round(auth.p50);
  result.read.authorisedP99Ms = round(auth.p99);
  result.read.authorisedRatio = plat.rps > 0 ? round(auth.rps / plat.rps, 3) : null;
  result.read.authorisedErrors = auth.errors;
  if (base.errors > 0) {
    result.problems.push(`read: the baseline had ${base.errors} errors (${rounds.baseline.flatMap((r) => r.errorSamples)[0]?.body ?? ''})`);
  }
  for (const which of ['platform', 'authorised'] as const) {
    const sample = rounds[which].flatMap((r) => r.errorSamples)[0];
    if (sample !== undefined) {
      result.problems.push(`read (${which}): ${rounds[which].reduce((n, r) => n + r.errors, 0)} failed reads, e.g. ${sample.status} GET ${sample.path}: ${sample.body}`);
    }
  }
}

async function runIngest(load: LoadClient, platform: RunningServer, options: Options, result: BenchResult): Promise<SampledPatient[]> {
  const p = options.profile;
  // Leave time for search and teardown when the scale has a wall-clock budget.
  const maxMs = Math.max(10_000, Math.min(p.ingestMaxMs, remainingMs(p) - 90_000));
  const expectedPatients = Math.ceil(p.ingestResources / 21);
  log(`ingest: ~${p.ingestResources.toLocaleString('en-US')} resources as one transaction Bundle per patient, ${p.ingestConcurrency} concurrent clients${Number.isFinite(maxMs) ? `, at most ${(maxMs / 1000).toFixed(0)} s` : ''}`);
  const r = await load.ingest(
    {
      port: platform.port,
      seed: options.seed,
      firstIndex: 0,
      targetResources: p.ingestResources,
      concurrency: p.ingestConcurrency,
      maxMs,
      timeoutMs: 300_000,
      sampleEvery: Math.max(1, Math.floor(expectedPatients / SEARCH_SAMPLE_PATIENTS)),
      maxSamples: SEARCH_SAMPLE_PATIENTS,
    },
    (progress) => {
      log(`ingest: ${progress.resources.toLocaleString('en-US')} resources, ${progress.bundles} bundles (${(progress.resources / progress.seconds).toFixed(0)} resources/s), ${progress.errors} failed bundles`);
    },
  );
  result.ingest.resources = r.resources;
  result.ingest.bundles = r.bundles;
  result.ingest.errors = r.bundleErrors;
  result.ingest.seconds = round(r.seconds, 1);
  result.ingest.resourcesPerSecond = round(r.resources / r.seconds, 0);
  result.ingest.bundlesPerSecond = round((r.bundles - r.bundleErrors) / r.seconds, 1);
  result.ingest.stoppedByTimeBudget = r.stoppedByTime;
  if (r.stoppedByTime) {
    result.problems.push(`ingest: stopped by the time budget after ${r.resourcesSent} of ${p.ingestResources} resources; search ran on that smaller data set`);
  }
  for (const s of r.errorSamples.slice(0, 3)) {
    result.problems.push(`ingest: ${s.status} ${s.path}: ${s.body}`);
  }
  if (r.missingLocations > 0) {
    result.problems.push(`ingest: ${r.missingLocations} transaction-responses had no usable entry[0].response.location for the Patient`);
  }
  log(`ingest: done, ${r.resources.toLocaleString('en-US')} resources in ${r.seconds.toFixed(1)} s, ${r.bundleErrors} failed bundles`);
  return r.samples.map((s) => ({ id: s.id, summary: generatePatientBundle(options.seed, s.index).summary }));
}

/**
 * Waits until the platform's statistics keeper has vacuumed and analysed the tables after the load
 * (it does so once writes go quiet, see src/db/maintenance.ts), so that search measures the
 * settled database a load leaves behind, not the minutes right after it.
 * @param db - the database
 * @param since - when the load ended
 * @param result - where a timeout is noted
 */
async function waitForSettledTables(db: Database, since: Date, result: BenchResult): Promise<void> {
  const t0 = performance.now();
  const deadline = t0 + 180_000;
  while (performance.now() < deadline) {
    const rows = await db.query<{ settled: boolean }>(
      "SELECT coalesce(bool_and(greatest(last_vacuum, last_autovacuum) >= $1::timestamptz), false) AS settled FROM pg_stat_user_tables WHERE relname IN ('resource', 'resource_history', 'idx_token', 'idx_string', 'idx_date', 'idx_number', 'idx_quantity', 'idx_reference', 'idx_uri', 'idx_text')",
      [since.toISOString()],
    );
    if (rows[0]?.settled === true) {
      log(`ingest: tables vacuumed and analysed ${((performance.now() - t0) / 1000).toFixed(1)} s after the load`);
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  result.problems.push('ingest: the tables were not vacuumed within 180 s after the load; search ran before');
}

/** Fallback when the transaction-responses gave no ids: sample Patients from the database. */
async function samplePatientsFromDatabase(db: Database): Promise<SampledPatient[]> {
  const rows = await db.query<{ id: string; content: string }>(
    "SELECT id, content FROM resource WHERE resource_type = 'Patient' AND NOT deleted ORDER BY random() LIMIT 200",
  );
  return rows.map((row) => {
    const patient = JSON.parse(row.content) as {
      identifier?: { value?: string }[];
      name?: { family?: string; given?: string[] }[];
      gender?: string;
      birthDate?: string;
    };
    const summary: PatientSummary = {
      index: -1,
      cpr: patient.identifier?.[0]?.value ?? '',
      given: patient.name?.[0]?.given?.[0] ?? '',
      family: patient.name?.[0]?.family ?? '',
      gender: patient.gender === 'male' ? 'male' : 'female',
      birthDate: patient.birthDate ?? '',
      observationCodes: [],
      conditionCodes: [],
      activeConditions: 0,
      activeMedicationRequests: 0,
      immunizations: 0,
      encounterDates: [],
    };
    return { id: row.id, summary };
  });
}

async function runSearch(load: LoadClient, platform: RunningServer, patients: readonly SampledPatient[], options: Options, result: BenchResult): Promise<void> {
  const p = options.profile;
  const rng = createRng(mixSeed(options.seed, 77));
  let baseline: Map<string, number> | undefined;
  if (p.scale === 'large') {
    const b = readBaseline(result.database);
    if (typeof b === 'string') {
      result.problems.push(b);
    } else {
      baseline = b.p50;
      result.search.baselineScale = b.scale;
    }
  }
  const classes = QUERY_CLASSES.filter((c) => options.classes === undefined || options.classes.has(c.name));
  log(`search: ${classes.length} query classes x ${p.searchRunsPerClass} runs, ${p.searchConcurrency} concurrent, over ${patients.length} sampled patients`);
  // Warm-up: each class once, not counted (first-call costs: JIT, query plans, caches).
  await load.search({ port: platform.port, paths: classes.map((c) => c.build(rng, patients)), concurrency: 1, maxMs: 30_000, timeoutMs: p.searchTimeoutMs });
  const all: number[] = [];
  const failures: Failure[] = [];
  for (const [i, qc] of classes.entries()) {
    const left = remainingMs(p) - 15_000;
    const maxMs = Math.max(1000, Math.min(p.searchClassMaxMs, left / (classes.length - i)));
    const paths = Array.from({ length: p.searchRunsPerClass }, () => qc.build(rng, patients));
    const r = await load.search({ port: platform.port, paths, concurrency: p.searchConcurrency, maxMs, timeoutMs: p.searchTimeoutMs });
    const ok = r.outcomes.filter((o) => o.status === 200);
    const sorted = sortedCopy(ok.map((o) => o.ms));
    for (const v of sorted) {
      all.push(v);
    }
    const errors = r.outcomes.length - ok.length;
    const empty = ok.filter((o) => o.matches === 0).length;
    const figures: ClassFigures = { p50Ms: round(percentile(sorted, 50)), p95Ms: round(percentile(sorted, 95)), n: r.outcomes.length, errors, empty };
    if (baseline !== undefined) {
      const q = baseline.get(qc.name);
      figures.p50RatioToBaseline = q !== undefined && figures.p50Ms !== null ? round(figures.p50Ms / q, 2) : null;
    }
    result.search.classes[qc.name] = figures;
    result.search.queries += r.outcomes.length;
    result.search.errors += errors;
    result.search.empty += empty;
    const failed = r.outcomes.find((o) => o.status !== 200);
    if (failed !== undefined) {
      failures.push({ class: qc.name, path: failed.path, status: failed.status, body: failed.body ?? '' });
    }
    const note = errors > 0 ? `, ${errors} errors (${failed?.status ?? '?'})` : '';
    log(`search: ${qc.name.padEnd(26)} n=${String(r.outcomes.length).padStart(3)} p50 ${figures.p50Ms ?? '—'} ms, p95 ${figures.p95Ms ?? '—'} ms${note}${empty > 0 ? `, ${empty} empty` : ''}`);
  }
  const sortedAll = sortedCopy(all);
  result.search.p50Ms = round(percentile(sortedAll, 50));
  result.search.p95Ms = round(percentile(sortedAll, 95));
  result.search.failures = failures;
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = parsed;
  const unknownClasses = [...(options.classes ?? [])].filter((name) => !QUERY_CLASSES.some((c) => c.name === name));
  if (unknownClasses.length > 0) {
    process.stderr.write(`unknown search classes: ${unknownClasses.join(', ')}; known: ${QUERY_CLASSES.map((c) => c.name).join(', ')}\n`);
    return 2;
  }
  if (options.database !== undefined && (process.env.DATABASE_URL ?? '') === '') {
    process.stderr.write('--database needs DATABASE_URL (the PostgreSQL server that holds the database)\n');
    return 2;
  }
  const adminUrl = process.env.DATABASE_URL === '' ? undefined : process.env.DATABASE_URL;
  const result = emptyResult(options, adminUrl === undefined ? 'pglite' : 'postgres');
  const rss = startRssSampler(100);
  log(`DSD FHIR benchmark, scale ${options.profile.scale}, ${result.database}, ${os.cpus().length} CPUs, node ${process.version}`);

  let scratch: ScratchDatabase | undefined;
  let db: Database | undefined;
  let platform: RunningServer | undefined;
  let controlled: RunningServer | undefined;
  let baseline: RunningServer | undefined;
  let load: LoadClient | undefined;
  const teardown = async (): Promise<void> => {
    await load?.close().catch(() => undefined);
    await platform?.close().catch(() => undefined);
    await controlled?.close().catch(() => undefined);
    await baseline?.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
    if (scratch !== undefined && !options.keepDatabase) {
      await scratch.drop().catch((err: unknown) => log(`could not drop database ${scratch?.name ?? ''}: ${errorText(err)}`));
    }
    load = platform = controlled = baseline = db = scratch = undefined;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void teardown().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }

  try {
    if (adminUrl !== undefined) {
      if (options.database !== undefined) {
        scratch = existingDatabase(adminUrl, options.database);
        log(`database: using the existing ${scratch.name} (not dropped)`);
      } else {
        scratch = await createScratchDatabase(adminUrl);
        log(`database: created ${scratch.name}${options.keepDatabase ? ' (kept at the end: --keep-db)' : ' (dropped at the end)'}`);
      }
    }
    const t0 = performance.now();
    db = await openBenchDatabase(scratch?.url);
    const t1 = performance.now();
    platform = await startPlatform(db, scratch?.url, 'open');
    controlled = await startPlatform(db, scratch?.url, 'controlled');
    baseline = await startBaseline(db);
    const token = await backendToken(db, controlled.port, 'system/Patient.rs');
    load = startLoadClient();
    log(`start-up: database opened and migrated in ${((t1 - t0) / 1000).toFixed(1)} s, app built and listening in ${((performance.now() - t1) / 1000).toFixed(1)} s (FHIR packages not loaded)`);

    if (options.phases.has('read')) {
      try {
        await runRead(load, platform, controlled, baseline, token, options, result);
      } catch (err) {
        result.problems.push(`read: failed: ${errorText(err)}`);
      }
    }
    let patients: SampledPatient[] = [];
    if (options.phases.has('ingest')) {
      try {
        patients = await runIngest(load, platform, options, result);
        if (options.phases.has('search')) {
          await waitForSettledTables(db, new Date(), result);
        }
      } catch (err) {
        result.problems.push(`ingest: failed: ${errorText(err)}`);
      }
    }
    if (options.phases.has('search')) {
      if (patients.length === 0) {
        patients = await samplePatientsFromDatabase(db);
        if (options.phases.has('ingest')) {
          result.problems.push(`search: no Patient ids from the transaction-responses; using ${patients.length} Patients sampled from the database instead`);
        }
      }
      if (patients.length > 0) {
        try {
          await runSearch(load, platform, patients, options, result);
        } catch (err) {
          result.problems.push(`search: failed: ${errorText(err)}`);
        }
      } else {
        result.problems.push('search: skipped, there are no patients');
      }
    }
  } finally {
    await teardown();
    rss.stop();
    result.memory.peakRssMb = round(rss.peakMb(), 0);
    result.memory.osMaxRssMb = round(osMaxRssMb(), 0);
  }
  const files = writeResult(result, (['read', 'ingest', 'search'] as const).every((phase) => options.phases.has(phase)));
  process.stdout.write(formatReport(result));
  log(`wrote ${files.join(', ')}`);
  return options.phases.has('messaging') ? runMessagingBenchmark(options) : 0;
}

/**
 * MedCom messaging end to end (bench/messaging.ts), in its own process on its own scratch
 * database, so that neither run's load or memory colours the other's figures.
 * @param options - the scale: quick sends fewer messages for a shorter time
 * @returns its exit code
 */
async function runMessagingBenchmark(options: Options): Promise<number> {
  const quick = options.profile.scale === 'quick';
  const args = ['--import', 'tsx', new URL('./messaging.ts', import.meta.url).pathname, '--messages', quick ? '1500' : '5000', '--seconds', quick ? '10' : '30'];
  log(`messaging: node ${args.slice(2).join(' ')}`);
  const child = spawn(process.execPath, args, { stdio: 'inherit', env: process.env });
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve(code ?? 1));
    child.on('error', (err) => {
      log(`messaging: could not start: ${errorText(err)}`);
      resolve(1);
    });
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
