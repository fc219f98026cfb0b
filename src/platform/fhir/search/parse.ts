import type { SearchParam, SearchRegistry } from './registry.ts';
import { RESULT_PARAMS } from './registry.ts';
import { OperationOutcomeError, badRequest } from '../outcome.ts';

/**
 * Parsing of FHIR search query parameters into a typed request
 * (https://hl7.org/fhir/R4/search.html). Unknown parameters and malformed values are errors,
 * unless the client asked for lenient handling, in which case they become warnings.
 */

/** A filter on a resource: all values are alternatives (OR); filters combine with AND. */
export type Filter =
  | { readonly kind: 'param'; readonly param: SearchParam; readonly modifier: string | undefined; readonly values: readonly string[] }
  | { readonly kind: 'chain'; readonly param: SearchParam; readonly targets: readonly string[]; readonly inners: readonly Filter[] }
  | { readonly kind: 'has'; readonly sourceType: string; readonly refParam: SearchParam; readonly inner: Filter }
  | { readonly kind: 'id'; readonly values: readonly string[]; readonly not: boolean }
  | { readonly kind: 'text'; readonly field: 'narrative' | 'content'; readonly values: readonly string[] };

export interface SortKey {
  readonly code: string;
  readonly param: SearchParam | undefined;
  readonly descending: boolean;
}

export interface IncludeSpec {
  readonly sourceType: string;
  /** undefined for `*` */
  readonly param: SearchParam | undefined;
  readonly targetType: string | undefined;
  readonly iterate: boolean;
}

export type Summary = 'true' | 'false' | 'text' | 'data' | 'count';
export type Total = 'none' | 'estimate' | 'accurate';

/** A parsed search. */
export interface SearchRequest {
  readonly resourceType: string;
  readonly filters: readonly Filter[];
  readonly sort: readonly SortKey[];
  readonly count: number;
  readonly offset: number;
  readonly total: Total | undefined;
  readonly summary: Summary | undefined;
  readonly elements: readonly string[] | undefined;
  readonly include: readonly IncludeSpec[];
  readonly revinclude: readonly IncludeSpec[];
  /** Problems ignored under `Prefer: handling=lenient`. */
  readonly warnings: readonly string[];
}

export interface ParseOptions {
  readonly lenient: boolean;
  readonly defaultCount: number;
  readonly maxCount: number;
  readonly resourceTypes: ReadonlySet<string>;
}

const MODIFIERS: Record<string, ReadonlySet<string>> = {
  string: new Set(['exact', 'contains', 'missing', 'text']),
  token: new Set(['missing', 'not', 'text', 'above', 'below', 'in', 'not-in', 'of-type']),
  reference: new Set(['missing', 'identifier', 'above', 'below']),
  date: new Set(['missing']),
  number: new Set(['missing']),
  quantity: new Set(['missing']),
  uri: new Set(['missing', 'above', 'below', 'exact']),
  composite: new Set(['missing']),
  special: new Set(['missing']),
};

/**
 * Parses a query into a SearchRequest.
 * @param resourceType - the type searched
 * @param query - decoded [name, value] pairs in order
 * @param registry - known search parameters
 * @param options - leniency and page sizes
 * @returns the request
 */
export function parseSearch(resourceType: string, query: readonly (readonly [string, string])[], registry: SearchRegistry, options: ParseOptions): SearchRequest {
  const warnings: string[] = [];
  const fail = (text: string): void => {
    if (options.lenient) {
      warnings.push(text);
    } else {
      throw new OperationOutcomeError(badRequest(text));
    }
  };
  const filters: Filter[] = [];
  const sort: SortKey[] = [];
  const include: IncludeSpec[] = [];
  const revinclude: IncludeSpec[] = [];
  let count = options.defaultCount;
  let offset = 0;
  let total: Total | undefined;
  let summary: Summary | undefined;
  let elements: string[] | undefined;

  for (const [name, value] of query) {
    try {
      switch (name) {
        case '_count': {
          const n = Number(value);
          if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
            throw new OperationOutcomeError(badRequest(`_count must be a whole number, got "${value}"`));
          }
          count = Math.min(n, options.maxCount);
          continue;
        }
        case '_offset': {
          if (!/^\d{1,9}$/.test(value)) {
            throw new OperationOutcomeError(badRequest(`_offset must be a whole number, got "${value}"`));
          }
          offset = Number(value);
          continue;
        }
        case '_total':
          if (value !== 'none' && value !== 'estimate' && value !== 'accurate') {
            throw new OperationOutcomeError(badRequest(`_total must be none, estimate or accurate, got "${value}"`));
          }
          total = value;
          continue;
        case '_summary':
          if (!['true', 'false', 'text', 'data', 'count'].includes(value)) {
            throw new OperationOutcomeError(badRequest(`_summary must be true, false, text, data or count, got "${value}"`));
          }
          summary = value as Summary;
          continue;
        case '_elements':
          elements = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
          if (elements.some((e) => !/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)?$/.test(e))) {
            throw new OperationOutcomeError(badRequest(`_elements must list element names, got "${value}"`));
          }
          continue;
        case '_sort':
          for (const key of value.split(',')) {
            const descending = key.startsWith('-');
            const code = descending ? key.slice(1) : key;
            const param = registry.get(resourceType, code);
            if (code !== '_id' && code !== '_lastUpdated' && (param === undefined || param.type === 'composite' || param.type === 'special')) {
              throw new OperationOutcomeError(badRequest(`Cannot sort ${resourceType} by "${code}": it is not a sortable search parameter of ${resourceType}`));
            }
            sort.push({ code, param, descending });
          }
          continue;
        case '_include':
        case '_include:iterate':
        case '_include:recurse':
          include.push(parseInclude(value, name !== '_include', registry, options.resourceTypes, false));
          continue;
        case '_revinclude':
        case '_revinclude:iterate':
        case '_revinclude:recurse':
          revinclude.push(parseInclude(value, name !== '_revinclude', registry, options.resourceTypes, true));
          continue;
        case '_format':
        case '_pretty':
          continue;
        default:
          break;
      }
      if (value === '' && !name.endsWith(':missing')) {
        // An empty value is ignored (https://hl7.org/fhir/R4/search.html#errors: "parameters with no value are ignored").
        continue;
      }
      filters.push(parseFilter(resourceType, name, value, registry, options.resourceTypes));
    } catch (err) {
      if (err instanceof OperationOutcomeError) {
        fail(err.message);
      } else {
        throw err;
      }
    }
  }
  if (count === 0 && summary === undefined) {
    // "If _count has the value 0, this shall be treated the same as _summary=count" (https://hl7.org/fhir/R4/search.html#count).
    summary = 'count';
  }
  return { resourceType, filters, sort, count, offset, total, summary, elements, include, revinclude, warnings };
}

function parseInclude(value: string, iterate: boolean, registry: SearchRegistry, types: ReadonlySet<string>, rev: boolean): IncludeSpec {
  const [sourceType, code, targetType, ...rest] = value.split(':');
  if (sourceType === undefined || !types.has(sourceType) || code === undefined || rest.length > 0) {
    throw new OperationOutcomeError(badRequest(`${rev ? '_revinclude' : '_include'} must be Type:parameter[:targetType] or Type:*, got "${value}"`));
  }
  if (targetType !== undefined && !types.has(targetType)) {
    throw new OperationOutcomeError(badRequest(`Unknown target type "${targetType}" in "${value}"`));
  }
  if (code === '*') {
    return { sourceType, param: undefined, targetType, iterate };
  }
  const param = registry.get(sourceType, code);
  if (param?.type !== 'reference') {
    throw new OperationOutcomeError(badRequest(`"${code}" is not a reference search parameter of ${sourceType}`));
  }
  return { sourceType, param, targetType, iterate };
}

function parseFilter(resourceType: string, name: string, value: string, registry: SearchRegistry, types: ReadonlySet<string>): Filter {
  if (name.startsWith('_has:')) {
    // _has:Observation:subject:code=1234-5 (and nested _has)
    const m = /^_has:([A-Za-z]+):([a-zA-Z0-9\-_]+):(.+)$/.exec(name);
    if (m === null) {
      throw new OperationOutcomeError(badRequest(`_has must be _has:Type:reference:parameter, got "${name}"`));
    }
    const [, sourceType, refCode, rest] = m as unknown as [string, string, string, string];
    if (!types.has(sourceType)) {
      throw new OperationOutcomeError(badRequest(`Unknown resource type "${sourceType}" in "${name}"`));
    }
    const refParam = registry.get(sourceType, refCode);
    if (refParam?.type !== 'reference') {
      throw new OperationOutcomeError(badRequest(`"${refCode}" is not a reference search parameter of ${sourceType}`));
    }
    return { kind: 'has', sourceType, refParam, inner: parseFilter(sourceType, rest, value, registry, types) };
  }
  const dot = name.indexOf('.');
  if (dot > 0) {
    const head = name.slice(0, dot);
    const [code, typeModifier] = head.split(':') as [string, string | undefined];
    const param = registry.get(resourceType, code);
    if (param?.type !== 'reference') {
      throw new OperationOutcomeError(badRequest(`Cannot chain on "${code}": it is not a reference search parameter of ${resourceType}`));
    }
    let targets = typeModifier !== undefined ? [typeModifier] : param.target.filter((t) => types.has(t));
    if (typeModifier !== undefined && !types.has(typeModifier)) {
      throw new OperationOutcomeError(badRequest(`Unknown resource type "${typeModifier}" in "${name}"`));
    }
    const rest = name.slice(dot + 1);
    const restCode = rest.split(/[.:]/)[0]!;
    targets = targets.filter((t) => registry.get(t, restCode) !== undefined || restCode === '_id' || restCode.startsWith('_has'));
    if (targets.length === 0) {
      throw new OperationOutcomeError(badRequest(`No target of ${resourceType}.${code} has a search parameter "${restCode}"`));
    }
    // One inner filter per target type: the same code is a different parameter on each type.
    const inners = targets.map((t) => parseFilter(t, rest, value, registry, types));
    return { kind: 'chain', param, targets, inners };
  }
  const [code, modifier, ...extra] = name.split(':') as [string, string | undefined, ...string[]];
  if (extra.length > 0) {
    throw new OperationOutcomeError(badRequest(`Malformed parameter name "${name}"`));
  }
  const values = splitValues(value);
  if (code === '_id') {
    if (modifier !== undefined && modifier !== 'not' && modifier !== 'missing') {
      throw new OperationOutcomeError(badRequest(`Modifier ":${modifier}" is not supported on _id`));
    }
    for (const v of values) {
      if (!/^[A-Za-z0-9\-.]{1,64}$/.test(v)) {
        throw new OperationOutcomeError(badRequest(`"${v}" is not a valid resource id`));
      }
    }
    return { kind: 'id', values, not: modifier === 'not' };
  }
  if (code === '_text' || code === '_content') {
    if (modifier !== undefined) {
      throw new OperationOutcomeError(badRequest(`Modifier ":${modifier}" is not supported on ${code}`));
    }
    return { kind: 'text', field: code === '_text' ? 'narrative' : 'content', values };
  }
  if (RESULT_PARAMS.has(code)) {
    throw new OperationOutcomeError(badRequest(`Parameter "${code}" is not supported in this position`));
  }
  const param = registry.get(resourceType, code);
  if (param === undefined) {
    throw new OperationOutcomeError(badRequest(`Unknown search parameter "${code}" for ${resourceType}. See /fhir/metadata for the supported parameters.`));
  }
  if (modifier !== undefined) {
    const allowed = MODIFIERS[param.type];
    const isTypeModifier = param.type === 'reference' && types.has(modifier);
    if (!isTypeModifier && allowed?.has(modifier) !== true) {
      throw new OperationOutcomeError(badRequest(`Modifier ":${modifier}" is not supported on ${param.type} parameter "${code}"`));
    }
    if (modifier === 'missing' && value !== 'true' && value !== 'false') {
      throw new OperationOutcomeError(badRequest(`:missing takes true or false, got "${value}"`));
    }
  }
  if (param.type === 'special') {
    throw new OperationOutcomeError(badRequest(`Search parameter "${code}" (special) is not supported`));
  }
  if (modifier !== 'missing') {
    for (const v of values) {
      validateValue(param, modifier, v);
    }
  }
  return { kind: 'param', param, modifier, values };
}

/**
 * Splits a parameter value on unescaped commas (https://hl7.org/fhir/R4/search.html#escaping).
 * @param value - the raw value
 * @returns the alternatives, unescaped
 */
export function splitValues(value: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length && ',$|\\'.includes(value[i + 1]!)) {
      current += c + value[i + 1]!;
      i++;
    } else if (c === ',') {
      out.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  out.push(current);
  return out;
}

/**
 * Splits on an unescaped separator (`|` for tokens and quantities, `$` for composites) and unescapes.
 * @param value - one value
 * @param sep - separator character
 * @returns the parts
 */
export function splitEscaped(value: string, sep: '|' | '$'): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      current += value[i + 1]!;
      i++;
    } else if (c === sep) {
      out.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  out.push(current);
  return out;
}

/** The comparison prefixes of https://hl7.org/fhir/R4/search.html#prefix. */
export const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
export type Prefix = (typeof PREFIXES)[number];

/**
 * @param value - a number, date or quantity search value
 * @returns its prefix (default eq) and the rest
 */
export function splitPrefix(value: string): { prefix: Prefix; rest: string } {
  const p = value.slice(0, 2);
  if ((PREFIXES as readonly string[]).includes(p) && !/^\d/.test(p)) {
    return { prefix: p as Prefix, rest: value.slice(2) };
  }
  return { prefix: 'eq', rest: value };
}

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function validateValue(param: SearchParam, modifier: string | undefined, value: string): void {
  const bad = (what: string): never => {
    throw new OperationOutcomeError(badRequest(`Invalid value "${value}" for ${param.type} parameter "${param.code}": ${what}`));
  };
  if (value.length > 2048) {
    bad('too long');
  }
  switch (param.type) {
    case 'number': {
      const { rest } = splitPrefix(value);
      if (!NUMBER_RE.test(rest)) {
        bad('expected a number with an optional prefix (eq, ne, gt, lt, ge, le, sa, eb, ap)');
      }
      break;
    }
    case 'date': {
      const { rest } = splitPrefix(value);
      if (!/^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.test(rest)) {
        bad('expected a date such as 2024, 2024-05, 2024-05-17 or 2024-05-17T10:00:00Z with an optional prefix');
      }
      break;
    }
    case 'quantity': {
      const { rest } = splitPrefix(value);
      const [num] = splitEscaped(rest, '|');
      if (num === undefined || !NUMBER_RE.test(num)) {
        bad('expected [prefix]number|system|code');
      }
      break;
    }
    case 'composite': {
      const parts = splitEscaped(value, '$');
      if (parts.length !== param.components.length) {
        bad(`expected ${param.components.length} components separated by $`);
      }
      break;
    }
    case 'reference':
    case 'token':
    case 'string':
    case 'uri':
    case 'special':
      if (modifier === 'of-type' && splitEscaped(value, '|').length !== 3) {
        bad('expected system|code|value for :of-type');
      }
      break;
    default:
      param.type satisfies never;
  }
}
