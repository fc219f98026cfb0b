import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ScaleName } from './options.ts';

export interface ClassFigures {
  p50Ms: number | null;
  p95Ms: number | null;
  /** Queries run (including failed ones). */
  n: number;
  errors: number;
  /** 200 responses with no matching entry (the data makes every class non-empty, so these are suspicious). */
  empty: number;
  /** --scale large only: this p50 divided by the p50 of the baseline run (search.baselineScale). */
  p50RatioToBaseline?: number | null;
}

export interface Failure {
  readonly class: string;
  readonly path: string;
  readonly status: number;
  readonly body: string;
}

/** The result file (bench/results/latest.json); flat and stable, null where a phase failed. */
export interface BenchResult {
  date: string;
  scale: ScaleName;
  database: 'postgres' | 'pglite';
  node: string;
  read: {
    rps: number | null;
    p50Ms: number | null;
    p99Ms: number | null;
    baselineRps: number | null;
    ratio: number | null;
    baselineP50Ms: number | null;
    baselineP99Ms: number | null;
    errors: number;
    /** The same reads with a backend client's bearer token, through access control and audit. */
    authorisedRps: number | null;
    authorisedP50Ms: number | null;
    authorisedP99Ms: number | null;
    /** authorisedRps / rps (the unauthenticated platform read). */
    authorisedRatio: number | null;
    authorisedErrors: number;
    patients: number;
    concurrency: number;
    rounds: number;
    secondsPerRound: number;
  };
  ingest: {
    resources: number;
    seconds: number | null;
    resourcesPerSecond: number | null;
    bundlesPerSecond: number | null;
    bundles: number;
    errors: number;
    concurrency: number;
    stoppedByTimeBudget: boolean;
  };
  search: {
    queries: number;
    errors: number;
    empty: number;
    p50Ms: number | null;
    p95Ms: number | null;
    concurrency: number;
    classes: Record<string, ClassFigures>;
    failures: Failure[];
    /** --scale large only: the scale whose per-class p50 the ratios divide by. */
    baselineScale?: ScaleName;
  };
  memory: {
    peakRssMb: number | null;
    osMaxRssMb: number | null;
    note: string;
  };
  /** Phases that could not run, and other things the reader must know. */
  problems: string[];
}

export const READ_RATIO_TARGET = 0.7;
export const AUTHORISED_READ_RATIO_TARGET = 0.8;
export const INGEST_TARGET = 2000;

const resultsDir = path.resolve(import.meta.dirname, '..', 'results');

/**
 * Writes latest.json and, for a run of every FHIR phase, <scale>.json (the file a large run compares
 * with, so a partial run must not replace it).
 * @param result - the result
 * @param complete - whether read, ingest and search all ran
 * @returns the paths written
 */
export function writeResult(result: BenchResult, complete: boolean): string[] {
  mkdirSync(resultsDir, { recursive: true });
  const text = `${JSON.stringify(result, null, 2)}\n`;
  const files = [path.join(resultsDir, 'latest.json'), ...(complete ? [path.join(resultsDir, `${result.scale}.json`)] : [])];
  for (const f of files) {
    writeFileSync(f, text);
  }
  return files;
}

/**
 * Per-class p50 of the run the large scale is compared with: medium (100,000 resources, one tenth
 * of large, as the 10x criterion asks) when bench/results/medium.json exists for the same kind of
 * database, else quick.
 * @param database - only a run on the same kind of database is comparable
 * @returns the baseline's scale and class name to p50 ms, or a reason why there is none
 */
export function readBaseline(database: BenchResult['database']): { scale: ScaleName; p50: Map<string, number> } | string {
  const reasons: string[] = [];
  for (const scale of ['medium', 'quick'] as const) {
    const file = path.join(resultsDir, `${scale}.json`);
    if (!existsSync(file)) {
      reasons.push(`no bench/results/${scale}.json`);
      continue;
    }
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { database?: unknown; search?: { classes?: Record<string, { p50Ms?: unknown }> } };
      if (parsed.database !== database) {
        reasons.push(`bench/results/${scale}.json was measured on ${String(parsed.database)}, not ${database}`);
        continue;
      }
      const p50 = new Map<string, number>();
      for (const [name, c] of Object.entries(parsed.search?.classes ?? {})) {
        if (typeof c.p50Ms === 'number' && c.p50Ms > 0) {
          p50.set(name, c.p50Ms);
        }
      }
      return { scale, p50 };
    } catch (err) {
      reasons.push(`bench/results/${scale}.json is unreadable: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return `no per-class ratios: ${reasons.join('; ')} (run --scale medium first)`;
}

const fmt = (v: number | null | undefined, decimals = 1): string => {
  if (v === null || v === undefined || !Number.isFinite(v)) {
    return '—';
  }
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
};

function verdict(value: number | null, target: number): string {
  if (value === null) {
    return '';
  }
  return value >= target ? '(met)' : '(below)';
}

/**
 * Renders the human-readable report.
 * @param r - the result
 * @returns the table text
 */
export function formatReport(r: BenchResult): string {
  const lines: string[] = [];
  const row = (label: string, value: string, target = ''): void => {
    lines.push(`  ${label.padEnd(34)} ${value.padStart(14)}   ${target}`);
  };
  lines.push('');
  lines.push(`DSD FHIR benchmark: scale ${r.scale}, database ${r.database}, node ${r.node}, ${r.date}`);
  lines.push('  Figures from one run on a shared machine; compare ratios, not absolute numbers.');
  lines.push('');
  lines.push(`  ${'Figure'.padEnd(34)} ${'Value'.padStart(14)}   Target`);
  lines.push(`  ${'-'.repeat(34)} ${'-'.repeat(14)}   ${'-'.repeat(24)}`);
  row('read: platform throughput (req/s)', fmt(r.read.rps, 0));
  row('read: baseline throughput (req/s)', fmt(r.read.baselineRps, 0), 'bare Fastify + same SELECT');
  row('read: ratio platform/baseline', fmt(r.read.ratio, 2), `>= ${READ_RATIO_TARGET} ${verdict(r.read.ratio, READ_RATIO_TARGET)}`);
  row('read: platform p50 / p99 (ms)', `${fmt(r.read.p50Ms)} / ${fmt(r.read.p99Ms)}`);
  row('read: baseline p50 / p99 (ms)', `${fmt(r.read.baselineP50Ms)} / ${fmt(r.read.baselineP99Ms)}`);
  row('read: errors', String(r.read.errors), '0');
  row('authorised read: throughput (req/s)', fmt(r.read.authorisedRps, 0), 'bearer token, access control, audit record per read');
  row('authorised read: ratio to platform read', fmt(r.read.authorisedRatio, 2), `>= ${AUTHORISED_READ_RATIO_TARGET} ${verdict(r.read.authorisedRatio, AUTHORISED_READ_RATIO_TARGET)}`);
  row('authorised read: p50 / p99 (ms)', `${fmt(r.read.authorisedP50Ms)} / ${fmt(r.read.authorisedP99Ms)}`);
  row('authorised read: errors', String(r.read.authorisedErrors), '0');
  row('ingest: resources created', fmt(r.ingest.resources, 0));
  row('ingest: resources/s', fmt(r.ingest.resourcesPerSecond, 0), `>= ${INGEST_TARGET} on PostgreSQL ${r.database === 'postgres' ? verdict(r.ingest.resourcesPerSecond, INGEST_TARGET) : '(not applicable to PGlite)'}`);
  row('ingest: bundles/s', fmt(r.ingest.bundlesPerSecond, 1));
  row('ingest: failed bundles', String(r.ingest.errors), '0');
  row('search: queries / errors / empty', `${r.search.queries} / ${r.search.errors} / ${r.search.empty}`, 'errors 0, empty 0');
  row('search: p50 / p95 (ms)', `${fmt(r.search.p50Ms)} / ${fmt(r.search.p95Ms)}`);
  row('memory: peak RSS (MB)', fmt(r.memory.peakRssMb, 0), `OS high-water mark ${fmt(r.memory.osMaxRssMb, 0)} MB`);
  lines.push(`  (${r.memory.note})`);
  lines.push('');
  const withRatio = Object.values(r.search.classes).some((c) => c.p50RatioToBaseline !== undefined);
  lines.push(`  ${'Search class'.padEnd(26)} ${'n'.padStart(5)} ${'p50 ms'.padStart(9)} ${'p95 ms'.padStart(9)} ${'errors'.padStart(7)} ${'empty'.padStart(6)}${withRatio ? ` ${`p50 x ${r.search.baselineScale ?? '?'}`.padStart(12)}` : ''}`);
  lines.push(`  ${'-'.repeat(26)} ${'-'.repeat(5)} ${'-'.repeat(9)} ${'-'.repeat(9)} ${'-'.repeat(7)} ${'-'.repeat(6)}${withRatio ? ` ${'-'.repeat(12)}` : ''}`);
  for (const [name, c] of Object.entries(r.search.classes)) {
    const ratio = withRatio ? ` ${fmt(c.p50RatioToBaseline, 2).padStart(12)}` : '';
    lines.push(`  ${name.padEnd(26)} ${String(c.n).padStart(5)} ${fmt(c.p50Ms).padStart(9)} ${fmt(c.p95Ms).padStart(9)} ${String(c.errors).padStart(7)} ${String(c.empty).padStart(6)}${ratio}`);
  }
  if (r.search.failures.length > 0) {
    lines.push('');
    lines.push('  Failed searches (first failure per class; BENCH_LOG_LEVEL=error shows the server-side error):');
    for (const f of r.search.failures) {
      lines.push(`    [${f.class}] ${f.status === 0 ? 'no response' : f.status} GET ${f.path}`);
      lines.push(`      ${f.body.replace(/\s+/g, ' ').slice(0, 300)}`);
    }
  }
  if (r.problems.length > 0) {
    lines.push('');
    lines.push('  Notes:');
    for (const p of r.problems) {
      lines.push(`    - ${p.replace(/\s+/g, ' ').slice(0, 600)}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}
