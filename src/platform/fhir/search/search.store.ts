import type { Queryable } from '../../../db/index.ts';
import type { Bind } from '../access.ts';
import { OperationOutcomeError, badRequest } from '../outcome.ts';
import { dateRange, toDbTime } from './dates.ts';
import { escapeLike, normalizeString } from './normalize.ts';
import type { Filter, IncludeSpec, Prefix, SearchRequest } from './parse.ts';
import { splitEscaped, splitPrefix } from './parse.ts';
import type { SearchParam } from './registry.ts';

/**
 * Search compiled to SQL. Every filter becomes an EXISTS over an index table, so the database
 * decides the plan and paging, totals, includes, chains and _has all see the same rows. Values
 * are always bound parameters; parameter codes are mapped to interned ids.
 */

/** Maps (resourceType, code) to the interned parameter id. */
export type ParamIdLookup = (resourceType: string, code: string) => number;

/** Expands a ValueSet URL to its codes (for :in / :not-in), or undefined when unknown. */
export type ValueSetExpander = (url: string) => { system: string; code: string }[] | undefined;

export interface SearchSqlOptions {
  readonly paramId: ParamIdLookup;
  readonly baseUrl: string;
  readonly expandValueSet: ValueSetExpander;
  /**
   * The caller's access predicate over a resource row alias (see ../access.ts). It is applied to
   * every row a search can reach or reveal: matches, chained targets, `_has` sources, includes.
   */
  readonly scope?: (alias: string, bind: Bind) => string;
  /**
   * Most index rows a filter may match and still lead a search (choosePlan); default
   * DRIVER_LIMIT. Tests set it low so that every plan is exercised on small data.
   */
  readonly driverLimit?: number;
}

class Sql {
  readonly params: unknown[] = [];
  private aliasN = 0;
  readonly bind: Bind = (v: unknown): string => this.p(v);
  /**
   * @param outer - bind into an enclosing query's parameters instead of own ones
   * @param aliasPrefix - prefix of generated table aliases (keeps embedded SQL apart)
   */
  private readonly outer: Bind | undefined;
  private readonly aliasPrefix: string;
  /**
   * Set for a scan in row order (see executeSearch): each filter is then tested row by row, and
   * `OFFSET 0` keeps the planner from turning it into a join that first collects every match.
   */
  fence = false;
  constructor(outer?: Bind, aliasPrefix = '') {
    this.outer = outer;
    this.aliasPrefix = aliasPrefix;
  }
  /** `EXISTS (body)`, fenced when `fence` is set. */
  exists(body: string): string {
    return `EXISTS (${body}${this.fence ? ' OFFSET 0' : ''})`;
  }
  p(v: unknown): string {
    if (this.outer !== undefined) {
      return this.outer(v);
    }
    this.params.push(v);
    return `$${this.params.length}`;
  }
  alias(prefix: string): string {
    return `${this.aliasPrefix}${prefix}${++this.aliasN}`;
  }
}

const TABLE: Record<string, string> = {
  token: 'idx_token',
  string: 'idx_string',
  date: 'idx_date',
  number: 'idx_number',
  quantity: 'idx_quantity',
  reference: 'idx_reference',
  uri: 'idx_uri',
};

/**
 * Builds the WHERE clause of a search on alias `r`.
 * @param req - the parsed search
 * @param opts - id lookup etc.
 * @returns SQL and bound values
 */
export function buildWhere(req: Pick<SearchRequest, 'resourceType' | 'filters'>, opts: SearchSqlOptions): { where: string; params: unknown[] } {
  const q = new Sql();
  const where = whereFor(q, 'r', req.resourceType, req.filters, opts);
  return { where, params: q.params };
}

/**
 * Compiles search filters into a predicate on `alias` inside another query (the access layer's
 * granular scopes, e.g. `patient/Observation.rs?category=laboratory`).
 * @param alias - the resource row alias
 * @param req - resource type and parsed filters
 * @param opts - id lookup (its scope is not applied here)
 * @param bind - binds values into the enclosing query
 * @returns the predicate
 */
export function filterPredicate(alias: string, req: Pick<SearchRequest, 'resourceType' | 'filters'>, opts: SearchSqlOptions, bind: Bind): string {
  const q = new Sql(bind, 'ac_');
  const parts = req.filters.map((f) => filterSql(q, alias, req.resourceType, f, { ...opts, scope: undefined }));
  return parts.length === 0 ? 'true' : parts.join(' AND ');
}

function whereFor(q: Sql, r: string, resourceType: string, filters: readonly Filter[], opts: SearchSqlOptions): string {
  const parts = [`${r}.resource_type = ${q.p(resourceType)}`, `NOT ${r}.deleted`];
  for (const f of filters) {
    parts.push(filterSql(q, r, resourceType, f, opts));
  }
  return parts.join(' AND ');
}

function filterSql(q: Sql, r: string, resourceType: string, f: Filter, opts: SearchSqlOptions): string {
  switch (f.kind) {
    case 'id': {
      const cond = `${r}.id = ANY(${q.p(f.values)}::text[])`;
      return f.not ? `NOT (${cond})` : cond;
    }
    case 'text': {
      const t = q.alias('x');
      const col = f.field === 'narrative' ? 'narrative' : 'content';
      const ors = f.values.map((v) => {
        const words = normalizeString(v).split(' ').filter((w) => w !== '');
        if (words.length === 0) {
          return 'true';
        }
        return words.map((w) => `${t}.${col} LIKE ${q.p(`%${escapeLike(w)}%`)}`).join(' AND ');
      });
      return q.exists(`SELECT 1 FROM idx_text ${t} WHERE ${t}.rid = ${r}.rid AND (${ors.join(' OR ')})`);
    }
    case 'chain': {
      const x = q.alias('c');
      const t = q.alias('r');
      const perTarget = f.targets.map((target, i) => `(${t}.resource_type = ${q.p(target)} AND ${filterSql(q, t, target, f.inners[i]!, opts)})`);
      const inner = perTarget.length === 1 ? perTarget[0]! : `(${perTarget.join(' OR ')})`;
      return q.exists(`SELECT 1 FROM idx_reference ${x} JOIN resource ${t} ON ${t}.resource_type = ${x}.target_type AND ${t}.id = ${x}.target_id
        WHERE ${x}.rid = ${r}.rid AND ${x}.param = ${q.p(opts.paramId(resourceType, f.param.code))} AND ${x}.target_type = ANY(${q.p(f.targets)}::text[]) AND NOT ${t}.deleted AND ${inner}${scoped(q, t, opts)}`);
    }
    case 'has': {
      const x = q.alias('h');
      const s = q.alias('r');
      const inner = filterSql(q, s, f.sourceType, f.inner, opts);
      return q.exists(`SELECT 1 FROM idx_reference ${x} JOIN resource ${s} ON ${s}.rid = ${x}.rid
        WHERE ${x}.target_id = ${r}.id AND ${x}.target_type = ${r}.resource_type AND ${x}.param = ${q.p(opts.paramId(f.sourceType, f.refParam.code))}
          AND ${s}.resource_type = ${q.p(f.sourceType)} AND NOT ${s}.deleted AND ${inner}${scoped(q, s, opts)}`);
    }
    case 'param':
      return paramSql(q, r, resourceType, f.param, f.modifier, f.values, opts);
    default:
      f satisfies never;
      throw new Error('unreachable');
  }
}

/**
 * The rows that satisfy one filter, straight from its index (see executeSearch): `SELECT rid …`,
 * possibly with repeats, equivalent to the filter's EXISTS test. Index rows exist only for the
 * current version of resources that are not deleted, and a parameter id implies the resource
 * type, so no resource row is read. Undefined for filters that cannot lead this way (negations,
 * :missing, composites, _text/_content; chains and _has lead through driverColumn).
 */
function driverSql(q: Sql, resourceType: string, f: Filter, opts: SearchSqlOptions): string | undefined {
  switch (f.kind) {
    case 'id':
      return f.not ? undefined : `SELECT d.rid FROM resource d WHERE d.resource_type = ${q.p(resourceType)} AND d.id = ANY(${q.p(f.values)}::text[]) AND NOT d.deleted`;
    case 'chain':
    case 'has':
    case 'text':
      return undefined;
    case 'param': {
      const { param, modifier, values } = f;
      const table = TABLE[param.type];
      if (table === undefined || modifier === 'missing' || modifier === 'not' || modifier === 'not-in') {
        return undefined;
      }
      const t = q.alias('i');
      if (modifier === 'identifier') {
        const ors = values.map((v) => tokenMatch(q, t, v, undefined, opts));
        return `SELECT ${t}.rid FROM idx_token ${t} WHERE ${t}.param = ${q.p(opts.paramId(resourceType, `${param.code}:identifier`))} AND (${ors.join(' OR ')})`;
      }
      const ors = values.map((v) => valueMatch(q, t, param, modifier, v, opts));
      return `SELECT ${t}.rid FROM ${table} ${t} WHERE ${t}.param = ${q.p(opts.paramId(resourceType, param.code))} AND (${ors.join(' OR ')})`;
    }
    default:
      f satisfies never;
      return undefined;
  }
}

/**
 * The select-list column of choosePlan for one filter: an array of at most DRIVER_LIMIT + 1 row
 * ids from the filter's index, or NULL when the filter cannot lead. A chain leads when its
 * target filter is rare: the targets' rows are found first, then the references to them through
 * (target_id, target_type, param). `_has` likewise from the rare source rows to their targets.
 */
function driverColumn(q: Sql, resourceType: string, f: Filter, opts: SearchSqlOptions, name: string): string | undefined {
  const limit = opts.driverLimit ?? DRIVER_LIMIT;
  const cap = limit + 1;
  const capped = (sql: string): string => `ARRAY(SELECT ${name}_s.rid FROM (${sql} LIMIT ${cap}) ${name}_s)`;
  if (f.kind === 'chain' || f.kind === 'has') {
    const innerType = f.kind === 'chain' ? f.targets[0]! : f.sourceType;
    const inner = f.kind === 'chain' ? f.inners[0]! : f.inner;
    if (f.kind === 'chain' && f.targets.length !== 1) {
      return undefined;
    }
    const innerSql = driverSql(q, innerType, inner, opts);
    if (innerSql === undefined) {
      return undefined;
    }
    const x = `${name}_x`;
    const t = `${name}_t`;
    const step2 =
      f.kind === 'chain'
        ? `SELECT ${x}.rid FROM resource ${t} JOIN idx_reference ${x} ON ${x}.target_id = ${t}.id AND ${x}.target_type = ${t}.resource_type
            WHERE ${t}.rid = ANY(${name}_z.a) AND ${x}.param = ${q.p(opts.paramId(resourceType, f.param.code))}${scoped(q, t, opts)}`
        : `SELECT DISTINCT ${t}.rid FROM idx_reference ${x} JOIN resource ${name}_src ON ${name}_src.rid = ${x}.rid
              JOIN resource ${t} ON ${t}.resource_type = ${x}.target_type AND ${t}.id = ${x}.target_id
            WHERE ${x}.rid = ANY(${name}_z.a) AND ${x}.param = ${q.p(opts.paramId(f.sourceType, f.refParam.code))} AND ${x}.target_type = ${q.p(resourceType)}
              AND NOT ${t}.deleted${scoped(q, `${name}_src`, opts)}`;
    return `(SELECT CASE WHEN cardinality(${name}_z.a) <= ${limit} THEN ${capped(step2)} END
       FROM (SELECT ${capped(innerSql)} AS a) ${name}_z) AS ${name}`;
  }
  const d = driverSql(q, resourceType, f, opts);
  return d === undefined ? undefined : `${capped(d)} AS ${name}`;
}

/** The access predicate on a joined row, so chains and _has cannot probe hidden data. */
function scoped(q: Sql, alias: string, opts: SearchSqlOptions): string {
  return opts.scope === undefined ? '' : ` AND (${opts.scope(alias, q.bind)})`;
}

function paramSql(q: Sql, r: string, resourceType: string, param: SearchParam, modifier: string | undefined, values: readonly string[], opts: SearchSqlOptions): string {
  if (param.type === 'composite') {
    return compositeSql(q, r, resourceType, param, modifier, values, opts);
  }
  const table = TABLE[param.type];
  if (table === undefined) {
    throw new OperationOutcomeError(badRequest(`Search parameter "${param.code}" cannot be searched`));
  }
  const t = q.alias('i');
  if (modifier === 'identifier') {
    const ors = values.map((v) => tokenMatch(q, t, v, undefined, opts));
    return q.exists(`SELECT 1 FROM idx_token ${t} WHERE ${t}.rid = ${r}.rid AND ${t}.param = ${q.p(opts.paramId(resourceType, `${param.code}:identifier`))} AND (${ors.join(' OR ')})`);
  }
  const head = `SELECT 1 FROM ${table} ${t} WHERE ${t}.rid = ${r}.rid AND ${t}.param = ${q.p(opts.paramId(resourceType, param.code))}`;
  if (modifier === 'missing') {
    let present = q.exists(head);
    if (param.type === 'reference') {
      // A reference given only by identifier (no literal reference) is a value too.
      const k = q.alias('i');
      present = `(${present} OR ${q.exists(`SELECT 1 FROM idx_token ${k} WHERE ${k}.rid = ${r}.rid AND ${k}.param = ${q.p(opts.paramId(resourceType, `${param.code}:identifier`))}`)})`;
    }
    return values[0] === 'true' ? `NOT ${present}` : present;
  }
  if (param.type === 'token' && (modifier === 'not' || modifier === 'not-in')) {
    const ors = values.map((v) => valueMatch(q, t, param, modifier === 'not' ? undefined : 'not-in', v, opts));
    return `NOT ${q.exists(`${head} AND (${ors.join(' OR ')})`)}`;
  }
  if (param.type === 'number' || param.type === 'quantity' || param.type === 'date') {
    // ne is "not equal" per value: a resource matches when some value is outside the range.
    const ors = values.map((v) => valueMatch(q, t, param, modifier, v, opts));
    return q.exists(`${head} AND (${ors.join(' OR ')})`);
  }
  const ors = values.map((v) => valueMatch(q, t, param, modifier, v, opts));
  return q.exists(`${head} AND (${ors.join(' OR ')})`);
}

function compositeSql(q: Sql, r: string, resourceType: string, param: SearchParam, modifier: string | undefined, values: readonly string[], opts: SearchSqlOptions): string {
  if (modifier === 'missing') {
    const t = q.alias('i');
    const exists = q.exists(`SELECT 1 FROM idx_token ${t} WHERE ${t}.rid = ${r}.rid AND ${t}.param = ${q.p(opts.paramId(resourceType, `${param.code}#0`))}`);
    return values[0] === 'true' ? `NOT ${exists}` : exists;
  }
  const ors = values.map((v) => {
    const parts = splitEscapedKeep(v);
    let inner = '';
    for (let i = parts.length - 1; i >= 0; i--) {
      const comp = param.components[i]!;
      const compType = componentType(comp.definition);
      const table = TABLE[compType] ?? 'idx_token';
      const a = `k${i}_${q.alias('')}`;
      const compParam: SearchParam = { ...param, code: `${param.code}#${i}`, type: compType };
      const grp = i === 0 ? '' : ` AND ${a}.grp = GRP.grp`;
      const cond = `SELECT 1 FROM ${table} ${a} WHERE ${a}.rid = ${r}.rid AND ${a}.param = ${q.p(opts.paramId(resourceType, compParam.code))}${grp} AND ${valueMatch(q, a, compParam, undefined, parts[i]!, opts)}${inner === '' ? '' : ` AND EXISTS (${inner.replaceAll('GRP.grp', `${a}.grp`)})`}`;
      inner = cond;
    }
    return q.exists(inner);
  });
  return `(${ors.join(' OR ')})`;
}

/** Composite components keep their own escapes (a token component may contain an escaped |). */
function splitEscapedKeep(value: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      current += value[i + 1] === '$' ? '$' : c + value[i + 1]!;
      i++;
    } else if (c === '$') {
      out.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  out.push(current);
  return out;
}

/** Component types of the composite parameters, looked up by the component definition's URL suffix. */
let componentTypeOf: (url: string) => SearchParam['type'] = () => 'token';
/**
 * Installs the lookup of component parameter types (from the registry).
 * @param fn - URL → type
 */
export function setComponentTypeLookup(fn: (url: string) => SearchParam['type']): void {
  componentTypeOf = fn;
}
function componentType(url: string): SearchParam['type'] {
  return componentTypeOf(url);
}

function valueMatch(q: Sql, t: string, param: SearchParam, modifier: string | undefined, value: string, opts: SearchSqlOptions): string {
  switch (param.type) {
    case 'token':
      return tokenMatch(q, t, value, modifier, opts);
    case 'string': {
      if (modifier === 'exact') {
        return `${t}.exact = ${q.p(value.normalize('NFC'))}`;
      }
      const normalized = normalizeString(value);
      if (modifier === 'contains') {
        return `${t}.norm LIKE ${q.p(`%${escapeLike(normalized)}%`)}`;
      }
      const above = successor(normalized);
      if (above === undefined) {
        return `${t}.norm LIKE ${q.p(`${escapeLike(normalized)}%`)}`;
      }
      // "Starts with" as the key range it is (norm is in the "C" collation, which orders by code
      // point): the index gives the matching row ids without a test of each row's text.
      return `${t}.norm >= ${q.p(normalized)} AND ${t}.norm < ${q.p(above)}`;
    }
    case 'date':
      return dateMatch(q, t, value);
    case 'number':
      return numberMatch(q, `${t}.value`, value);
    case 'quantity': {
      const { prefix, rest } = splitPrefix(value);
      const [num, system, code] = splitEscaped(rest, '|');
      const parts = [numberMatch(q, `${t}.value`, prefix + num!)];
      if (system !== undefined && system !== '') {
        parts.push(`${t}.system = ${q.p(system)}`);
      }
      if (code !== undefined && code !== '') {
        parts.push(system === undefined || system === '' ? `(${t}.code = ${q.p(code)} OR ${t}.unit_norm = ${q.p(normalizeString(code))})` : `${t}.code = ${q.p(code)}`);
      }
      return `(${parts.join(' AND ')})`;
    }
    case 'reference':
      return referenceMatch(q, t, param, modifier, value, opts);
    case 'uri':
      if (modifier === 'below') {
        return `${t}.value LIKE ${q.p(`${escapeLike(value)}%`)}`;
      }
      if (modifier === 'above') {
        return `${q.p(value)} LIKE replace(replace(replace(${t}.value, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`;
      }
      return `${t}.value = ${q.p(value)}`;
    case 'composite':
    case 'special':
      throw new OperationOutcomeError(badRequest(`Search parameter "${param.code}" cannot be used here`));
    default:
      param.type satisfies never;
      throw new Error('unreachable');
  }
}

/**
 * The first string after every string that starts with `prefix`, in code point order: the prefix
 * with its last code point raised by one.
 * @param prefix - a non-empty string
 * @returns the bound, or undefined for an empty prefix or one ending in the last code point
 */
export function successor(prefix: string): string | undefined {
  const points = Array.from(prefix); // code points: the bound is in code point order
  const last = points.pop()?.codePointAt(0);
  if (last === undefined || last >= 0x10ffff) {
    return undefined;
  }
  const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
  return points.join('') + String.fromCodePoint(next);
}

function tokenMatch(q: Sql, t: string, value: string, modifier: string | undefined, opts: SearchSqlOptions): string {
  if (modifier === 'text') {
    const norm = escapeLike(normalizeString(value));
    return `(${t}.text_norm LIKE ${q.p(`${norm}%`)} OR ${t}.text_norm LIKE ${q.p(`% ${norm}%`)})`;
  }
  if (modifier === 'in' || modifier === 'not-in') {
    const codes = opts.expandValueSet(value);
    if (codes === undefined) {
      throw new OperationOutcomeError(badRequest(`ValueSet "${value}" is not known to this server, so :${modifier} cannot be evaluated`));
    }
    if (codes.length === 0) {
      return 'false';
    }
    return `(${t}.system, ${t}.code) IN (SELECT * FROM unnest(${q.p(codes.map((c) => c.system))}::text[], ${q.p(codes.map((c) => c.code))}::text[]))`;
  }
  if (modifier === 'of-type') {
    const [ts, tc, v] = splitEscaped(value, '|');
    return `(${t}.type_system = ${q.p(ts)} AND ${t}.type_code = ${q.p(tc)} AND ${t}.code = ${q.p(v)})`;
  }
  if (modifier === 'above' || modifier === 'below') {
    // Without a code system hierarchy on the server a code subsumes only itself (and uri-like codes by prefix).
    const parts = splitEscaped(value, '|');
    const code = parts.length === 1 ? parts[0]! : parts[1]!;
    const sys = parts.length === 1 ? undefined : parts[0]!;
    const codeCond = modifier === 'below' ? `${t}.code LIKE ${q.p(`${escapeLike(code)}%`)}` : `${q.p(code)} LIKE ${t}.code || '%'`;
    return sys === undefined || sys === '' ? `(${codeCond})` : `(${t}.system = ${q.p(sys)} AND ${codeCond})`;
  }
  const parts = splitEscaped(value, '|');
  if (parts.length === 1) {
    return `${t}.code = ${q.p(parts[0])}`;
  }
  const [system, code] = parts as [string, string];
  if (system === '') {
    return `(${t}.system IS NULL AND ${t}.code = ${q.p(code)})`;
  }
  if (code === '') {
    return `${t}.system = ${q.p(system)}`;
  }
  return `(${t}.code = ${q.p(code)} AND ${t}.system = ${q.p(system)})`;
}

/**
 * Date comparison of ranges (https://hl7.org/fhir/R4/search.html#date): the search value is a range
 * [plo, phi), the stored value [lo, hi).
 */
function dateMatch(q: Sql, t: string, value: string): string {
  const { prefix, rest } = splitPrefix(value);
  const range = dateRange(rest);
  if (range === undefined) {
    throw new OperationOutcomeError(badRequest(`"${value}" is not a valid date`));
  }
  // Bind only the bounds the comparison uses: an unreferenced parameter has no type and the query fails.
  const lo = (): string => q.p(toDbTime(range.lo));
  const hi = (): string => q.p(toDbTime(range.hi));
  switch (prefix) {
    case 'eq': {
      const h = hi();
      // lo <= hi <= phi, so also lo <= phi. Said outright when the filter is read from its index
      // (a driver), it bounds the range on lo from both sides; without it the range runs from plo
      // to the latest date in the index. Not in a row-by-row test (a fenced probe), where the
      // planner would then prefer that range over the row's own index entries.
      const bound = q.fence ? '' : ` AND ${t}.lo <= ${h}::timestamptz`;
      return `(${t}.lo >= ${lo()}::timestamptz${bound} AND ${t}.hi <= ${h}::timestamptz)`;
    }
    case 'ne':
      return `NOT (${t}.lo >= ${lo()}::timestamptz AND ${t}.hi <= ${hi()}::timestamptz)`;
    case 'gt':
      return `${t}.hi > ${hi()}::timestamptz`;
    case 'lt':
      return `${t}.lo < ${lo()}::timestamptz`;
    case 'ge':
      return `${t}.hi > ${lo()}::timestamptz`;
    case 'le':
      return `${t}.lo < ${hi()}::timestamptz`;
    case 'sa':
      return `${t}.lo >= ${hi()}::timestamptz`;
    case 'eb':
      return `${t}.hi <= ${lo()}::timestamptz`;
    case 'ap': {
      // Approximately: within 10% of the distance from now, at least a day, on either side.
      const now = Date.now();
      const slack = Math.max(Math.abs(now - range.lo) * 0.1, 86400000);
      return `(${t}.lo < ${q.p(toDbTime(range.hi + slack))}::timestamptz AND ${t}.hi > ${q.p(toDbTime(range.lo - slack))}::timestamptz)`;
    }
    default:
      prefix satisfies never;
      throw new Error('unreachable');
  }
}

/**
 * Number comparison with implicit precision (https://hl7.org/fhir/R4/search.html#number):
 * "100" means [99.5, 100.5); "1e2" likewise.
 */
function numberMatch(q: Sql, col: string, value: string): string {
  const { prefix, rest } = splitPrefix(value);
  const { lo, hi, exact } = numberRange(rest);
  // Bind only the values the comparison uses: an unreferenced parameter has no type and the query fails.
  const cmp = (p: Prefix): string => {
    switch (p) {
      case 'eq':
        return `(${col} >= ${q.p(lo)}::numeric AND ${col} < ${q.p(hi)}::numeric)`;
      case 'ne':
        return `(${col} < ${q.p(lo)}::numeric OR ${col} >= ${q.p(hi)}::numeric)`;
      case 'gt':
      case 'sa':
        return `${col} > ${q.p(exact)}::numeric`;
      case 'lt':
      case 'eb':
        return `${col} < ${q.p(exact)}::numeric`;
      case 'ge':
        return `${col} >= ${q.p(exact)}::numeric`;
      case 'le':
        return `${col} <= ${q.p(exact)}::numeric`;
      case 'ap': {
        const X = q.p(exact);
        return `(${col} >= ${X}::numeric - abs(${X}::numeric) * 0.1 AND ${col} <= ${X}::numeric + abs(${X}::numeric) * 0.1)`;
      }
      default:
        p satisfies never;
        throw new Error('unreachable');
    }
  };
  return cmp(prefix);
}

/**
 * @param text - a decimal as written
 * @returns the half-open range its precision implies, as decimal strings, and the value itself
 */
export function numberRange(text: string): { lo: string; hi: string; exact: string } {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (m === null) {
    throw new OperationOutcomeError(badRequest(`"${text}" is not a number`));
  }
  const exp = Number(m[4] ?? '0');
  const decimals = (m[3] ?? '').length - exp;
  // Half a unit in the last significant place.
  const half = `5e${-(decimals + 1)}`;
  const n = `${m[1]}${m[2] === '' ? '0' : m[2]}${m[3] !== undefined && m[3] !== '' ? `.${m[3]}` : ''}${m[4] !== undefined ? `e${m[4]}` : ''}`;
  return { lo: sub(n, half), hi: add(n, half), exact: n };
}

// Exact decimal arithmetic is left to PostgreSQL: these produce expressions it evaluates.
function sub(a: string, b: string): string {
  return exactDecimal(a, b, -1);
}
function add(a: string, b: string): string {
  return exactDecimal(a, b, 1);
}
function exactDecimal(a: string, b: string, sign: 1 | -1): string {
  // Use BigInt on scaled values to stay exact.
  const scale = 40;
  const toScaled = (s: string): bigint => {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s)!;
    const digits = `${m[2] === '' ? '0' : m[2]}${m[3] ?? ''}`;
    const pow = scale - (m[3] ?? '').length + Number(m[4] ?? '0');
    const v = pow >= 0 ? BigInt(digits) * 10n ** BigInt(pow) : BigInt(digits) / 10n ** BigInt(-pow);
    return m[1] === '-' ? -v : v;
  };
  const v = toScaled(a) + BigInt(sign) * toScaled(b);
  const neg = v < 0n;
  const abs = (neg ? -v : v).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${abs.slice(0, -scale)}.${abs.slice(-scale)}`;
}

function referenceMatch(q: Sql, t: string, param: SearchParam, modifier: string | undefined, value: string, opts: SearchSqlOptions): string {
  let v = value;
  if (v.startsWith(`${opts.baseUrl}/`)) {
    v = v.slice(opts.baseUrl.length + 1);
  }
  if (modifier === 'below' || modifier === 'above') {
    return `${t}.url LIKE ${q.p(`${escapeLike(v)}%`)}`;
  }
  const typeModifier = modifier !== undefined && /^[A-Z]/.test(modifier) ? modifier : undefined;
  const local = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]+)?$/.exec(v);
  if (local !== null) {
    if (typeModifier !== undefined && typeModifier !== local[1]) {
      return 'false';
    }
    return `(${t}.target_type = ${q.p(local[1])} AND ${t}.target_id = ${q.p(local[2])})`;
  }
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(v)) {
    const types = typeModifier !== undefined ? [typeModifier] : param.target.length === 1 ? [param.target[0]!] : undefined;
    return types !== undefined ? `(${t}.target_id = ${q.p(v)} AND ${t}.target_type = ${q.p(types[0])})` : `${t}.target_id = ${q.p(v)}`;
  }
  if (/^[a-z][a-z0-9+.-]*:/.test(v)) {
    return `${t}.url = ${q.p(v.replace(/\|.*$/, ''))} OR ${t}.url = ${q.p(v)}`;
  }
  throw new OperationOutcomeError(badRequest(`"${value}" is not a valid reference for "${param.code}" (use Type/id, id or an absolute URL)`));
}

/** One matched or included row. */
export interface ResultRow {
  readonly rid: string;
  readonly resourceType: string;
  readonly id: string;
  readonly content: string;
  /** The row's patient compartments (who the data is about, for the audit trail). */
  readonly compartments: readonly string[];
}

type Row = { rid: string; resource_type: string; id: string; content: string; compartments: string[] | null };

function toRow(f: Row): ResultRow {
  return { rid: String(f.rid), resourceType: f.resource_type, id: f.id, content: f.content, compartments: f.compartments ?? [] };
}

/**
 * Runs a search: one page of matches and, when asked, the total.
 * @param db - database
 * @param req - the parsed search
 * @param opts - lookups and access scope
 * @returns matches and total
 */
export async function executeSearch(db: Queryable, req: SearchRequest, opts: SearchSqlOptions): Promise<{ rows: ResultRow[]; total: number | undefined; hasMore: boolean }> {
  let plan = req.summary !== 'count' && req.count > 0 && req.filters.length > 0 ? await choosePlan(db, req, opts) : undefined;
  if (plan?.kind === 'scan' && req.sort.length > 0) {
    // A scan in row order cannot stop early when the page is ordered by something else; a walk
    // through the sort parameter's index in its order can.
    const walked = await sortedScan(db, req, opts);
    if (walked !== undefined) {
      return { ...walked, total: req.total === 'accurate' ? await countMatches(db, req, opts) : undefined };
    }
    plan = undefined;
  }
  const { q, where } = pageWhere(req, opts, plan);
  const orderParts: string[] = [];
  for (const s of req.sort) {
    const dir = s.descending ? 'DESC' : 'ASC';
    if (s.code === '_id') {
      orderParts.push(`r.id ${dir}`);
    } else if (s.code === '_lastUpdated') {
      orderParts.push(`r.last_updated ${dir}`);
    } else if (s.param !== undefined) {
      const table = TABLE[s.param.type]!;
      const col = sortColumn(s.param.type, s.descending);
      const agg = s.descending ? 'max' : 'min';
      orderParts.push(`(SELECT ${agg}(o.${col}) FROM ${table} o WHERE o.rid = r.rid AND o.param = ${q.p(opts.paramId(req.resourceType, s.param.code))}) ${dir} NULLS LAST`);
    }
  }
  orderParts.push('r.rid');
  let rows: ResultRow[] = [];
  let hasMore = false;
  if (req.summary !== 'count' && req.count > 0) {
    const limit = q.p(req.count + 1);
    const offset = q.p(req.offset);
    const found = await db.query<Row>(
      `SELECT r.rid::text AS rid, r.resource_type, r.id, r.content, r.compartments FROM resource r WHERE ${where} ORDER BY ${orderParts.join(', ')} LIMIT ${limit} OFFSET ${offset}`,
      q.params,
    );
    hasMore = found.length > req.count;
    rows = found.slice(0, req.count).map(toRow);
  }
  let total: number | undefined;
  const wantTotal = req.total ?? (req.summary === 'count' ? 'accurate' : undefined);
  if (wantTotal === 'accurate' || (wantTotal === undefined && req.offset === 0 && !hasMore)) {
    if (wantTotal === undefined) {
      total = rows.length;
    } else if (plan?.kind === 'rows') {
      // Every match is among the driver's rows: counting them is as cheap as the page was.
      const c = new Sql();
      c.fence = true;
      const rest = req.filters.filter((_, i) => !plan.filters.has(i));
      const w = `r.rid = ANY(${c.p(plan.rids)}::bigint[]) AND ${whereFor(c, 'r', req.resourceType, rest, opts)}${scoped(c, 'r', opts)}`;
      total = await countWhere(db, w, c.params);
    } else {
      total = await countMatches(db, req, opts);
    }
  } else if (wantTotal === 'estimate') {
    const e = new Sql();
    const w = whereFor(e, 'r', req.resourceType, req.filters, opts) + scoped(e, 'r', opts);
    const explained = await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) SELECT 1 FROM resource r WHERE ${w}`, e.params);
    total = estimateFromPlan(explained[0]?.['QUERY PLAN']);
    if (total !== undefined && total < req.offset + rows.length) {
      total = req.offset + rows.length;
    }
  }
  return { rows, total, hasMore };
}

/**
 * The WHERE clause of the page query for a plan (undefined: no plan, the planner decides).
 * @param req - the search
 * @param opts - options
 * @param plan - the plan
 * @returns the clause and its parameters
 */
function pageWhere(req: SearchRequest, opts: SearchSqlOptions, plan: SearchPlan | undefined): { q: Sql; where: string } {
  const q = new Sql();
  if (plan === undefined) {
    return { q, where: whereFor(q, 'r', req.resourceType, req.filters, opts) + scoped(q, 'r', opts) };
  }
  // Both plans test the remaining filters row by row: on at most DRIVER_LIMIT rows, or in row
  // order until the page is full.
  q.fence = true;
  const rest = req.filters.filter((_, i) => plan.kind === 'scan' || !plan.filters.has(i));
  const where = whereFor(q, 'r', req.resourceType, rest, opts) + scoped(q, 'r', opts);
  return { q, where: plan.kind === 'rows' ? `r.rid = ANY(${q.p(plan.rids)}::bigint[]) AND ${where}` : where };
}

/** Whether a filter's index rows come from one key range per value: a string by prefix, or a token, without modifier. */
function readsOneKeyRange(f: Filter): boolean {
  if (f.kind !== 'param') {
    return false;
  }
  return (f.param.type === 'string' || f.param.type === 'token') && f.modifier === undefined;
}

/**
 * Most rows a filter's index may give for the search to start from them (see choosePlan). Above
 * it the filter is common, and scanning the type in row order finds a page after about
 * page size x (resources of the type / this many) rows at most.
 */
export const DRIVER_LIMIT = 2000;

/** `rows`: the matches are among `rids`, which satisfy the filters numbered in `filters`. */
type SearchPlan = { readonly kind: 'rows'; readonly filters: ReadonlySet<number>; readonly rids: readonly string[] } | { readonly kind: 'scan' };

/**
 * Chooses how to find a page, from what the indexes hold rather than from planner estimates
 * (the estimates of a table shared by every parameter were off by 10-100x, and picked either
 * "collect every match, then sort" at scale or a long scan for rare values):
 * - some filter matches at most DRIVER_LIMIT index rows: start from those rows and test the
 *   other filters on them (cost bounded by DRIVER_LIMIT, whatever the size of the data);
 * - every filter is common: scan the type in row order and stop when the page is full (cost
 *   bounded by how common the filters are, not by how much data there is).
 * One query reads at most DRIVER_LIMIT + 1 index rows per filter to decide (WIDEN_TIMES times
 * that for two or more string or token filters, see below).
 */
async function choosePlan(db: Queryable, req: SearchRequest, opts: SearchSqlOptions): Promise<SearchPlan> {
  const limit = opts.driverLimit ?? DRIVER_LIMIT;
  // Two or more filters that each read one key range of their index are read further, up to
  // WIDEN_TIMES x the limit: filters that are each common may be rare together (at 1,000,000
  // resources a surname and a first name each match over 2,000 patients, both together about a
  // hundred), and intersecting their rows beats scanning the type for them. Date, number and
  // quantity ranges are not: an interval index read costs more than it returns (reading them
  // further too made typical searches up to 3x slower).
  const keyed = req.filters.filter(readsOneKeyRange).length >= 2;
  const capOf = (f: Filter): number => (keyed && readsOneKeyRange(f) ? limit * WIDEN_TIMES : limit);
  const q = new Sql();
  const cols = req.filters.map((f, i) => driverColumn(q, req.resourceType, f, { ...opts, driverLimit: capOf(f) }, `d${i}`));
  if (cols.every((c) => c === undefined)) {
    return { kind: 'scan' };
  }
  const found = await db.query<Record<string, (string | number)[] | null>>(`SELECT ${cols.filter((c) => c !== undefined).join(', ')}`, q.params);
  // Every filter whose rows were all read leads; the candidates are the rows they share, when
  // one of them, or what they share, is at most the limit.
  const complete: { filter: number; rids: Set<string> }[] = [];
  cols.forEach((c, i) => {
    const rids = c === undefined ? null : (found[0]?.[`d${i}`] ?? null);
    if (rids !== null && rids.length <= capOf(req.filters[i]!)) {
      complete.push({ filter: i, rids: new Set(rids.map(String)) });
    }
  });
  if (complete.length === 0) {
    return { kind: 'scan' };
  }
  complete.sort((a, b) => a.rids.size - b.rids.size);
  const shared = [...complete[0]!.rids].filter((rid) => complete.every((c) => c.rids.has(rid)));
  if (complete[0]!.rids.size > limit && shared.length > limit) {
    return { kind: 'scan' };
  }
  return { kind: 'rows', filters: new Set(complete.map((c) => c.filter)), rids: shared };
}

/** Two or more key-range filters are each read up to WIDEN_TIMES x DRIVER_LIMIT index rows (choosePlan). */
const WIDEN_TIMES = 4;

/** The column a sort key orders by, per parameter type, and whether it may walk an index. */
function sortColumn(type: SearchParam['type'], descending: boolean): string {
  return { token: 'code', string: 'norm', date: descending ? 'hi' : 'lo', number: 'value', quantity: 'value', reference: 'target_id', uri: 'value' }[type as string] ?? 'code';
}

/**
 * A page ordered by one search parameter, found by walking that parameter's index in sort order
 * and testing the filters row by row, so it stops when the page is full however much matches.
 * A resource's sort value is its lowest value (highest when descending); the walk keeps only
 * index rows holding that value. It gives up (undefined, and the caller sorts every match) when
 * the walk runs out before the page is full (resources without the parameter sort last), or
 * when one resource holds its sort value twice (it would appear twice).
 */
async function sortedScan(db: Queryable, req: SearchRequest, opts: SearchSqlOptions): Promise<{ rows: ResultRow[]; hasMore: boolean } | undefined> {
  const key = req.sort[0];
  if (req.sort.length !== 1 || key?.param === undefined || key.param.type === 'reference' || TABLE[key.param.type] === undefined) {
    return undefined;
  }
  const table = TABLE[key.param.type]!;
  const col = sortColumn(key.param.type, key.descending);
  const dir = key.descending ? 'DESC' : 'ASC';
  const q = new Sql();
  q.fence = true;
  const param = q.p(opts.paramId(req.resourceType, key.param.code));
  const where = whereFor(q, 'r', req.resourceType, req.filters, opts) + scoped(q, 'r', opts);
  const want = req.offset + req.count + 1;
  const found = await db.query<Row>(
    `SELECT r.rid::text AS rid, r.resource_type, r.id, r.content, r.compartments
       FROM ${table} o JOIN resource r ON r.rid = o.rid
      WHERE o.param = ${param} AND o.${col} = (SELECT ${key.descending ? 'max' : 'min'}(o2.${col}) FROM ${table} o2 WHERE o2.rid = o.rid AND o2.param = o.param)
        AND ${where}
      ORDER BY o.${col} ${dir}, o.rid LIMIT ${q.p(want)}`,
    q.params,
  );
  if (found.length < want || new Set(found.map((f) => f.rid)).size !== found.length) {
    return undefined;
  }
  return { rows: found.slice(req.offset, req.offset + req.count).map(toRow), hasMore: true };
}

async function countWhere(db: Queryable, where: string, params: unknown[]): Promise<number> {
  const c = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource r WHERE ${where}`, params);
  return Number(c[0]?.n ?? 0);
}

/**
 * `_total=accurate` over every match. Without an access scope, and when the filters need only
 * the row id, the count runs on the index tables alone (distinct rows of the first filter that
 * can lead, tested against the others) and reads no resource row.
 */
async function countMatches(db: Queryable, req: SearchRequest, opts: SearchSqlOptions): Promise<number> {
  const unscoped = opts.scope === undefined || opts.scope('r', () => 'NULL') === 'true';
  const lead = req.filters.findIndex((f) => f.kind === 'param' || f.kind === 'chain');
  const ridOnly = req.filters.every((f) => f.kind === 'param' || f.kind === 'chain' || f.kind === 'text');
  const q = new Sql();
  if (unscoped && ridOnly && lead >= 0) {
    const d = driverSql(q, req.resourceType, req.filters[lead]!, opts);
    if (d !== undefined) {
      const rest = req.filters.filter((_, i) => i !== lead).map((f) => filterSql(q, 'r', req.resourceType, f, opts));
      const c = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT DISTINCT s.rid FROM (${d}) s) r${rest.length === 0 ? '' : ` WHERE ${rest.join(' AND ')}`}`,
        q.params,
      );
      return Number(c[0]?.n ?? 0);
    }
  }
  const w = whereFor(q, 'r', req.resourceType, req.filters, opts) + scoped(q, 'r', opts);
  return countWhere(db, w, q.params);
}

function estimateFromPlan(plan: unknown): number | undefined {
  const p = typeof plan === 'string' ? (JSON.parse(plan) as unknown) : plan;
  const first = Array.isArray(p) ? (p[0] as { Plan?: { 'Plan Rows'?: number } } | undefined) : undefined;
  const n = first?.Plan?.['Plan Rows'];
  return typeof n === 'number' ? Math.round(n) : undefined;
}

/**
 * Finds resources referenced by `rids` through the include parameters.
 * @param db - database
 * @param rids - the resources whose references are followed
 * @param specs - _include specs whose source type matches
 * @param opts - lookups and access scope
 * @returns the included rows
 */
export async function findIncludes(db: Queryable, rids: readonly string[], specs: readonly IncludeSpec[], opts: SearchSqlOptions): Promise<ResultRow[]> {
  if (rids.length === 0 || specs.length === 0) {
    return [];
  }
  const q = new Sql();
  const ors = specs.map((s) => {
    const src = `s.resource_type = ${q.p(s.sourceType)}`;
    const param = s.param === undefined ? 'true' : `x.param = ${q.p(opts.paramId(s.sourceType, s.param.code))}`;
    const target = s.targetType === undefined ? 'true' : `x.target_type = ${q.p(s.targetType)}`;
    return `(${src} AND ${param} AND ${target})`;
  });
  const ridParam = q.p(rids);
  const scope = scoped(q, 't', opts);
  // The references are found first and looked up one by one through (resource_type, id): joined
  // in one step, the planner misjudges how few they are and scans every resource instead.
  const rows = await db.query<Row>(
    `WITH refs AS MATERIALIZED (
       SELECT DISTINCT x.target_type, x.target_id FROM idx_reference x JOIN resource s ON s.rid = x.rid
        WHERE x.rid = ANY(${ridParam}::bigint[]) AND x.grp = 0 AND (${ors.join(' OR ')}))
     SELECT t.rid::text AS rid, t.resource_type, t.id, t.content, t.compartments
       FROM refs JOIN resource t ON t.resource_type = refs.target_type AND t.id = refs.target_id
      WHERE NOT t.deleted${scope}`,
    q.params,
  );
  return rows.map(toRow);
}

/**
 * Finds resources that reference the given ones through the revinclude parameters.
 * @param db - database
 * @param targets - referenced resources (type and id)
 * @param specs - _revinclude specs
 * @param opts - lookups and access scope
 * @returns the included rows
 */
export async function findRevIncludes(db: Queryable, targets: readonly { resourceType: string; id: string }[], specs: readonly IncludeSpec[], opts: SearchSqlOptions): Promise<ResultRow[]> {
  if (targets.length === 0 || specs.length === 0) {
    return [];
  }
  const q = new Sql();
  const ors = specs.map((s) => {
    const src = `s.resource_type = ${q.p(s.sourceType)}`;
    const param = s.param === undefined ? 'true' : `x.param = ${q.p(opts.paramId(s.sourceType, s.param.code))}`;
    return `(${src} AND ${param})`;
  });
  const types = q.p(targets.map((t) => t.resourceType));
  const ids = q.p(targets.map((t) => t.id));
  const scope = scoped(q, 's', opts);
  const rows = await db.query<Row>(
    `SELECT DISTINCT s.rid::text AS rid, s.resource_type, s.id, s.content, s.compartments
       FROM (SELECT * FROM unnest(${types}::text[], ${ids}::text[]) AS u(rt, id)) u
       JOIN idx_reference x ON x.target_id = u.id AND x.target_type = u.rt
       JOIN resource s ON s.rid = x.rid
      WHERE x.grp = 0 AND (${ors.join(' OR ')}) AND NOT s.deleted${scope}`,
    q.params,
  );
  return rows.map(toRow);
}

/**
 * Finds the resources in a patient's compartment (for $everything).
 * @param db - database
 * @param patientId - the patient's id
 * @param filter - since, types, paging
 * @returns one page of rows and whether more follow
 */
export async function findCompartment(
  db: Queryable,
  patientId: string,
  filter: { since?: string; types?: readonly string[]; offset: number; count: number },
  scope?: (alias: string, bind: Bind) => string,
): Promise<{ rows: ResultRow[]; hasMore: boolean }> {
  const q = new Sql();
  let where = `(r.compartments @> ${q.p([`Patient/${patientId}`])}::text[] OR (r.resource_type = 'Patient' AND r.id = ${q.p(patientId)})) AND NOT r.deleted`;
  if (filter.since !== undefined) {
    where += ` AND r.last_updated >= ${q.p(filter.since)}::timestamptz`;
  }
  if (filter.types !== undefined) {
    where += ` AND r.resource_type = ANY(${q.p(filter.types)}::text[])`;
  }
  if (scope !== undefined) {
    where += ` AND (${scope('r', q.bind)})`;
  }
  const limit = q.p(filter.count + 1);
  const offset = q.p(filter.offset);
  const rows = await db.query<Row>(
    `SELECT r.rid::text AS rid, r.resource_type, r.id, r.content, r.compartments FROM resource r WHERE ${where}
      ORDER BY (r.resource_type = 'Patient') DESC, r.rid LIMIT ${limit} OFFSET ${offset}`,
    q.params,
  );
  return { rows: rows.slice(0, filter.count).map(toRow), hasMore: rows.length > filter.count };
}
