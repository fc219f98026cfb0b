import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4/index.js';
import type { Definitions } from '../definitions.ts';
import { dateRange } from './dates.ts';
import { normalizeString } from './normalize.ts';
import type { SearchParam, SearchRegistry } from './registry.ts';
import { splitUnion } from './registry.ts';

/**
 * Extraction of search index values from a resource, driven by the SearchParameter expressions.
 * Most expressions are plain paths with casts and simple filters; those are compiled once into a
 * walker that knows each element's FHIR type from the StructureDefinitions (fast, and typed). The
 * rest are evaluated by the `fhirpath` engine and typed by shape.
 */

/** One value at a path, with its FHIR type (or a backbone path such as 'Patient.contact'). */
interface Node {
  readonly value: unknown;
  readonly type: string;
}

/** For one owner type: the JSON keys a child step reads and the FHIR type each yields ('' = from the value's shape). */
type ChildPlan = readonly (readonly [key: string, type: string])[];

type Step =
  | { readonly kind: 'child'; readonly name: string; readonly plans: Map<string, ChildPlan> }
  | { readonly kind: 'as'; readonly type: string }
  | { readonly kind: 'resolveIs'; readonly type: string }
  | { readonly kind: 'whereEq'; readonly field: string; readonly value: string }
  | { readonly kind: 'index'; readonly n: number };

type Evaluator = (roots: readonly Node[]) => Node[];

export interface TokenRow { readonly system: string | null; readonly code: string | null; readonly text: string | null; readonly typeSystem?: string | null; readonly typeCode?: string | null }
export interface StringRow { readonly norm: string; readonly exact: string }
export interface DateRow { readonly lo: number; readonly hi: number }
export interface QuantityRow { readonly value: number; readonly system: string | null; readonly code: string | null; readonly unit: string | null }
export interface ReferenceRow { readonly targetType: string | null; readonly targetId: string | null; readonly url: string | null }

/** All index values of one resource, per table, keyed by parameter code (composite components as `code#i`). */
export interface IndexRows {
  token: { code: string; grp: number; row: TokenRow }[];
  string: { code: string; grp: number; row: StringRow }[];
  date: { code: string; grp: number; row: DateRow }[];
  number: { code: string; grp: number; value: number }[];
  quantity: { code: string; grp: number; row: QuantityRow }[];
  reference: { code: string; grp: number; row: ReferenceRow }[];
  uri: { code: string; grp: number; value: string }[];
}

const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Duration', 'Distance', 'Count', 'SimpleQuantity', 'MoneyQuantity']);

/** Compiles and caches evaluators, and turns resources into index rows. */
export class Extractor {
  private readonly defs: Definitions;
  private readonly registry: SearchRegistry;
  private readonly cache = new Map<string, Evaluator>();
  private readonly byParam = new WeakMap<SearchParam, Evaluator>();
  /** The server's FHIR base: absolute references elsewhere do not name a local resource. */
  private readonly baseUrl: string | undefined;

  constructor(defs: Definitions, registry: SearchRegistry, baseUrl?: string) {
    this.defs = defs;
    this.registry = registry;
    this.baseUrl = baseUrl;
  }

  /**
   * @param resource - a resource
   * @returns its index values for every search parameter of its type
   */
  extract(resource: { resourceType: string }): IndexRows {
    const rows: IndexRows = { token: [], string: [], date: [], number: [], quantity: [], reference: [], uri: [] };
    const root: Node = { value: resource, type: resource.resourceType };
    for (const param of this.registry.forType(resource.resourceType)) {
      if (param.expression === '' || param.type === 'special' || param.code === '_id') {
        // _id is searched and sorted on resource.id itself (search kind 'id'), so an index row
        // per resource would only be written, never read.
        continue;
      }
      let ev = this.byParam.get(param);
      if (ev === undefined) {
        ev = this.compile(param.expression, param.resourceType);
        this.byParam.set(param, ev);
      }
      const nodes = ev([root]);
      if (param.type === 'composite') {
        this.addComposite(rows, param, nodes);
      } else {
        addValues(rows, param.type, param.code, 0, nodes);
      }
    }
    if (this.baseUrl !== undefined) {
      // http://other.example/fhir/Patient/1 is a resource on another server, not our Patient/1.
      for (const r of rows.reference) {
        if (r.row.url !== null && r.row.targetId !== null && /^[a-z][a-z0-9+.-]*:/i.test(r.row.url) && !r.row.url.startsWith(`${this.baseUrl}/`)) {
          r.row = { ...r.row, targetType: null, targetId: null };
        }
      }
    }
    return rows;
  }

  /**
   * Evaluates an expression to typed nodes (exported for the search evaluator in tests and for compartments).
   * @param expression - FHIRPath
   * @param rootType - the type of the root nodes
   * @param roots - the nodes to start from
   * @returns the typed results
   */
  evaluate(expression: string, rootType: string, roots: readonly Node[]): Node[] {
    const key = `${rootType}\u0000${expression}`;
    let ev = this.cache.get(key);
    if (ev === undefined) {
      ev = this.compile(expression, rootType);
      this.cache.set(key, ev);
    }
    return ev(roots);
  }

  private addComposite(rows: IndexRows, param: SearchParam, nodes: Node[]): void {
    let grp = 1;
    for (const node of nodes) {
      const parts = param.components.map((c) => {
        const def = this.registry.byCanonical(c.definition);
        return { type: def?.type ?? 'token', nodes: this.evaluate(c.expression, node.type, [node]) };
      });
      if (parts.some((p) => p.nodes.length === 0)) {
        continue;
      }
      parts.forEach((p, i) => addValues(rows, p.type, `${param.code}#${i}`, grp, p.nodes));
      grp++;
    }
  }

  private compile(expression: string, rootType: string): Evaluator {
    const parts = splitUnion(expression).map((p) => this.compilePart(p, rootType));
    if (parts.length === 1) {
      return parts[0]!;
    }
    return (roots) => parts.flatMap((p) => p(roots));
  }

  private compilePart(part: string, rootType: string): Evaluator {
    const steps = parsePath(part, rootType);
    if (steps !== undefined) {
      return (roots) => this.walk(roots, steps);
    }
    // Fallback: the fhirpath engine, typed by shape.
    const fn = fhirpath.compile(part, r4model);
    return (roots) =>
      roots.flatMap((r) => {
        try {
          const out = fn(r.value) as unknown[];
          return out.map((v) => ({ value: v, type: guessType(v) }));
        } catch {
          return [];
        }
      });
  }

  private walk(roots: readonly Node[], steps: readonly Step[]): Node[] {
    let nodes: Node[] = [...roots];
    for (const step of steps) {
      const next: Node[] = [];
      switch (step.kind) {
        case 'child':
          for (const n of nodes) {
            this.children(n, step, next);
          }
          break;
        case 'as':
          for (const n of nodes) {
            if (n.type === step.type || (step.type === 'Quantity' && QUANTITY_TYPES.has(n.type)) || (n.type === 'Resource' && isResourceOf(n.value, step.type))) {
              next.push(n);
            }
          }
          break;
        case 'resolveIs':
          for (const n of nodes) {
            const ref = (n.value as { reference?: unknown }).reference;
            if (typeof ref === 'string' && parseReference(ref)?.type === step.type) {
              next.push(n);
            }
          }
          break;
        case 'whereEq':
          for (const n of nodes) {
            if (typeof n.value === 'object' && n.value !== null && (n.value as Record<string, unknown>)[step.field] === step.value) {
              next.push(n);
            }
          }
          break;
        case 'index': {
          const n = nodes[step.n];
          if (n !== undefined) {
            next.push(n);
          }
          break;
        }
        default:
          step satisfies never;
      }
      nodes = next;
    }
    return nodes;
  }

  private children(node: Node, step: Step & { kind: 'child' }, out: Node[]): void {
    const v = node.value;
    if (typeof v !== 'object' || v === null) {
      return;
    }
    const obj = v as Record<string, unknown>;
    let owner = node.type;
    if (owner === 'Resource' || owner === 'DomainResource') {
      owner = typeof obj.resourceType === 'string' ? obj.resourceType : owner;
    }
    let plan = step.plans.get(owner);
    if (plan === undefined) {
      plan = this.planChild(owner, step.name);
      step.plans.set(owner, plan);
    }
    for (const [key, type] of plan) {
      const raw = obj[key];
      if (raw !== undefined) {
        pushAll(raw, type === '' ? guessType(Array.isArray(raw) ? raw[0] : raw) : type, out);
      }
    }
  }

  /** Which JSON keys an element name maps to under an owner type, and their types (computed once per owner). */
  private planChild(owner: string, name: string): ChildPlan {
    const el = this.defs.elements.get(`${owner}.${name}`);
    if (el === undefined) {
      return [[name, '']];
    }
    if (el.types.length > 1) {
      return el.types.map((t) => [name + t[0]!.toUpperCase() + t.slice(1), t] as const);
    }
    return [[name, el.childPath ?? el.types[0] ?? 'Element']];
  }
}

function pushAll(raw: unknown, type: string, out: Node[]): void {
  if (raw === undefined || raw === null) {
    return;
  }
  if (Array.isArray(raw)) {
    for (const v of raw) {
      if (v !== null && v !== undefined) {
        out.push({ value: v, type: type === 'Resource' ? resourceTypeOf(v) : type });
      }
    }
  } else {
    out.push({ value: raw, type: type === 'Resource' ? resourceTypeOf(raw) : type });
  }
}

function resourceTypeOf(v: unknown): string {
  return typeof v === 'object' && v !== null && typeof (v as { resourceType?: unknown }).resourceType === 'string' ? (v as { resourceType: string }).resourceType : 'Resource';
}

function isResourceOf(v: unknown, type: string): boolean {
  return resourceTypeOf(v) === type;
}

/**
 * Parses the simple path forms of SearchParameter expressions; undefined means "use the engine".
 * @param part - one branch of a union
 * @param rootType - the resource type (or a type for relative component expressions)
 * @returns the steps
 */
export function parsePath(part: string, rootType: string): Step[] | undefined {
  let s = part.trim();
  const steps: Step[] = [];
  // "(X.y as T)" and "X.y as T" forms.
  while (s.startsWith('(') && matchingParen(s, 0) === s.length - 1) {
    s = s.slice(1, -1).trim();
  }
  let suffix: Step[] = [];
  const outer = /^\((.+)\)((?:\.[a-zA-Z]+)*)$/.exec(s);
  if (outer !== null && matchingParen(s, 0) === s.length - 1 - outer[2]!.length) {
    const inner = parsePath(outer[1]!, rootType);
    if (inner === undefined) {
      return undefined;
    }
    const rest = outer[2]!.split('.').filter((x) => x !== '');
    return [...inner, ...rest.map((name): Step => ({ kind: 'child', name, plans: new Map() }))];
  }
  const asMatch = /^(.+?)\s+as\s+([A-Za-z]+)$/.exec(s);
  if (asMatch !== null) {
    s = asMatch[1]!.trim();
    suffix = [{ kind: 'as', type: asMatch[2]! }];
  }
  let first = true;
  let i = 0;
  while (i < s.length) {
    // Try the specific forms before the plain name.
    const special = /\.where\(resolve\(\) is ([A-Za-z]+)\)|\.where\(([a-zA-Z]+)\s*=\s*'([^']*)'\)|\.(?:as|ofType)\(([A-Za-z]+)\)|\[(\d+)\]/y;
    special.lastIndex = i;
    const sm = special.exec(s);
    if (sm !== null) {
      if (sm[1] !== undefined) {
        steps.push({ kind: 'resolveIs', type: sm[1] });
      } else if (sm[2] !== undefined) {
        steps.push({ kind: 'whereEq', field: sm[2], value: sm[3]! });
      } else if (sm[4] !== undefined) {
        steps.push({ kind: 'as', type: sm[4] });
      } else {
        steps.push({ kind: 'index', n: Number(sm[5]) });
      }
      i = special.lastIndex;
      first = false;
      continue;
    }
    const name = /\.?([a-zA-Z_][a-zA-Z0-9_]*)/y;
    name.lastIndex = i;
    const nm = name.exec(s);
    if (nm === null || nm[0].startsWith('.') === first) {
      return undefined;
    }
    const n = nm[1]!;
    if (first && /^[A-Z]/.test(n)) {
      if (n !== rootType && n !== 'Resource' && n !== 'DomainResource') {
        return undefined;
      }
    } else {
      if (/^[A-Z]/.test(n) || ['where', 'exists', 'resolve', 'as', 'ofType', 'is', 'extension', 'empty', 'first', 'last', 'not', 'iif'].includes(n)) {
        return undefined;
      }
      steps.push({ kind: 'child', name: n, plans: new Map() });
    }
    i = name.lastIndex;
    first = false;
    if (s[i] === '(') {
      return undefined;
    }
  }
  return [...steps, ...suffix];
}

function matchingParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') {
      depth++;
    } else if (s[i] === ')') {
      depth--;
      if (depth === 0) {
        return i;
      }
    }
  }
  return -1;
}

/**
 * Guesses the FHIR type of a value from its shape (for engine results and unknown paths).
 * @param v - a value
 * @returns a type name
 */
export function guessType(v: unknown): string {
  if (typeof v === 'string') {
    return /^\d{4}(-\d{2}(-\d{2})?)?(T|$)/.test(v) ? 'dateTime' : 'string';
  }
  if (typeof v === 'number') {
    return 'decimal';
  }
  if (typeof v === 'boolean') {
    return 'boolean';
  }
  if (typeof v !== 'object' || v === null) {
    return 'Element';
  }
  const o = v as Record<string, unknown>;
  if (typeof o.resourceType === 'string') {
    return o.resourceType;
  }
  if ('coding' in o) {
    return 'CodeableConcept';
  }
  if ('reference' in o || ('identifier' in o && 'display' in o)) {
    return 'Reference';
  }
  if (typeof o.value === 'number') {
    return 'currency' in o ? 'Money' : 'Quantity';
  }
  if ('start' in o || 'end' in o) {
    return 'Period';
  }
  if ('family' in o || 'given' in o) {
    return 'HumanName';
  }
  if ('line' in o || 'city' in o || 'postalCode' in o) {
    return 'Address';
  }
  if ('code' in o) {
    return 'Coding';
  }
  if ('value' in o && typeof o.system === 'string' && ['phone', 'fax', 'email', 'pager', 'url', 'sms', 'other'].includes(o.system)) {
    return 'ContactPoint';
  }
  if ('value' in o) {
    return 'Identifier';
  }
  if ('low' in o || 'high' in o) {
    return 'Range';
  }
  return 'Element';
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function addValues(rows: IndexRows, ptype: SearchParam['type'], code: string, grp: number, nodes: readonly Node[]): void {
  for (const n of nodes) {
    switch (ptype) {
      case 'token':
        for (const row of tokenRows(n)) {
          rows.token.push({ code, grp, row });
        }
        break;
      case 'string':
        for (const s of stringValues(n)) {
          rows.string.push({ code, grp, row: { norm: normalizeString(s), exact: s.normalize('NFC') } });
        }
        break;
      case 'date': {
        const r = dateValue(n);
        if (r !== undefined) {
          rows.date.push({ code, grp, row: r });
        }
        break;
      }
      case 'number':
        if (typeof n.value === 'number') {
          rows.number.push({ code, grp, value: n.value });
        } else if (typeof n.value === 'object' && n.value !== null && typeof (n.value as { value?: unknown }).value === 'number') {
          rows.number.push({ code, grp, value: (n.value as { value: number }).value });
        }
        break;
      case 'quantity':
        for (const row of quantityRows(n)) {
          rows.quantity.push({ code, grp, row });
        }
        break;
      case 'reference': {
        const r = referenceRow(n);
        if (r !== undefined) {
          rows.reference.push({ code, grp, row: r });
        }
        const ident = (n.value as { identifier?: { system?: unknown; value?: unknown } } | null)?.identifier;
        if (typeof ident === 'object' && ident !== null) {
          rows.token.push({ code: `${code}:identifier`, grp, row: { system: str(ident.system), code: str(ident.value), text: null } });
        }
        break;
      }
      case 'uri':
        if (typeof n.value === 'string') {
          rows.uri.push({ code, grp, value: n.value });
        }
        break;
      case 'composite':
      case 'special':
        break;
      default:
        ptype satisfies never;
    }
  }
}

function tokenRows(n: Node): TokenRow[] {
  const v = n.value;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') {
    return [{ system: null, code: String(v), text: null }];
  }
  if (typeof v !== 'object' || v === null) {
    return [];
  }
  const o = v as Record<string, unknown>;
  switch (n.type) {
    case 'CodeableConcept': {
      const codings = Array.isArray(o.coding) ? (o.coding as Record<string, unknown>[]) : [];
      const text = str(o.text);
      const rows: TokenRow[] = codings.map((c) => ({ system: str(c.system), code: str(c.code), text: normalizeOrNull(str(c.display) ?? text) }));
      if (text !== null) {
        rows.push({ system: null, code: null, text: normalizeString(text) });
      }
      return rows;
    }
    case 'Identifier': {
      const t = o.type as { coding?: Record<string, unknown>[]; text?: unknown } | undefined;
      const tc = t?.coding?.[0];
      return [{ system: str(o.system), code: str(o.value), text: normalizeOrNull(str(t?.text)), typeSystem: tc !== undefined ? str(tc.system) : null, typeCode: tc !== undefined ? str(tc.code) : null }];
    }
    case 'ContactPoint':
      return [{ system: str(o.system), code: str(o.value), text: null }];
    case 'Coding':
    default:
      if ('code' in o || 'system' in o) {
        return [{ system: str(o.system), code: str(o.code), text: normalizeOrNull(str(o.display)) }];
      }
      if ('value' in o) {
        return [{ system: str(o.system), code: str(o.value), text: null }];
      }
      return [];
  }
}

function normalizeOrNull(s: string | null): string | null {
  return s === null ? null : normalizeString(s);
}

function stringValues(n: Node): string[] {
  const v = n.value;
  if (typeof v === 'string') {
    return [v];
  }
  if (typeof v !== 'object' || v === null) {
    return [];
  }
  const o = v as Record<string, unknown>;
  const out: string[] = [];
  const fields = n.type === 'HumanName' ? ['text', 'family', 'given', 'prefix', 'suffix'] : n.type === 'Address' ? ['text', 'line', 'city', 'district', 'state', 'postalCode', 'country'] : Object.keys(o);
  for (const f of fields) {
    const x = o[f];
    if (typeof x === 'string') {
      out.push(x);
    } else if (Array.isArray(x)) {
      for (const y of x) {
        if (typeof y === 'string') {
          out.push(y);
        }
      }
    }
  }
  return out;
}

function dateValue(n: Node): DateRow | undefined {
  const v = n.value;
  if (typeof v === 'string') {
    return dateRange(v);
  }
  if (typeof v !== 'object' || v === null) {
    return undefined;
  }
  const o = v as Record<string, unknown>;
  if (n.type === 'Period' || 'start' in o || 'end' in o) {
    const s = typeof o.start === 'string' ? dateRange(o.start) : undefined;
    const e = typeof o.end === 'string' ? dateRange(o.end) : undefined;
    if (s === undefined && e === undefined) {
      return undefined;
    }
    return { lo: s?.lo ?? -Infinity, hi: e?.hi ?? Infinity };
  }
  if (n.type === 'Timing') {
    const events = Array.isArray(o.event) ? (o.event as unknown[]).map((e) => (typeof e === 'string' ? dateRange(e) : undefined)).filter((r) => r !== undefined) : [];
    const bounds = (o.repeat as { boundsPeriod?: { start?: string; end?: string } } | undefined)?.boundsPeriod;
    const ranges = [...events];
    if (bounds !== undefined) {
      const b = dateValue({ value: bounds, type: 'Period' });
      if (b !== undefined) {
        ranges.push(b);
      }
    }
    if (ranges.length === 0) {
      return undefined;
    }
    return { lo: Math.min(...ranges.map((r) => r.lo)), hi: Math.max(...ranges.map((r) => r.hi)) };
  }
  return undefined;
}

function quantityRows(n: Node): QuantityRow[] {
  const v = n.value;
  if (typeof v !== 'object' || v === null) {
    return [];
  }
  const o = v as Record<string, unknown>;
  if (typeof o.value === 'number') {
    if ('currency' in o) {
      return [{ value: o.value, system: 'urn:iso:std:iso:4217', code: str(o.currency), unit: null }];
    }
    return [{ value: o.value, system: str(o.system), code: str(o.code), unit: normalizeOrNull(str(o.unit)) }];
  }
  if (n.type === 'Range' || 'low' in o || 'high' in o) {
    return [...quantityRows({ value: o.low, type: 'Quantity' }), ...quantityRows({ value: o.high, type: 'Quantity' })];
  }
  return [];
}

function referenceRow(n: Node): ReferenceRow | undefined {
  const v = n.value;
  if (typeof v === 'string') {
    // canonical or uri used as a reference
    const p = parseReference(v);
    return { targetType: p?.type ?? null, targetId: p?.id ?? null, url: v };
  }
  if (typeof v !== 'object' || v === null) {
    return undefined;
  }
  const ref = (v as { reference?: unknown }).reference;
  if (typeof ref !== 'string' || ref.startsWith('#')) {
    return undefined;
  }
  const p = parseReference(ref);
  return { targetType: p?.type ?? null, targetId: p?.id ?? null, url: /^[a-z]+:/.test(ref) ? ref.replace(/\/_history\/[^/]+$/, '') : null };
}

const REF_RE = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?(?:\|.*)?$/;

/**
 * Parses the type and id out of a literal reference (relative, absolute or versioned).
 * @param ref - the reference string
 * @returns type and id, or undefined for urn:uuid, contained or unparseable references
 */
export function parseReference(ref: string): { type: string; id: string } | undefined {
  const m = REF_RE.exec(ref);
  if (m === null) {
    return undefined;
  }
  return { type: m[1]!, id: m[2]! };
}
