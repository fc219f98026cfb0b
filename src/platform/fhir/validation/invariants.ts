/**
 * Evaluation of FHIRPath invariants (`ElementDefinition.constraint`).
 *
 * - Expressions in the common subset run on a fast evaluator over the raw JSON
 *   ({@link FastFhirPath}); everything else, and any evaluation that leaves the subset, runs on
 *   fhirpath.js. Both are compiled once per (constraint, context, value type) and cached.
 * - fhirpath.js is given local, synchronous `resolve()` (contained resources, Bundle entries),
 *   `memberOf()` (local terminology), `conformsTo()` (loaded profiles) and a `matches()` that
 *   accepts the regex escapes some R4 invariants use.
 * - The base invariants that apply to nearly every resource are implemented natively; every
 *   invariant not evaluated exactly as written is listed, with the reason, in {@link INVARIANT_EXCEPTIONS}.
 */
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import { FastFhirPath, Unsupported } from './fhirpath-fast.ts';
import type { ElementLookup } from './fhirpath-fast.ts';
import type { Constraint } from './schema.ts';
import type { Terminology } from './terminology.ts';

/** How an R4 invariant is handled when not simply evaluated as written. */
export interface InvariantException {
  /**
   * - `walker`: checked by the validation walk itself, not as FHIRPath;
   * - `native`: evaluated by a hand-written function equivalent to the expression;
   * - `corrected`: evaluated with a corrected expression, because the R4 one is wrong;
   * - `skipped`: not evaluated at all.
   */
  readonly treatment: 'walker' | 'native' | 'corrected' | 'skipped';
  readonly reason: string;
  /** For `corrected`: the expression evaluated instead. */
  readonly expression?: string;
}

/**
 * The R4 (4.0.1) invariants that are not evaluated exactly as the specification writes them, and
 * why. No invariant had to be skipped: the one R4 invariant that rejects valid examples (que-7)
 * is corrected, and the others here are checked natively for speed, with the same meaning.
 */
export const INVARIANT_EXCEPTIONS: Readonly<Record<string, InvariantException>> = {
  'ele-1': { treatment: 'walker', reason: 'every element has a value or children other than id: checked while walking the JSON' },
  'ext-1': { treatment: 'walker', reason: 'an extension has a value or nested extensions, not both: checked while walking the JSON' },
  'dom-2': { treatment: 'native', reason: 'runs on every resource; contained.contained.empty()' },
  'dom-3': {
    treatment: 'native',
    reason: 'runs on every resource and its FHIRPath form scans %resource.descendants() once per contained resource; the native form collects local references once',
  },
  'dom-4': { treatment: 'native', reason: 'runs on every resource; contained.meta.versionId/lastUpdated are empty' },
  'dom-5': { treatment: 'native', reason: 'runs on every resource; contained.meta.security is empty' },
  'ref-1': {
    treatment: 'native',
    reason:
      "runs on every Reference; also accepts a bare '#' (a contained resource pointing at its container), which the R4 text on contained resources allows but the R4 expression rejects",
  },
  'txt-1': { treatment: 'native', reason: 'htmlChecks() is not a FHIRPath function the engines implement fully; a narrative scanner checks the allowed elements, attributes and the XHTML div root' },
  'txt-2': { treatment: 'native', reason: 'htmlChecks(): the narrative has non-whitespace text or an image' },
  'que-7': {
    treatment: 'corrected',
    expression: "operator = 'exists' implies (answer is boolean)",
    reason:
      "R4 writes `answer is Boolean`, which tests for the FHIRPath System.Boolean type; an answerBoolean is a FHIR boolean, so the R4 expression rejects every valid 'exists' condition (e.g. Questionnaire-bb.json). Later FHIR versions write `answer is boolean`.",
  },
};

const OUTSIDE_ENGINE: ReadonlySet<string> = new Set(
  Object.entries(INVARIANT_EXCEPTIONS)
    .filter(([, e]) => e.treatment === 'walker' || e.treatment === 'skipped')
    .map(([key]) => key),
);

/**
 * @param key - an invariant key.
 * @returns true when the walker, not the invariant engine, checks this invariant (or it is skipped).
 */
export function handledOutsideEngine(key: string): boolean {
  return OUTSIDE_ENGINE.has(key);
}

/** Environment of an invariant evaluation. */
export interface InvariantEnv {
  /** `%resource`: the resource that contains the element. */
  readonly resource: unknown;
  /** `%rootResource`: the container of a contained resource, else the resource itself. */
  readonly rootResource: unknown;
  /** The nearest enclosing Bundle, if any: `resolve()` looks references up among its entries. */
  readonly bundle?: unknown;
}

/** Result of one invariant evaluation. */
export type InvariantResult =
  | { readonly status: 'pass' }
  | { readonly status: 'fail'; readonly detail?: string }
  /** The expression could not be parsed or evaluated. */
  | { readonly status: 'error'; readonly detail: string };

type Evaluator = (value: unknown, env: InvariantEnv) => InvariantResult;

const OK: InvariantResult = { status: 'pass' };
const FAIL: InvariantResult = { status: 'fail' };

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function containedOf(resource: unknown): Record<string, unknown>[] {
  if (!isObject(resource)) {
    return [];
  }
  const contained = resource['contained'];
  return Array.isArray(contained) ? contained.filter(isObject) : [];
}

function metaOf(r: Record<string, unknown>): Record<string, unknown> | undefined {
  const meta = r['meta'];
  return isObject(meta) ? meta : undefined;
}

/** Collects every string in `value` that starts with '#' (local references, canonicals, uris). */
function collectLocalRefs(value: unknown, out: Set<string>): void {
  if (typeof value === 'string') {
    if (value.charCodeAt(0) === 35 /* # */) {
      out.add(value);
    }
  } else if (Array.isArray(value)) {
    for (const v of value) {
      collectLocalRefs(v, out);
    }
  } else if (isObject(value)) {
    for (const key in value) {
      if (key !== 'div') {
        collectLocalRefs(value[key], out);
      }
    }
  }
}

/** Elements allowed in narrative (FHIR R4 §2.4 Narrative: HTML 4.0 formatting elements, a, img, tables, lists). */
const NARRATIVE_ELEMENTS = new Set([
  'a', 'abbr', 'acronym', 'b', 'big', 'blockquote', 'br', 'caption', 'cite', 'code', 'col', 'colgroup', 'dd', 'dfn',
  'div', 'dl', 'dt', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'li', 'ol', 'p', 'pre', 'q', 'samp',
  'small', 'span', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'tt', 'ul', 'var',
  'del', 'ins', 'address', 'bdo', 'kbd', 's', 'strike', 'u', 'center', 'font', 'label', 'map', 'area', 'dir', 'menu',
]);

const ATTR_NAME = /([^\s=/]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
const XHTML_NS = /xmlns\s*=\s*["']http:\/\/www\.w3\.org\/1999\/xhtml["']/;

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 58 || c === 46 || c === 95 || c === 45;
}

/** Index of the '>' closing the tag that starts at `from`, skipping quoted attribute values; -1 if none. */
function tagEnd(s: string, from: number): number {
  let quote = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) {
        quote = 0;
      }
    } else if (c === 34 || c === 39) {
      quote = c;
    } else if (c === 62) {
      return i;
    }
  }
  return -1;
}

function checkAttributes(attrs: string): InvariantResult {
  const lower = attrs.toLowerCase();
  if (!lower.includes('on') && !lower.includes('script')) {
    return OK;
  }
  ATTR_NAME.lastIndex = 0;
  for (let a = ATTR_NAME.exec(attrs); a; a = ATTR_NAME.exec(attrs)) {
    const attr = (a[1] ?? '').toLowerCase();
    if (attr.startsWith('on')) {
      return { status: 'fail', detail: `event handler attribute '${attr}' is not allowed in narrative` };
    }
    const val = (a[2] ?? a[3] ?? a[4] ?? '').trim().toLowerCase();
    if ((attr === 'href' || attr === 'src') && (val.startsWith('javascript:') || val.startsWith('vbscript:'))) {
      return { status: 'fail', detail: `script URL in '${attr}' is not allowed in narrative` };
    }
  }
  return OK;
}

/**
 * txt-1: the narrative contains only basic HTML formatting (no scripts, forms, event handlers or
 * active content), and its root is an XHTML `div`. A hand-written scanner: this runs on every
 * resource with a narrative.
 */
function checkNarrativeElements(div: unknown): InvariantResult {
  if (typeof div !== 'string') {
    return OK;
  }
  let start = 0;
  while (start < div.length && /\s/.test(div.charAt(start))) {
    start++;
  }
  const rootEnd = tagEnd(div, start);
  if (!div.startsWith('<div', start) || isNameChar(div.charCodeAt(start + 4)) || rootEnd < 0 || !XHTML_NS.test(div.slice(start, rootEnd + 1))) {
    return { status: 'fail', detail: 'the narrative root must be a <div> in the XHTML namespace' };
  }
  let pos = div.indexOf('<', start);
  while (pos >= 0) {
    let j = pos + 1;
    const c = div.charCodeAt(j);
    if (c === 33 /* ! */ && div.startsWith('<!--', pos)) {
      const close = div.indexOf('-->', pos + 4);
      if (close < 0) {
        return { status: 'fail', detail: 'unterminated comment in narrative' };
      }
      pos = div.indexOf('<', close + 3);
      continue;
    }
    if (c === 47 /* / */) {
      j++;
    }
    const nameStart = j;
    while (j < div.length && isNameChar(div.charCodeAt(j))) {
      j++;
    }
    if (j === nameStart) {
      return { status: 'fail', detail: "the narrative is not well-formed XHTML (a '<' that does not start a tag must be written &lt;)" };
    }
    const name = div.slice(nameStart, j).toLowerCase();
    if (!NARRATIVE_ELEMENTS.has(name)) {
      return { status: 'fail', detail: `element <${name}> is not allowed in narrative` };
    }
    const end = tagEnd(div, j);
    if (end < 0) {
      return { status: 'fail', detail: `unterminated <${name}> tag in narrative` };
    }
    if (end > j + 1) {
      const r = checkAttributes(div.slice(j, end));
      if (r.status !== 'pass') {
        return r;
      }
    }
    pos = div.indexOf('<', end + 1);
  }
  return OK;
}

/** txt-2: the narrative has some non-whitespace content (text, or an image). Stops at the first text. */
function checkNarrativeContent(div: unknown): InvariantResult {
  if (typeof div !== 'string') {
    return OK;
  }
  let inTag = false;
  for (let i = 0; i < div.length; i++) {
    const c = div.charCodeAt(i);
    if (inTag) {
      if (c === 62 /* > */) {
        inTag = false;
      }
      continue;
    }
    if (c === 60 /* < */) {
      if ((div.charCodeAt(i + 1) | 32) === 105 /* i */ && (div.charCodeAt(i + 2) | 32) === 109 && (div.charCodeAt(i + 3) | 32) === 103 && !isNameChar(div.charCodeAt(i + 4))) {
        return OK; // <img>
      }
      inTag = true;
      continue;
    }
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 160) {
      continue;
    }
    if (c === 38 /* & */) {
      const entity = /^&(?:nbsp|#160|#xa0);/i.exec(div.slice(i, i + 7));
      if (entity) {
        i += entity[0].length - 1;
        continue;
      }
    }
    return OK;
  }
  return FAIL;
}

const NATIVE: Readonly<Record<string, Evaluator>> = {
  // contained.contained.empty()
  'dom-2': (value) => (containedOf(value).some((c) => c['contained'] !== undefined) ? FAIL : OK),
  // Every contained resource is referenced from elsewhere in the resource, or refers to its container ('#').
  'dom-3': (value) => {
    const contained = containedOf(value);
    if (contained.length === 0) {
      return OK;
    }
    const refs = new Set<string>();
    collectLocalRefs(value, refs);
    for (const c of contained) {
      const id = c['id'];
      if (typeof id !== 'string') {
        continue;
      }
      if (refs.has('#' + id)) {
        continue;
      }
      const inner = new Set<string>();
      collectLocalRefs(c, inner);
      if (!inner.has('#')) {
        return { status: 'fail', detail: `contained resource '${id}' is not referenced from the resource` };
      }
    }
    return OK;
  },
  // contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()
  'dom-4': (value) =>
    containedOf(value).some((c) => metaOf(c)?.['versionId'] !== undefined || metaOf(c)?.['lastUpdated'] !== undefined) ? FAIL : OK,
  // contained.meta.security.empty()
  'dom-5': (value) => (containedOf(value).some((c) => metaOf(c)?.['security'] !== undefined) ? FAIL : OK),
  // reference.startsWith('#').not() or (reference.substring(1) in %rootResource.contained.id)
  // A bare '#' (a contained resource pointing at its container) is allowed, as the R4 text says.
  'ref-1': (value, env) => {
    if (!isObject(value)) {
      return OK;
    }
    const ref = value['reference'];
    if (typeof ref !== 'string' || !ref.startsWith('#') || ref === '#') {
      return OK;
    }
    const id = ref.slice(1);
    return containedOf(env.rootResource).some((c) => c['id'] === id)
      ? OK
      : { status: 'fail', detail: `no contained resource with id '${id}'` };
  },
  'txt-1': checkNarrativeElements,
  'txt-2': checkNarrativeContent,
};

const noTrace = (): void => undefined;

const NUMERIC_TYPES: ReadonlySet<string> = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt', 'integer64']);

/** The part of fhirpath.js's ResourceNode used here (its class is reached through a node's constructor). */
interface ResourceNodeLike {
  readonly data?: unknown;
  readonly constructor: {
    makeResNode(ctx: unknown, data: unknown, parent: null, path: null, underscoreData: null, type: null): unknown;
  };
}

const REFERENCE_TARGET = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

const regexCache = new Map<string, RegExp | null>();

/**
 * FHIRPath regexes are compiled by fhirpath.js in unicode mode, which rejects identity escapes
 * such as `\@` or `\'` that several R4 invariants (eld-16, eld-19) use. Compile in unicode mode
 * when possible and fall back to the legacy mode; cache the result.
 */
function fhirRegex(pattern: string, flags: string | undefined): RegExp | null {
  const key = (flags ?? '') + '/' + pattern;
  let re = regexCache.get(key);
  if (re === undefined) {
    const extra = (flags ?? '').replace(/[^im]/g, '');
    try {
      re = new RegExp(pattern, 'su' + extra);
    } catch {
      try {
        re = new RegExp(pattern, 's' + extra);
      } catch {
        re = null;
      }
    }
    regexCache.set(key, re);
  }
  return re;
}

const bundleIndexes = new WeakMap<object, Map<string, unknown>>();

/** Finds the entry resource a reference points to, by fullUrl or by `Type/id`. */
function bundleEntry(bundle: unknown, ref: string): unknown {
  if (!isObject(bundle)) {
    return undefined;
  }
  let index = bundleIndexes.get(bundle);
  if (!index) {
    index = new Map();
    const entries = bundle['entry'];
    for (const e of Array.isArray(entries) ? entries : []) {
      if (!isObject(e) || !isObject(e['resource'])) {
        continue;
      }
      const resource = e['resource'];
      if (typeof e['fullUrl'] === 'string') {
        index.set(e['fullUrl'], resource);
      }
      if (typeof resource['resourceType'] === 'string' && typeof resource['id'] === 'string') {
        const key = `${resource['resourceType']}/${resource['id']}`;
        if (!index.has(key)) {
          index.set(key, resource);
        }
      }
    }
    bundleIndexes.set(bundle, index);
  }
  const direct = index.get(ref);
  if (direct !== undefined) {
    return direct;
  }
  const m = REFERENCE_TARGET.exec(ref);
  return m ? index.get(`${m[1] ?? ''}/${m[2] ?? ''}`) : undefined;
}

function singletonString(coll: readonly unknown[]): string | undefined {
  if (coll.length !== 1) {
    return undefined;
  }
  const v = coll[0];
  return typeof v === 'string' ? v : undefined;
}

function codingsOf(v: unknown): { system: string | undefined; code: string }[] {
  if (typeof v === 'string') {
    return [{ system: undefined, code: v }];
  }
  if (!isObject(v)) {
    return [];
  }
  if (Array.isArray(v['coding'])) {
    return v['coding'].flatMap((c) => codingsOf(c));
  }
  const code = v['code'];
  const system = v['system'];
  return typeof code === 'string' ? [{ system: typeof system === 'string' ? system : undefined, code }] : [];
}

/** Checks a value against a profile: true/false, or undefined when the profile is not known. */
export type ConformsTo = (value: unknown, profileUrl: string) => boolean | undefined;

/** Functions replacing fhirpath.js built-ins so that invariants evaluate synchronously and locally. */
function invocationTable(terminology: Terminology | undefined, conformsTo: () => ConformsTo | undefined): Record<string, unknown> {
  return {
    // conformsTo(profile): validation against a loaded profile; empty when the profile is unknown.
    conformsTo: {
      fn: (coll: readonly unknown[], url: unknown): boolean[] => {
        const check = conformsTo();
        if (!check || coll.length !== 1 || typeof url !== 'string') {
          return [];
        }
        const r = check(coll[0], url);
        return r === undefined ? [] : [r];
      },
      arity: { 1: ['String'] },
    },
    // Local resolve(): contained resources ('#id') and the type of literal references ('Patient/123'),
    // which is what R4 invariants use it for (e.g. `member.resolve() is Practitioner`).
    resolve: {
      internalStructures: true,
      fn: function (this: { vars?: { rootResource?: unknown; bundle?: unknown } }, coll: readonly ResourceNodeLike[]): unknown[] {
        const out: unknown[] = [];
        for (const item of coll) {
          const v = item.data ?? item;
          const ref = isObject(v) ? v['reference'] : typeof v === 'string' ? v : undefined;
          if (typeof ref !== 'string') {
            continue;
          }
          let target: unknown;
          if (ref.startsWith('#')) {
            target = containedOf(this.vars?.rootResource).find((c) => c['id'] === ref.slice(1));
          } else {
            target = bundleEntry(this.vars?.bundle, ref);
            if (target === undefined) {
              // Not in the Bundle: a stand-in that carries the type, which is what R4 invariants test.
              const m = REFERENCE_TARGET.exec(ref);
              target = m ? { resourceType: m[1], id: m[2] } : undefined;
            }
          }
          if (target !== undefined) {
            out.push(item.constructor.makeResNode(this, target, null, null, null, null));
          }
        }
        return out;
      },
    },
    matches: {
      fn: (coll: readonly unknown[], pattern: unknown, flags?: unknown): boolean[] => {
        const s = singletonString(coll);
        if (s === undefined || typeof pattern !== 'string') {
          return [];
        }
        const re = fhirRegex(pattern, typeof flags === 'string' ? flags : undefined);
        if (!re) {
          throw new Error(`invalid regular expression ${pattern}`);
        }
        return [re.test(s)];
      },
      arity: { 1: ['String'], 2: ['String', 'String'] },
    },
    // memberOf(valueSet) against the local terminology; empty when the value set cannot be expanded.
    memberOf: {
      fn: (coll: readonly unknown[], valueSet: unknown): boolean[] => {
        if (!terminology || coll.length !== 1 || typeof valueSet !== 'string') {
          return [];
        }
        const codings = codingsOf(coll[0]);
        let sawInvalid = false;
        for (const c of codings) {
          const r = terminology.checkCode(valueSet, c.system, c.code);
          if (r === 'valid') {
            return [true];
          }
          if (r === 'unknown') {
            return [];
          }
          sawInvalid = true;
        }
        return sawInvalid ? [false] : [];
      },
      arity: { 1: ['String'] },
    },
  };
}

/** Called, when cross-checking is on, for every evaluation the fast evaluator handled. */
export type CrossCheck = (constraint: Constraint, contextPath: string, fast: readonly unknown[], reference: readonly unknown[]) => void;

/** Compiles and caches invariants; evaluates them. */
export class InvariantEngine {
  private readonly cache = new Map<string, Evaluator>();
  private readonly byConstraint = new WeakMap<Constraint, { contextPath: string; variants: Map<string, Evaluator> }>();
  private readonly options: Record<string, unknown>;
  private readonly fast: FastFhirPath;
  private readonly crossCheck: CrossCheck | undefined;
  /** Implementation of FHIRPath `conformsTo()`, installed by the validator. */
  conformsTo: ConformsTo | undefined;
  /** Evaluations done by the fast evaluator and by fhirpath.js (for diagnostics). */
  readonly stats = { fast: 0, reference: 0 };

  /**
   * @param lookup - base element lookup used to compile expressions for the fast evaluator.
   * @param terminology - used by `memberOf()`.
   * @param crossCheck - when given, every expression the fast evaluator handles is also run through fhirpath.js and both results are reported (testing aid).
   */
  constructor(lookup: ElementLookup, terminology?: Terminology, crossCheck?: CrossCheck) {
    this.options = { traceFn: noTrace, userInvocationTable: invocationTable(terminology, () => this.conformsTo) };
    this.fast = new FastFhirPath(lookup, (p) => fhirRegex(p, undefined));
    this.crossCheck = crossCheck;
  }

  /**
   * Evaluates one invariant on one value.
   * @param constraint - the invariant.
   * @param contextPath - the element path (or type name) the invariant is defined on, e.g. `Observation.referenceRange` or `Quantity`.
   * @param value - the JSON value the invariant applies to.
   * @param env - %resource and %rootResource.
   * @param valueType - the FHIR type of the value, when known (lets more expressions use the fast evaluator).
   * @returns pass, fail (with optional detail), or error when the expression cannot be evaluated.
   */
  evaluate(constraint: Constraint, contextPath: string, value: unknown, env: InvariantEnv, valueType?: string): InvariantResult {
    const typed = isObject(value);
    const variant = `${typed ? 'o' : 'p'}:${valueType ?? ''}`;
    // Fast cache on the constraint object (its context path is nearly always the same); the string-keyed
    // cache shares compiled expressions between constraints with equal text.
    let slot = this.byConstraint.get(constraint);
    if (slot?.contextPath !== contextPath) {
      slot = { contextPath, variants: new Map() };
      this.byConstraint.set(constraint, slot);
    }
    let evaluator = slot.variants.get(variant);
    if (!evaluator) {
      const cacheKey = `${variant}\u0000${constraint.key}\u0000${contextPath}\u0000${constraint.expression}`;
      evaluator = this.cache.get(cacheKey);
      if (!evaluator) {
        evaluator = NATIVE[constraint.key] ?? this.compile(constraint, contextPath, typed, valueType);
        this.cache.set(cacheKey, evaluator);
      }
      slot.variants.set(variant, evaluator);
    }
    return evaluator(value, env);
  }

  /** Number of compiled expressions held (for diagnostics). */
  get size(): number {
    return this.cache.size;
  }

  private compile(constraint: Constraint, contextPath: string, typed: boolean, valueType: string | undefined): Evaluator {
    const exception = INVARIANT_EXCEPTIONS[constraint.key];
    const expression = exception?.treatment === 'corrected' && exception.expression ? exception.expression : constraint.expression;
    const fast = this.fast.compile(contextPath, { primitive: !typed, type: valueType }, expression);
    let reference: Evaluator | undefined;
    let referenceRaw: ((value: unknown, env: InvariantEnv) => unknown[]) | undefined;
    const getReference = (): Evaluator => {
      if (!reference) {
        // Primitive contexts are given their FHIR type as base, except numbers: fhirpath.js 5.2 fails
        // when the base node of an evaluation is a decimal ("ctx.getDecimal is not a function").
        const base = typed ? contextPath : valueType !== undefined && !NUMERIC_TYPES.has(valueType) ? valueType : undefined;
        const compiled = this.compileReference(base, expression);
        referenceRaw = compiled.raw;
        reference = compiled.evaluator;
      }
      return reference;
    };
    if (!fast) {
      return (value, env) => {
        this.stats.reference++;
        return getReference()(value, env);
      };
    }
    const crossCheck = this.crossCheck;
    return (value, env) => {
      let result: unknown[];
      try {
        result = fast(value, env);
      } catch (e) {
        if (e instanceof Unsupported) {
          this.stats.reference++;
          return getReference()(value, env);
        }
        throw e;
      }
      this.stats.fast++;
      if (crossCheck) {
        getReference();
        let ref: unknown[];
        try {
          ref = referenceRaw ? referenceRaw(value, env) : [];
        } catch (e) {
          ref = [`error: ${e instanceof Error ? e.message : String(e)}`];
        }
        crossCheck(constraint, contextPath, result, ref);
      }
      return verdict(result);
    };
  }

  private compileReference(contextPath: string | undefined, expression: string): { evaluator: Evaluator; raw?: (value: unknown, env: InvariantEnv) => unknown[] } {
    let fn: (resource: unknown, env: Record<string, unknown>) => unknown[];
    try {
      const path = contextPath === undefined ? expression : { base: contextPath.replace(/\[x]/g, ''), expression };
      fn = fhirpath.compile(path, r4Model, this.options) as typeof fn;
    } catch (e) {
      const message = `cannot parse FHIRPath: ${e instanceof Error ? e.message : String(e)}`;
      return { evaluator: () => ({ status: 'error', detail: message }) };
    }
    const raw = (value: unknown, env: InvariantEnv): unknown[] => fn(value, { resource: env.resource, rootResource: env.rootResource, bundle: env.bundle });
    return {
      raw,
      evaluator: (value, env) => {
        let result: unknown[];
        try {
          result = raw(value, env);
        } catch (e) {
          return { status: 'error', detail: `cannot evaluate FHIRPath: ${e instanceof Error ? e.message : String(e)}` };
        }
        return verdict(result);
      },
    };
  }
}

/** An invariant is violated when it evaluates to false; an empty result is not a violation. */
function verdict(result: readonly unknown[]): InvariantResult {
  for (const r of result) {
    if (r === false) {
      return FAIL;
    }
  }
  return OK;
}
