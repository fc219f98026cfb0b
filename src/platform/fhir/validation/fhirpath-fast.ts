/**
 * A fast evaluator for the subset of FHIRPath used by most FHIR invariants.
 *
 * Expressions are compiled to closures over the raw JSON. Element names are resolved statically
 * against the base definitions (so `value` on Observation means `valueQuantity`, `valueString`,
 * …). Anything outside the subset — type operators, resolve(), descendants(), date-time
 * comparisons with time parts, collections where a singleton is required, primitives that carry
 * only extensions — makes compilation return undefined or evaluation throw {@link Unsupported};
 * the caller then falls back to fhirpath.js, which stays the reference for the semantics.
 */
import { capitalise } from './schema.ts';
import type { ElementNode } from './schema.ts';

/** Thrown when an evaluation leaves the supported subset; the caller falls back to fhirpath.js. */
export class Unsupported extends Error {}

const UNSUPPORTED = new Unsupported('outside the fast FHIRPath subset');

/** Looks up base element definitions by path (e.g. `Observation.value` → the value[x] element). */
export interface ElementLookup {
  baseElement(path: string): ElementNode | undefined;
  isResourceType(type: string): boolean;
}

/** Evaluation environment. */
export interface FastEnv {
  readonly resource: unknown;
  readonly rootResource: unknown;
}

type Coll = unknown[];
type Eval = (focus: Coll, thisItem: Coll, env: FastEnv) => Coll;

/** Static type of a (sub)expression: an element path/type we can navigate from, or an opaque value. */
type StaticType =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'primitive'; readonly code: string }
  | { readonly kind: 'opaque' };

const OPAQUE: StaticType = { kind: 'opaque' };

// ------------------------------------------------------------------ tokenizer

interface Token {
  readonly t: 'id' | 'str' | 'num' | 'op' | 'var' | 'this' | 'date' | 'eof';
  readonly v: string;
}

const ESCAPES: Readonly<Record<string, string>> = { "'": "'", '"': '"', '`': '`', '\\': '\\', '/': '/', f: '\f', n: '\n', r: '\r', t: '\t' };

function tokenize(src: string): Token[] | undefined {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && src.charAt(i + 1) === '/') {
      const nl = src.indexOf('\n', i);
      i = nl < 0 ? src.length : nl;
      continue;
    }
    if (c === "'" || c === '`') {
      let s = '';
      i++;
      while (i < src.length && src.charAt(i) !== c) {
        if (src.charAt(i) === '\\') {
          const e = src.charAt(i + 1);
          if (e === 'u') {
            s += String.fromCharCode(Number.parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          const mapped = ESCAPES[e];
          if (mapped === undefined) {
            return undefined;
          }
          s += mapped;
          i += 2;
          continue;
        }
        s += src.charAt(i);
        i++;
      }
      if (i >= src.length) {
        return undefined;
      }
      i++;
      out.push({ t: c === "'" ? 'str' : 'id', v: s });
      continue;
    }
    if (c === '@') {
      return undefined; // date/time literals: not supported
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i));
      const num = m?.[0] ?? c;
      const rest = src.slice(i + num.length).trimStart();
      if (rest.startsWith("'")) {
        return undefined; // quantity literal
      }
      out.push({ t: 'num', v: num });
      i += num.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      const id = m?.[0] ?? c;
      out.push({ t: 'id', v: id });
      i += id.length;
      continue;
    }
    if (c === '%') {
      const m = /^%([A-Za-z_][A-Za-z0-9_]*|`[^`]*`|'[^']*')/.exec(src.slice(i));
      if (!m) {
        return undefined;
      }
      out.push({ t: 'var', v: (m[1] ?? '').replace(/^[`']|[`']$/g, '') });
      i += m[0].length;
      continue;
    }
    if (c === '$') {
      const m = /^\$[A-Za-z]+/.exec(src.slice(i));
      if (m?.[0] !== '$this') {
        return undefined; // $index, $total
      }
      out.push({ t: 'this', v: '$this' });
      i += 5;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '!=' || two === '<=' || two === '>=' || two === '!~') {
      out.push({ t: 'op', v: two });
      i += 2;
      continue;
    }
    if ('.()[],|=<>+-*/&~{}'.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    return undefined;
  }
  out.push({ t: 'eof', v: '' });
  return out;
}

// ------------------------------------------------------------------ parser (AST)

type Ast =
  | { readonly k: 'lit'; readonly v: Coll }
  | { readonly k: 'this' }
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'member'; readonly target: Ast | undefined; readonly name: string }
  | { readonly k: 'call'; readonly target: Ast | undefined; readonly name: string; readonly args: readonly Ast[] }
  | { readonly k: 'index'; readonly target: Ast; readonly index: Ast }
  | { readonly k: 'bin'; readonly op: string; readonly l: Ast; readonly r: Ast }
  | { readonly k: 'neg'; readonly e: Ast };

class ParseFailure extends Error {}

const PRECEDENCE: readonly (readonly string[])[] = [
  ['implies'],
  ['or', 'xor'],
  ['and'],
  ['in', 'contains'],
  ['=', '~', '!=', '!~'],
  ['<', '>', '<=', '>='],
  ['|'],
  ['is', 'as'],
  ['+', '-', '&'],
  ['*', '/', 'div', 'mod'],
];

class Parser {
  private pos = 0;
  private readonly tokens: Token[];

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  parse(): Ast {
    const e = this.binary(0);
    if (this.peek().t !== 'eof') {
      throw new ParseFailure();
    }
    return e;
  }

  private peek(): Token {
    return this.tokens[this.pos] ?? { t: 'eof', v: '' };
  }

  private next(): Token {
    const t = this.peek();
    this.pos++;
    return t;
  }

  private expect(v: string): void {
    const t = this.next();
    if (t.v !== v || (t.t !== 'op' && t.t !== 'id')) {
      throw new ParseFailure();
    }
  }

  private binary(level: number): Ast {
    if (level >= PRECEDENCE.length) {
      return this.unary();
    }
    let left = this.binary(level + 1);
    const ops = PRECEDENCE[level]!;
    for (;;) {
      const t = this.peek();
      if ((t.t === 'op' || t.t === 'id') && ops.includes(t.v)) {
        this.next();
        const right = this.binary(level + 1);
        left = { k: 'bin', op: t.v, l: left, r: right };
      } else {
        return left;
      }
    }
  }

  private unary(): Ast {
    const t = this.peek();
    if (t.t === 'op' && (t.v === '-' || t.v === '+')) {
      this.next();
      const e = this.unary();
      return t.v === '-' ? { k: 'neg', e } : e;
    }
    return this.postfix(this.term());
  }

  private term(): Ast {
    const t = this.next();
    switch (t.t) {
      case 'str':
        return { k: 'lit', v: [t.v] };
      case 'num':
        return { k: 'lit', v: [Number(t.v)] };
      case 'this':
        return { k: 'this' };
      case 'var':
        return { k: 'var', name: t.v };
      case 'id':
        if (t.v === 'true' || t.v === 'false') {
          return { k: 'lit', v: [t.v === 'true'] };
        }
        return this.invocation(undefined, t.v);
      case 'op':
        if (t.v === '(') {
          const e = this.binary(0);
          this.expect(')');
          return e;
        }
        if (t.v === '{') {
          this.expect('}');
          return { k: 'lit', v: [] };
        }
        throw new ParseFailure();
      case 'date':
      case 'eof':
        throw new ParseFailure();
      default:
        throw new ParseFailure();
    }
  }

  private invocation(target: Ast | undefined, name: string): Ast {
    if (this.peek().t === 'op' && this.peek().v === '(') {
      this.next();
      const args: Ast[] = [];
      if (!(this.peek().t === 'op' && this.peek().v === ')')) {
        args.push(this.binary(0));
        while (this.peek().t === 'op' && this.peek().v === ',') {
          this.next();
          args.push(this.binary(0));
        }
      }
      this.expect(')');
      return { k: 'call', target, name, args };
    }
    return { k: 'member', target, name };
  }

  private postfix(base: Ast): Ast {
    let e = base;
    for (;;) {
      const t = this.peek();
      if (t.t === 'op' && t.v === '.') {
        this.next();
        const id = this.next();
        if (id.t !== 'id') {
          throw new ParseFailure();
        }
        e = this.invocation(e, id.v);
      } else if (t.t === 'op' && t.v === '[') {
        this.next();
        const index = this.binary(0);
        this.expect(']');
        e = { k: 'index', target: e, index };
      } else {
        return e;
      }
    }
  }
}

// ------------------------------------------------------------------ runtime helpers

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Singleton evaluation of a collection as a Boolean (FHIRPath §4.5); undefined means empty. */
function toBool(c: Coll): boolean | undefined {
  if (c.length === 0) {
    return undefined;
  }
  if (c.length > 1) {
    throw UNSUPPORTED;
  }
  const v = c[0];
  return typeof v === 'boolean' ? v : true;
}

function boolColl(b: boolean | undefined): Coll {
  return b === undefined ? [] : [b];
}

const DATE_LIKE = /^\d{4}(-\d{2}(-\d{2})?)?$/;
const DATETIME_LIKE = /^\d{4}(-\d{2}(-\d{2}(T.*)?)?)?$/;

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

/** FHIRPath equality of two items; undefined when the result is empty (dates of different precision). */
function itemEqual(a: unknown, b: unknown): boolean | undefined {
  if (typeof a === 'string' && typeof b === 'string') {
    if (a.length !== b.length && DATETIME_LIKE.test(a) && DATETIME_LIKE.test(b)) {
      throw UNSUPPORTED; // precision-dependent date comparison
    }
    return a === b;
  }
  if (typeof a === 'object' || typeof b === 'object') {
    return jsonEqual(a, b);
  }
  return a === b;
}

function equals(l: Coll, r: Coll): boolean | undefined {
  if (l.length === 0 || r.length === 0) {
    return undefined;
  }
  if (l.length !== r.length) {
    return false;
  }
  for (let i = 0; i < l.length; i++) {
    const e = itemEqual(l[i], r[i]);
    if (e !== true) {
      return e;
    }
  }
  return true;
}

function compare(l: Coll, r: Coll, op: string): boolean | undefined {
  if (l.length === 0 || r.length === 0) {
    return undefined;
  }
  if (l.length > 1 || r.length > 1) {
    throw UNSUPPORTED;
  }
  const a = l[0];
  const b = r[0];
  let c: number;
  if (typeof a === 'number' && typeof b === 'number') {
    c = a - b;
  } else if (typeof a === 'string' && typeof b === 'string') {
    if (DATETIME_LIKE.test(a) || DATETIME_LIKE.test(b)) {
      const ia = instantMillis(a);
      const ib = instantMillis(b);
      if (ia !== undefined && ib !== undefined) {
        c = ia - ib; // both to the second with a time zone: compare the instants
        return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
      }
      if (!DATE_LIKE.test(a) || !DATE_LIKE.test(b)) {
        throw UNSUPPORTED; // partial times, or a date against a time: leave to fhirpath.js
      }
      const n = Math.min(a.length, b.length);
      const pa = a.slice(0, n);
      const pb = b.slice(0, n);
      if (pa === pb && a.length !== b.length) {
        return undefined; // equal up to the common precision: uncertain
      }
      c = pa < pb ? -1 : pa > pb ? 1 : 0;
    } else {
      c = a < b ? -1 : a > b ? 1 : 0;
    }
  } else if (isObject(a) && isObject(b) && typeof a['value'] === 'number' && typeof b['value'] === 'number' && sameUnit(a, b)) {
    c = a['value'] - b['value']; // Quantities in the same unit
  } else {
    throw UNSUPPORTED;
  }
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    default:
      return c >= 0;
  }
}

/** Two Quantities carry the same UCUM code (or, without codes, the same unit text); no conversion needed. */
function sameUnit(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  if (a['comparator'] !== undefined || b['comparator'] !== undefined) {
    return false;
  }
  if (a['system'] === 'http://unitsofmeasure.org' && b['system'] === 'http://unitsofmeasure.org') {
    return typeof a['code'] === 'string' && a['code'] === b['code'];
  }
  return false;
}

const FULL_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch of a dateTime given to the second (or millisecond) with a time zone. */
function instantMillis(s: string): number | undefined {
  if (!FULL_DATETIME.test(s)) {
    return undefined;
  }
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}

function distinctItems(c: Coll): Coll {
  if (c.every((v) => typeof v === 'string' && !DATETIME_LIKE.test(v))) {
    return [...new Set(c)];
  }
  const out: Coll = [];
  for (const v of c) {
    if (!out.some((o) => itemEqual(o, v) === true)) {
      out.push(v);
    }
  }
  return out;
}

function singletonString(c: Coll): string | undefined {
  if (c.length === 0) {
    return undefined;
  }
  if (c.length > 1 || typeof c[0] !== 'string') {
    throw UNSUPPORTED;
  }
  return c[0];
}

function singletonNumber(c: Coll): number | undefined {
  if (c.length === 0) {
    return undefined;
  }
  if (c.length > 1 || typeof c[0] !== 'number') {
    throw UNSUPPORTED;
  }
  return c[0];
}

// ------------------------------------------------------------------ compiler

class CompileFailure extends Error {}

interface Compiled {
  readonly fn: Eval;
  readonly type: StaticType;
}

/** Compiles FHIRPath expressions of the supported subset. */
export class FastFhirPath {
  private readonly lookup: ElementLookup;
  private readonly regex: (pattern: string) => RegExp | null;

  /**
   * @param lookup - base element lookup, for resolving element names.
   * @param regex - compiles (and caches) a FHIRPath regex.
   */
  constructor(lookup: ElementLookup, regex: (pattern: string) => RegExp | null) {
    this.lookup = lookup;
    this.regex = regex;
  }

  /**
   * Compiles an invariant expression.
   * @param contextPath - element path or type name of the invariant's context.
   * @param value - whether the context value is a primitive, and its FHIR type when known.
   * @param expression - the FHIRPath expression.
   * @returns a function returning the result collection (it may throw {@link Unsupported}), or undefined when the expression is outside the subset.
   */
  compile(contextPath: string, value: { readonly primitive: boolean; readonly type: string | undefined }, expression: string): ((value: unknown, env: FastEnv) => unknown[]) | undefined {
    const tokens = tokenize(expression);
    if (!tokens) {
      return undefined;
    }
    let ast: Ast;
    try {
      ast = new Parser(tokens).parse();
    } catch {
      return undefined;
    }
    let rootType: StaticType;
    const vt = value.type;
    if (value.primitive) {
      rootType = vt !== undefined && /^[a-z]/.test(vt) ? { kind: 'primitive', code: vt } : OPAQUE;
    } else if (vt !== undefined && /^[A-Z]/.test(vt) && vt !== 'BackboneElement' && vt !== 'Element' && !this.lookup.isResourceType(vt)) {
      rootType = { kind: 'path', path: vt }; // a data type: navigate from the type (the context may be a choice element)
    } else {
      rootType = { kind: 'path', path: contextPath };
    }
    const resourceType = contextPath.split('.')[0] ?? '';
    const resourceStatic: StaticType = this.lookup.isResourceType(resourceType) ? { kind: 'path', path: resourceType } : OPAQUE;
    let compiled: Compiled;
    try {
      compiled = this.node(ast, rootType, rootType, resourceStatic, true);
    } catch (e) {
      if (e instanceof CompileFailure) {
        return undefined;
      }
      throw e;
    }
    const fn = compiled.fn;
    return (value, env) => {
      const focus = [value];
      return fn(focus, focus, env);
    };
  }

  /**
   * @param ast - node to compile.
   * @param focusType - static type of the input collection.
   * @param thisType - static type of `$this`.
   * @param resourceType - static type of `%resource`.
   * @param atStart - the node begins a path (an identifier here may be the context's type name).
   */
  private node(ast: Ast, focusType: StaticType, thisType: StaticType, resourceType: StaticType, atStart: boolean): Compiled {
    const compiled = this.nodeUncached(ast, focusType, thisType, resourceType, atStart);
    if (ast.k !== 'lit' && ast.k !== 'var' && isContextFree(ast) && usesVariable(ast)) {
      // Depends only on %resource / %rootResource: evaluate once per environment (e.g.
      // `%resource.snapshot.element.first().path` inside an all() over every element).
      const inner = compiled.fn;
      const memo = new WeakMap<FastEnv, Coll>();
      return {
        fn: (f, t, env) => {
          let v = memo.get(env);
          if (v === undefined) {
            v = inner(f, t, env);
            memo.set(env, v);
          }
          return v;
        },
        type: compiled.type,
      };
    }
    return compiled;
  }

  private nodeUncached(ast: Ast, focusType: StaticType, thisType: StaticType, resourceType: StaticType, atStart: boolean): Compiled {
    switch (ast.k) {
      case 'lit': {
        const v = ast.v;
        return { fn: () => v, type: OPAQUE };
      }
      case 'this':
        return { fn: (_f, t) => t, type: thisType };
      case 'var':
        return this.variable(ast.name, resourceType);
      case 'member': {
        if (ast.target === undefined && atStart && /^[A-Z]/.test(ast.name) && focusType.kind === 'path' && focusType.path === ast.name) {
          return { fn: (f) => f, type: focusType }; // `Appointment.status` at Appointment: type name prefix
        }
        const target = ast.target ? this.node(ast.target, focusType, thisType, resourceType, atStart) : { fn: ((f: Coll) => f) as Eval, type: focusType };
        return this.member(target, ast.name);
      }
      case 'call': {
        if ((ast.name === 'ofType' || ast.name === 'is' || ast.name === 'as') && ast.args.length === 1) {
          const typeArg = ast.args[0];
          if (typeArg?.k !== 'member' || typeArg.target !== undefined) {
            throw new CompileFailure();
          }
          return this.typeOp(ast.name, ast.target, typeArg.name, focusType, thisType, resourceType, atStart);
        }
        const target = ast.target ? this.node(ast.target, focusType, thisType, resourceType, atStart) : { fn: ((f: Coll) => f) as Eval, type: focusType };
        return this.call(target, ast.name, ast.args, thisType, resourceType);
      }
      case 'index': {
        const target = this.node(ast.target, focusType, thisType, resourceType, atStart);
        const index = this.node(ast.index, thisType, thisType, resourceType, true);
        const tf = target.fn;
        const inf = index.fn;
        return {
          fn: (f, t, env) => {
            const i = singletonNumber(inf(t, t, env));
            const c = tf(f, t, env);
            return i === undefined || c[i] === undefined ? [] : [c[i]];
          },
          type: target.type,
        };
      }
      case 'neg': {
        const e = this.node(ast.e, focusType, thisType, resourceType, atStart);
        const ef = e.fn;
        return {
          fn: (f, t, env) => {
            const n = singletonNumber(ef(f, t, env));
            return n === undefined ? [] : [-n];
          },
          type: OPAQUE,
        };
      }
      case 'bin':
        return this.binary(ast.op, ast.l, ast.r, focusType, thisType, resourceType);
      default:
        throw new CompileFailure();
    }
  }

  /**
   * `ofType(T)`, `is(T)` / `is T` and `as(T)` / `as T`, for the two cases where the type of the
   * items is known without type annotations: a choice element (`value.ofType(Quantity)` reads
   * `valueQuantity`) and resources (`resource.is(Patient)` reads `resourceType`).
   */
  private typeOp(op: string, targetAst: Ast | undefined, typeName: string, focusType: StaticType, thisType: StaticType, resourceType: StaticType, atStart: boolean): Compiled {
    let items: Compiled;
    if (targetAst?.k === 'member') {
      const owner = targetAst.target ? this.node(targetAst.target, focusType, thisType, resourceType, atStart) : { fn: ((f: Coll) => f) as Eval, type: focusType };
      const node = owner.type.kind === 'path' ? this.lookup.baseElement(`${owner.type.path}.${targetAst.name}`) : undefined;
      if (node?.choice) {
        const match = node.types.some((t) => t.code === typeName);
        if (!match && node.types.some((t) => capitalise(t.code) === typeName)) {
          throw new CompileFailure(); // `String`, `Boolean`…: System types vs FHIR primitives, leave to fhirpath.js
        }
        const key = targetAst.name + capitalise(typeName);
        const ownerFn = owner.fn;
        const selected: Compiled = {
          fn: match
            ? (f, t, env) => {
                const out: Coll = [];
                for (const item of ownerFn(f, t, env)) {
                  if (isObject(item)) {
                    navigate(item, key, out);
                  }
                }
                return out;
              }
            : () => [],
          type: match ? staticTypeOf(typeName, this.lookup) : OPAQUE,
        };
        if (op === 'ofType' || op === 'as') {
          return selected;
        }
        // `is`: the choice element holds a single value; it "is" T when that value is under the T key.
        const all = this.member(owner, targetAst.name).fn;
        const sel = selected.fn;
        return {
          fn: (f, t, env) => {
            const present = all(f, t, env);
            if (present.length === 0) {
              return [];
            }
            if (present.length > 1) {
              throw UNSUPPORTED;
            }
            return [sel(f, t, env).length === 1];
          },
          type: OPAQUE,
        };
      }
      items = this.member(owner, targetAst.name);
    } else if (targetAst === undefined) {
      items = { fn: (f) => f, type: focusType };
    } else {
      items = this.node(targetAst, focusType, thisType, resourceType, atStart);
    }
    if (items.type.kind === 'primitive') {
      // A primitive whose FHIR type is known statically (e.g. `$this as dateTime` on a dateTime context).
      const code = items.type.code;
      if (code !== typeName && capitalise(code) === typeName) {
        throw new CompileFailure(); // System.String vs FHIR string: leave to fhirpath.js
      }
      const same = code === typeName;
      const f0 = items.fn;
      if (op === 'is') {
        return {
          fn: (f, t, env) => {
            const c = f0(f, t, env);
            if (c.length > 1) {
              throw UNSUPPORTED;
            }
            return c.length === 0 ? [] : [same];
          },
          type: OPAQUE,
        };
      }
      return same ? items : { fn: () => [], type: OPAQUE };
    }
    if (!this.lookup.isResourceType(typeName)) {
      throw new CompileFailure();
    }
    // Resources: their type is in resourceType.
    const itemsFn = items.fn;
    const isType = (v: unknown): boolean => {
      if (!isObject(v) || typeof v['resourceType'] !== 'string') {
        throw UNSUPPORTED;
      }
      return v['resourceType'] === typeName;
    };
    if (op === 'is') {
      return {
        fn: (f, t, env) => {
          const c = itemsFn(f, t, env);
          if (c.length === 0) {
            return [];
          }
          if (c.length > 1) {
            throw UNSUPPORTED;
          }
          return [isType(c[0])];
        },
        type: OPAQUE,
      };
    }
    return { fn: (f, t, env) => itemsFn(f, t, env).filter(isType), type: { kind: 'path', path: typeName } };
  }

  private variable(name: string, resourceType: StaticType): Compiled {
    switch (name) {
      case 'resource':
        return { fn: (_f, _t, env) => (env.resource === undefined ? [] : [env.resource]), type: resourceType };
      case 'rootResource':
        return { fn: (_f, _t, env) => (env.rootResource === undefined ? [] : [env.rootResource]), type: OPAQUE };
      case 'ucum':
        return { fn: () => ['http://unitsofmeasure.org'], type: OPAQUE };
      default:
        throw new CompileFailure();
    }
  }

  private member(target: Compiled, name: string): Compiled {
    const type = target.type;
    if (type.kind === 'primitive' && name === 'value') {
      // A FHIR primitive's value (`value.matches(…)` in an invariant on Identifier.value): here
      // the JSON value itself. One that is not a plain value is left to fhirpath.js.
      const tf = target.fn;
      return {
        fn: (f, t, env) => {
          const out = tf(f, t, env);
          for (const item of out) {
            if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
              throw UNSUPPORTED;
            }
          }
          return out;
        },
        type,
      };
    }
    if (type.kind !== 'path') {
      throw new CompileFailure();
    }
    const node = this.lookup.baseElement(`${type.path}.${name}`);
    if (!node) {
      throw new CompileFailure();
    }
    let keys: string[];
    let next: StaticType;
    if (node.choice) {
      keys = node.types.map((t) => name + capitalise(t.code));
      next = OPAQUE;
    } else {
      keys = [name];
      const code = node.types[0]?.code;
      if (node.contentReference) {
        next = { kind: 'path', path: node.contentReference };
      } else if (node.children.size > 0) {
        next = { kind: 'path', path: node.path };
      } else if (code === undefined) {
        throw new CompileFailure();
      } else if (/^[a-z]/.test(code)) {
        next = { kind: 'primitive', code };
      } else if (code === 'Resource' || code === 'DomainResource' || this.lookup.isResourceType(code)) {
        next = OPAQUE;
      } else {
        next = { kind: 'path', path: code };
      }
    }
    const tf = target.fn;
    if (keys.length === 1) {
      const key = keys[0]!;
      return {
        fn: (f, t, env) => {
          const out: Coll = [];
          for (const item of tf(f, t, env)) {
            if (isObject(item)) {
              navigate(item, key, out);
            }
          }
          return out;
        },
        type: next,
      };
    }
    // Choice element: scan the object's own keys (few) rather than every possible type (up to 50).
    const keySet = new Set(keys);
    const sidecars = new Set(keys.map((k) => '_' + k));
    return {
      fn: (f, t, env) => {
        const out: Coll = [];
        for (const item of tf(f, t, env)) {
          if (!isObject(item)) {
            continue;
          }
          for (const k in item) {
            if (keySet.has(k)) {
              navigate(item, k, out);
            } else if (sidecars.has(k) && item[k.slice(1)] === undefined) {
              throw UNSUPPORTED; // a primitive with only extensions
            }
          }
        }
        return out;
      },
      type: next,
    };
  }

  private binary(op: string, la: Ast, ra: Ast, focusType: StaticType, thisType: StaticType, resourceType: StaticType): Compiled {
    if ((op === 'is' || op === 'as') && ra.k === 'member' && ra.target === undefined) {
      return this.typeOp(op, la, ra.name, focusType, thisType, resourceType, true);
    }
    if (op === 'is' || op === 'as' || op === '~' || op === '!~') {
      throw new CompileFailure();
    }
    const l = this.node(la, focusType, thisType, resourceType, true).fn;
    const rc = this.node(ra, focusType, thisType, resourceType, true);
    const r = rc.fn;
    switch (op) {
      case 'and':
        return {
          fn: (f, t, env) => {
            const a = toBool(l(f, t, env));
            if (a === false) {
              return [false];
            }
            const b = toBool(r(f, t, env));
            if (b === false) {
              return [false];
            }
            return a === true && b === true ? [true] : [];
          },
          type: OPAQUE,
        };
      case 'or':
        return {
          fn: (f, t, env) => {
            const a = toBool(l(f, t, env));
            if (a === true) {
              return [true];
            }
            const b = toBool(r(f, t, env));
            if (b === true) {
              return [true];
            }
            return a === false && b === false ? [false] : [];
          },
          type: OPAQUE,
        };
      case 'xor':
        return {
          fn: (f, t, env) => {
            const a = toBool(l(f, t, env));
            const b = toBool(r(f, t, env));
            return a === undefined || b === undefined ? [] : [a !== b];
          },
          type: OPAQUE,
        };
      case 'implies':
        return {
          fn: (f, t, env) => {
            const a = toBool(l(f, t, env));
            if (a === false) {
              return [true];
            }
            const b = toBool(r(f, t, env));
            if (b === true) {
              return [true];
            }
            return a === true && b === false ? [false] : [];
          },
          type: OPAQUE,
        };
      case '=':
        return { fn: (f, t, env) => boolColl(equals(l(f, t, env), r(f, t, env))), type: OPAQUE };
      case '!=':
        return {
          fn: (f, t, env) => {
            const e = equals(l(f, t, env), r(f, t, env));
            return e === undefined ? [] : [!e];
          },
          type: OPAQUE,
        };
      case '<':
      case '<=':
      case '>':
      case '>=':
        return { fn: (f, t, env) => boolColl(compare(l(f, t, env), r(f, t, env), op)), type: OPAQUE };
      case 'in':
      case 'contains': {
        const [item, coll] = op === 'in' ? [l, r] : [r, l];
        return {
          fn: (f, t, env) => {
            const a = item(f, t, env);
            if (a.length === 0) {
              return [];
            }
            if (a.length > 1) {
              throw UNSUPPORTED;
            }
            const c = coll(f, t, env);
            return [c.some((x) => itemEqual(x, a[0]) === true)];
          },
          type: OPAQUE,
        };
      }
      case '|':
        return { fn: (f, t, env) => distinctItems([...l(f, t, env), ...r(f, t, env)]), type: OPAQUE };
      case '&':
        return {
          fn: (f, t, env) => [(singletonString(l(f, t, env)) ?? '') + (singletonString(r(f, t, env)) ?? '')],
          type: OPAQUE,
        };
      case '+':
      case '-':
      case '*':
      case '/':
      case 'div':
      case 'mod':
        return {
          fn: (f, t, env) => {
            const a = l(f, t, env);
            const b = r(f, t, env);
            if (a.length === 0 || b.length === 0) {
              return [];
            }
            if (a.length > 1 || b.length > 1) {
              throw UNSUPPORTED;
            }
            const x = a[0];
            const y = b[0];
            if (op === '+' && typeof x === 'string' && typeof y === 'string') {
              return [x + y];
            }
            if (typeof x !== 'number' || typeof y !== 'number' || !Number.isInteger(x) || !Number.isInteger(y)) {
              throw UNSUPPORTED; // decimal arithmetic: leave to fhirpath.js
            }
            if (op === '/') {
              throw UNSUPPORTED;
            }
            if (op === 'div' || op === 'mod') {
              // Integer division truncates, and the remainder is that of the truncated division
              // (what % computes); by zero the result is empty.
              return y === 0 ? [] : [op === 'div' ? Math.trunc(x / y) : x % y];
            }
            return [op === '+' ? x + y : op === '-' ? x - y : x * y];
          },
          type: OPAQUE,
        };
      default:
        throw new CompileFailure();
    }
  }

  private call(target: Compiled, name: string, args: readonly Ast[], thisType: StaticType, resourceType: StaticType): Compiled {
    const tf = target.fn;
    const itemType = target.type;
    const lambda = (i: number): Eval => {
      const a = args[i];
      if (!a) {
        throw new CompileFailure();
      }
      return this.node(a, itemType, itemType, resourceType, true).fn;
    };
    // Non-lambda arguments are evaluated against the enclosing $this (only literals and %variables are
    // accepted, so the distinction does not matter here).
    const param = (i: number): Eval => {
      const a = args[i];
      if (!a || !isContextFree(a)) {
        throw new CompileFailure();
      }
      return this.node(a, thisType, thisType, resourceType, true).fn;
    };
    const arity = (n: number): void => {
      if (args.length !== n) {
        throw new CompileFailure();
      }
    };
    const perItem = (criteria: Eval, item: unknown, env: FastEnv): Coll => {
      const c = [item];
      return criteria(c, c, env);
    };
    switch (name) {
      case 'empty':
        arity(0);
        return { fn: (f, t, env) => [tf(f, t, env).length === 0], type: OPAQUE };
      case 'exists': {
        if (args.length === 0) {
          return { fn: (f, t, env) => [tf(f, t, env).length > 0], type: OPAQUE };
        }
        arity(1);
        const crit = lambda(0);
        return { fn: (f, t, env) => [tf(f, t, env).some((item) => toBool(perItem(crit, item, env)) === true)], type: OPAQUE };
      }
      case 'not':
        arity(0);
        return {
          fn: (f, t, env) => {
            const c = tf(f, t, env);
            if (c.length === 0) {
              return [];
            }
            if (c.length > 1 || typeof c[0] !== 'boolean') {
              throw UNSUPPORTED;
            }
            return [!c[0]];
          },
          type: OPAQUE,
        };
      case 'count':
        arity(0);
        return { fn: (f, t, env) => [tf(f, t, env).length], type: OPAQUE };
      case 'hasValue':
        arity(0);
        return {
          fn: (f, t, env) => {
            const c = tf(f, t, env);
            return [c.length === 1 && !isObject(c[0])];
          },
          type: OPAQUE,
        };
      case 'first':
      case 'last':
      case 'tail':
        arity(0);
        return {
          fn: (f, t, env) => {
            const c = tf(f, t, env);
            if (name === 'tail') {
              return c.slice(1);
            }
            const v = name === 'first' ? c[0] : c[c.length - 1];
            return v === undefined ? [] : [v];
          },
          type: itemType,
        };
      case 'where': {
        arity(1);
        const crit = lambda(0);
        return { fn: (f, t, env) => tf(f, t, env).filter((item) => toBool(perItem(crit, item, env)) === true), type: itemType };
      }
      case 'all': {
        arity(1);
        const crit = lambda(0);
        return { fn: (f, t, env) => [tf(f, t, env).every((item) => toBool(perItem(crit, item, env)) === true)], type: OPAQUE };
      }
      case 'select': {
        arity(1);
        const a = args[0]!;
        const proj = this.node(a, itemType, itemType, resourceType, true);
        const pf = proj.fn;
        return { fn: (f, t, env) => tf(f, t, env).flatMap((item) => perItem(pf, item, env)), type: proj.type };
      }
      case 'allTrue':
      case 'allFalse':
      case 'anyTrue':
      case 'anyFalse': {
        arity(0);
        const want = name === 'allTrue' || name === 'anyTrue';
        const all = name.startsWith('all');
        return {
          fn: (f, t, env) => {
            const c = tf(f, t, env);
            if (c.some((v) => typeof v !== 'boolean')) {
              throw UNSUPPORTED;
            }
            return [all ? c.every((v) => v === want) : c.some((v) => v === want)];
          },
          type: OPAQUE,
        };
      }
      case 'isDistinct':
        arity(0);
        return {
          fn: (f, t, env) => {
            const c = tf(f, t, env);
            return [distinctItems(c).length === c.length];
          },
          type: OPAQUE,
        };
      case 'distinct':
        arity(0);
        return { fn: (f, t, env) => distinctItems(tf(f, t, env)), type: itemType };
      case 'iif': {
        if (args.length !== 2 && args.length !== 3) {
          throw new CompileFailure();
        }
        const cond = lambda(0);
        const yes = lambda(1);
        const no = args.length === 3 ? lambda(2) : undefined;
        return {
          fn: (f, t, env) => {
            const input = tf(f, t, env);
            if (input.length > 1) {
              throw UNSUPPORTED;
            }
            const c = toBool(cond(input, input, env));
            if (c === true) {
              return yes(input, input, env);
            }
            return no ? no(input, input, env) : [];
          },
          type: OPAQUE,
        };
      }
      case 'startsWith':
      case 'endsWith': {
        arity(1);
        const p = param(0);
        return {
          fn: (f, t, env) => {
            const s = singletonString(tf(f, t, env));
            const x = singletonString(p(t, t, env));
            if (s === undefined || x === undefined) {
              return [];
            }
            return [name === 'startsWith' ? s.startsWith(x) : s.endsWith(x)];
          },
          type: OPAQUE,
        };
      }
      case 'contains': {
        arity(1);
        const p = param(0);
        return {
          fn: (f, t, env) => {
            const s = singletonString(tf(f, t, env));
            const x = singletonString(p(t, t, env));
            return s === undefined || x === undefined ? [] : [s.includes(x)];
          },
          type: OPAQUE,
        };
      }
      case 'matches': {
        arity(1);
        const a = args[0];
        if (a?.k !== 'lit' || typeof a.v[0] !== 'string') {
          throw new CompileFailure();
        }
        const re = this.regex(a.v[0]);
        if (!re) {
          throw new CompileFailure();
        }
        return {
          fn: (f, t, env) => {
            const s = singletonString(tf(f, t, env));
            return s === undefined ? [] : [re.test(s)];
          },
          type: OPAQUE,
        };
      }
      case 'length':
        arity(0);
        return {
          fn: (f, t, env) => {
            const s = singletonString(tf(f, t, env));
            return s === undefined ? [] : [s.length];
          },
          type: OPAQUE,
        };
      case 'substring': {
        if (args.length !== 1 && args.length !== 2) {
          throw new CompileFailure();
        }
        const start = param(0);
        const len = args.length === 2 ? param(1) : undefined;
        return {
          fn: (f, t, env) => {
            const s = singletonString(tf(f, t, env));
            const st = singletonNumber(start(t, t, env));
            if (s === undefined || st === undefined || st < 0 || st >= s.length) {
              return [];
            }
            const l = len ? singletonNumber(len(t, t, env)) : undefined;
            return [l === undefined ? s.slice(st) : s.slice(st, st + Math.max(0, l))];
          },
          type: OPAQUE,
        };
      }
      case 'toInteger':
        arity(0);
        return {
          fn: (f, t, env) => {
            const c = tf(f, t, env);
            if (c.length === 0) {
              return [];
            }
            if (c.length > 1) {
              throw UNSUPPORTED;
            }
            const v = c[0];
            if (typeof v === 'number') {
              return Number.isInteger(v) ? [v] : [];
            }
            if (typeof v === 'string') {
              return /^[+-]?\d+$/.test(v) ? [Number(v)] : [];
            }
            if (typeof v === 'boolean') {
              return [v ? 1 : 0];
            }
            return [];
          },
          type: OPAQUE,
        };
      case 'trace':
        return target;
      case 'toString':
        arity(0);
        return {
          fn: (f, t, env) => {
            const c = tf(f, t, env);
            if (c.length === 0) {
              return [];
            }
            if (c.length > 1 || typeof c[0] !== 'string') {
              throw UNSUPPORTED; // number and boolean formatting: leave to fhirpath.js
            }
            return [c[0]];
          },
          type: OPAQUE,
        };
      case 'intersect':
      case 'union':
      case 'combine': {
        arity(1);
        const p = param(0);
        return {
          fn: (f, t, env) => {
            const a = tf(f, t, env);
            const b = p(t, t, env);
            if (name === 'combine') {
              return [...a, ...b];
            }
            if (name === 'union') {
              return distinctItems([...a, ...b]);
            }
            return distinctItems(a.filter((x) => b.some((y) => itemEqual(x, y) === true)));
          },
          type: name === 'combine' ? OPAQUE : itemType,
        };
      }
      case 'extension': {
        arity(1);
        const a = args[0];
        if (a?.k !== 'lit' || typeof a.v[0] !== 'string') {
          throw new CompileFailure();
        }
        const url = a.v[0];
        return {
          fn: (f, t, env) => {
            const out: Coll = [];
            for (const item of tf(f, t, env)) {
              if (!isObject(item)) {
                throw UNSUPPORTED; // extensions of primitives
              }
              const exts = item['extension'];
              if (Array.isArray(exts)) {
                for (const e of exts) {
                  if (isObject(e) && e['url'] === url) {
                    out.push(e);
                  }
                }
              }
            }
            return out;
          },
          type: { kind: 'path', path: 'Extension' },
        };
      }
      default:
        throw new CompileFailure();
    }
  }
}

function staticTypeOf(code: string, lookup: ElementLookup): StaticType {
  if (/^[a-z]/.test(code)) {
    return { kind: 'primitive', code };
  }
  return lookup.isResourceType(code) ? OPAQUE : { kind: 'path', path: code };
}

/** True when an argument does not navigate from the focus (literals, %variables and operators over them). */
function isContextFree(a: Ast): boolean {
  switch (a.k) {
    case 'lit':
    case 'var':
      return true;
    case 'this':
      return false;
    case 'member':
    case 'call':
      return a.target !== undefined && isContextFree(a.target) && (a.k === 'member' || a.args.every(isContextFree));
    case 'index':
      return isContextFree(a.target) && isContextFree(a.index);
    case 'bin':
      return isContextFree(a.l) && isContextFree(a.r);
    case 'neg':
      return isContextFree(a.e);
    default:
      return false;
  }
}

function usesVariable(a: Ast): boolean {
  switch (a.k) {
    case 'var':
      return true;
    case 'member':
      return a.target !== undefined && usesVariable(a.target);
    case 'call':
      return (a.target !== undefined && usesVariable(a.target)) || a.args.some(usesVariable);
    case 'index':
      return usesVariable(a.target) || usesVariable(a.index);
    case 'bin':
      return usesVariable(a.l) || usesVariable(a.r);
    case 'neg':
      return usesVariable(a.e);
    default:
      return false;
  }
}

function navigate(item: Record<string, unknown>, key: string, out: Coll): void {
  const v = item[key];
  if (v === undefined) {
    if (item['_' + key] !== undefined) {
      throw UNSUPPORTED; // a primitive with only extensions
    }
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) {
      if (x === null) {
        throw UNSUPPORTED;
      }
      out.push(x);
    }
  } else if (v !== null) {
    out.push(v);
  }
}
