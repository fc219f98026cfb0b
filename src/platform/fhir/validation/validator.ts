/**
 * The validation walk.
 *
 * Pass 1 (base): walks the JSON against the R4 base definitions: unknown properties, JSON shape
 * (arrays vs single values), cardinality, choice types, primitive formats, required bindings,
 * invariants, reference target types, and every extension against its definition when that
 * definition is loaded.
 *
 * Pass 2 (profiles): for each profile that applies (meta.profile of the resource and of nested
 * resources, profiles asked for, type profiles), walks the profile's element tree over the same
 * JSON and checks only what the profile adds to the base: tighter cardinality, restricted choice
 * types, fixed and pattern values, bindings, maxLength and min/max values, narrowed reference
 * targets, the profile's own invariants, slicing (slice membership by value/pattern/type/exists/
 * profile discriminators, slice cardinality, closed slicing) and type profiles (e.g. an identifier
 * slice whose type is the DK-core CPR identifier profile). Unchanged base elements are skipped.
 *
 * Not checked: extensible/preferred bindings, warning-level invariants, slice order (ordered
 * slicing), extension contexts.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { handledOutsideEngine } from './invariants.ts';
import type { InvariantEnv } from './invariants.ts';
import { checkPrimitive, jsonTypeOf } from './primitives.ts';
import type { Registry } from './registry.ts';
import { capitalise, jsonKeys, PRIMITIVE_TYPES } from './schema.ts';
import type { CompiledStructure, Constraint, ElementNode, KeyInfo } from './schema.ts';

type IssueCode = OperationOutcomeIssue['code'];
type JsonObject = Record<string, unknown>;

const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';
const CODED_TYPES = new Set(['code', 'Coding', 'CodeableConcept', 'Quantity', 'string', 'uri']);
const REFERENCE_PATTERN = /^(?:.*\/)?([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (typeof v === 'string') {
    return `'${v.length > 60 ? v.slice(0, 57) + '...' : v}'`;
  }
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

function formatMax(max: number): string {
  return Number.isFinite(max) ? String(max) : '*';
}

function stripVersion(url: string): string {
  const bar = url.indexOf('|');
  return bar < 0 ? url : url.slice(0, bar);
}

/** Deep equality of JSON values (fixed[x]). */
function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEquals(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) {
      return false;
    }
    return ka.every((k) => jsonEquals(a[k], b[k]));
  }
  return false;
}

/** Pattern matching (pattern[x]): every property of the pattern is present with a matching value; arrays match item by item. */
function jsonMatchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value)) {
      return pattern.length === 1 && jsonMatchesPattern(value, pattern[0]);
    }
    return pattern.every((p) => value.some((v) => jsonMatchesPattern(v, p)));
  }
  if (isObject(pattern)) {
    if (!isObject(value)) {
      return false;
    }
    for (const k of Object.keys(pattern)) {
      if (!jsonMatchesPattern(value[k], pattern[k])) {
        return false;
      }
    }
    return true;
  }
  return value === pattern;
}

/** One value of an element found in the JSON. */
interface FoundValue {
  readonly value: unknown;
  readonly type: string;
  readonly path: string;
}

interface DiscriminatorStep {
  readonly kind: 'name' | 'this' | 'extension' | 'ofType' | 'unsupported';
  readonly arg: string;
}

const discriminatorPaths = new Map<string, readonly DiscriminatorStep[]>();

function parseDiscriminatorPath(path: string): readonly DiscriminatorStep[] {
  let steps = discriminatorPaths.get(path);
  if (!steps) {
    steps = parseDiscriminatorPathUncached(path);
    discriminatorPaths.set(path, steps);
  }
  return steps;
}

function parseDiscriminatorPathUncached(path: string): DiscriminatorStep[] {
  const steps: DiscriminatorStep[] = [];
  let rest = path.trim();
  while (rest.length > 0) {
    let m: RegExpExecArray | null;
    if ((m = /^\$this/.exec(rest))) {
      steps.push({ kind: 'this', arg: '' });
    } else if ((m = /^extension\(\s*'([^']*)'\s*\)/.exec(rest))) {
      steps.push({ kind: 'extension', arg: m[1] ?? '' });
    } else if ((m = /^ofType\(\s*([A-Za-z]+)\s*\)/.exec(rest))) {
      steps.push({ kind: 'ofType', arg: m[1] ?? '' });
    } else if ((m = /^[A-Za-z_][A-Za-z0-9_]*(?:\[x])?/.exec(rest)) && rest.charAt(m[0].length) !== '(') {
      steps.push({ kind: 'name', arg: m[0].replace('[x]', '') });
    } else {
      return [{ kind: 'unsupported', arg: path }];
    }
    rest = rest.slice(m[0].length);
    if (rest.startsWith('.')) {
      rest = rest.slice(1);
    } else if (rest.length > 0) {
      return [{ kind: 'unsupported', arg: path }];
    }
  }
  return steps;
}

/** `'code' (system)` for messages. */
function codingText(c: JsonObject): string {
  const code = typeof c['code'] === 'string' ? `'${c['code']}'` : '(no code)';
  return typeof c['system'] === 'string' ? `${code} from ${c['system']}` : code;
}

/** Values of property `name` in `obj` (choice properties included), with their types where known. */
function propertyValues(obj: unknown, name: string): FoundValue[] {
  if (!isObject(obj)) {
    return [];
  }
  const out: FoundValue[] = [];
  const direct = obj[name];
  if (direct !== undefined) {
    for (const v of Array.isArray(direct) ? direct : [direct]) {
      out.push({ value: v, type: '', path: '' });
    }
    return out;
  }
  for (const rawKey in obj) {
    // `_valueString` without `valueString`: a primitive with only extensions, still a value of the element.
    const sidecar = rawKey.charCodeAt(0) === 95 && obj[rawKey.slice(1)] === undefined;
    const key = sidecar ? rawKey.slice(1) : rawKey;
    if (key.length > name.length && key.startsWith(name) && (sidecar || rawKey === key)) {
      const c = key.charCodeAt(name.length);
      if (c >= 65 && c <= 90) {
        const suffix = key.slice(name.length);
        const type = PRIMITIVE_TYPES.has(suffix.charAt(0).toLowerCase() + suffix.slice(1)) ? suffix.charAt(0).toLowerCase() + suffix.slice(1) : suffix;
        const v = obj[rawKey];
        for (const item of Array.isArray(v) ? v : [v]) {
          out.push({ value: item, type, path: '' });
        }
      }
    }
  }
  return out;
}

/**
 * The invariant environment of a resource: itself as %resource; its container as %rootResource
 * when contained; and the nearest enclosing Bundle (for resolving references between entries).
 */
function resourceEnv(resource: unknown, parent: InvariantEnv | undefined, contained: boolean): InvariantEnv {
  let bundle: unknown;
  if (parent) {
    bundle = isObject(parent.resource) && parent.resource['resourceType'] === 'Bundle' ? parent.resource : parent.bundle;
  }
  return { resource, rootResource: contained && parent ? parent.rootResource : resource, bundle };
}

function pushValues(out: FoundValue[], v: unknown, type: string, basePath: string, isArray: boolean): void {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      if (item !== null && item !== undefined) {
        out.push({ value: item, type, path: `${basePath}[${i}]` });
      }
    }
  } else if (v !== undefined && v !== null) {
    out.push({ value: v, type, path: isArray ? `${basePath}[0]` : basePath });
  }
}

/** Definition-side result of following a discriminator path. */
interface DiscriminatorTarget {
  readonly nodes: readonly ElementNode[];
  /** Implied fixed value (an extension slice's URL taken from its type profile). */
  readonly impliedFixed: unknown;
  readonly supported: boolean;
}

const discriminatorCache = new WeakMap<ElementNode, Map<string, DiscriminatorTarget>>();
const relevantCache = new WeakMap<ElementNode, readonly ElementNode[]>();

/** Per-validation state: the issues found so far. */
class Run {
  readonly issues: OperationOutcomeIssue[] = [];
  private readonly registry: Registry;
  /**
   * The profile the validated resource claims (its first loaded meta.profile or extra profile). Its
   * package decides which versions the URLs found in the data mean: the profiles nested resources
   * claim (Bundle entries) and the extensions used. A message claiming CareCommunication 5.0.4
   * reads the MedCom core profiles its entries claim as those of its dependency, core 3.0.1.
   */
  private readonly context: CompiledStructure | undefined;

  constructor(registry: Registry, context?: CompiledStructure) {
    this.registry = registry;
    this.context = context;
  }

  issue(severity: OperationOutcomeIssue['severity'], code: IssueCode, path: string, message: string): void {
    this.issues.push({ severity, code, diagnostics: message, expression: [path] });
  }

  // ---------------------------------------------------------------- base pass

  /**
   * Validates a resource against its base definition (and, for nested resources, the profiles
   * it claims).
   */
  validateResource(value: unknown, path: string, parentEnv: InvariantEnv | undefined, contained: boolean, applyMetaProfiles: boolean): void {
    if (!isObject(value)) {
      this.issue('error', 'structure', path, `Expected a resource (a JSON object), but found ${describe(value)}`);
      return;
    }
    const resourceType = value['resourceType'];
    if (typeof resourceType !== 'string') {
      this.issue('error', 'required', path === '' ? 'resourceType' : `${path}.resourceType`, 'Resource has no resourceType');
      return;
    }
    const resourcePath = path === '' ? resourceType : path;
    const structure = this.registry.baseType(resourceType);
    if (structure?.kind !== 'resource' || structure.abstract) {
      this.issue('error', 'structure', resourcePath, `Unknown resource type '${resourceType}'`);
      return;
    }
    const env = resourceEnv(value, parentEnv, contained);
    this.walkObject(value, structure.root, resourcePath, env, true);
    this.checkConstraints(structure.root.constraints, resourceType, value, resourcePath, env, undefined, resourceType);
    if (applyMetaProfiles) {
      this.applyMetaProfiles(value, resourcePath, env, [], this.context);
    }
  }

  /** Applies the profiles listed in meta.profile (plus extra ones) to a resource; `context` decides what unversioned URLs mean. */
  applyMetaProfiles(resource: JsonObject, path: string, env: InvariantEnv, extra: readonly string[], context: CompiledStructure | undefined): void {
    const meta = resource['meta'];
    const claimed = isObject(meta) && Array.isArray(meta['profile']) ? meta['profile'] : [];
    if (claimed.length === 0 && extra.length === 0) {
      return;
    }
    const seen = new Set<string>();
    for (const p of claimed) {
      if (typeof p === 'string') {
        this.applyNamedProfile(resource, p, false, seen, path, env, context);
      }
    }
    for (const p of extra) {
      this.applyNamedProfile(resource, p, true, seen, path, env, context);
    }
  }

  private applyNamedProfile(resource: JsonObject, url: string, explicit: boolean, seen: Set<string>, path: string, env: InvariantEnv, context: CompiledStructure | undefined): void {
    const key = stripVersion(url);
    if (seen.has(url)) {
      return;
    }
    seen.add(url);
    if (key.startsWith(HL7_SD) && this.registry.isResourceType(key.slice(HL7_SD.length))) {
      // A base resource definition: the resource is checked against its own base definition anyway.
      const claimedType = key.slice(HL7_SD.length);
      if (claimedType !== resource['resourceType']) {
        this.issue('error', 'structure', path, `The resource is a ${String(resource['resourceType'])}, so it cannot conform to ${url}`);
      }
      return;
    }
    const profile = this.registry.profile(url, context);
    if (!profile) {
      if (explicit) {
        this.issue('error', 'not-found', path, `Profile ${url} is not known to this server, so the resource cannot be validated against it`);
      } else {
        this.issue('warning', 'not-supported', `${path}.meta.profile`, `Profile ${url} is not known to this server; the resource was not validated against it`);
      }
      return;
    }
    this.applyProfile(resource, profile, path, env);
  }

  /** Walks the properties of a JSON object whose definition is `container`. */
  private walkObject(obj: JsonObject, container: ElementNode, path: string, env: InvariantEnv, isResource: boolean): void {
    const target = this.resolveContainer(container);
    const keys = jsonKeys(target);
    let choiceSeen: Map<ElementNode, string> | undefined;
    for (const key in obj) {
      const value = obj[key];
      if (value === undefined) {
        continue; // in-memory objects may carry undefined properties; JSON never does
      }
      const info = keys.get(key);
      if (!info) {
        if (isResource && key === 'resourceType') {
          continue;
        }
        this.issue('error', 'structure', `${path}.${key}`, `Unknown property '${key}': it is not defined for ${target.path}`);
        continue;
      }
      const node = info.node;
      if (node.choice && !info.sidecar) {
        choiceSeen ??= new Map();
        const other = choiceSeen.get(node);
        if (other !== undefined) {
          this.issue('error', 'structure', `${path}.${key}`, `Only one type is allowed for ${node.name}[x], but both '${other}' and '${key}' are present`);
        }
        choiceSeen.set(node, key);
      }
      if (value === null) {
        this.issue('error', 'structure', `${path}.${key}`, `Property '${key}' is null; omit it instead`);
        continue;
      }
      if (info.sidecar) {
        this.validateSidecar(obj, key, value, info, path, env);
      } else {
        this.validateProperty(obj, key, value, info, path, env);
      }
    }
    // Required elements.
    for (const node of target.children.values()) {
      if (node.min > 0 && !this.isPresent(obj, node)) {
        this.issue('error', 'required', `${path}.${node.name}`, `Missing required element '${node.name}${node.choice ? '[x]' : ''}' (minimum cardinality ${node.min})`);
      }
    }
  }

  private resolveContainer(container: ElementNode): ElementNode {
    if (container.contentReference) {
      return container.structure.byId.get(container.contentReference) ?? container;
    }
    return container;
  }

  private isPresent(obj: JsonObject, node: ElementNode): boolean {
    if (!node.choice) {
      return obj[node.name] !== undefined || obj['_' + node.name] !== undefined;
    }
    for (const t of node.types) {
      const key = node.name + capitalise(t.code);
      if (obj[key] !== undefined || obj['_' + key] !== undefined) {
        return true;
      }
    }
    return false;
  }

  private elementPath(path: string, info: KeyInfo): string {
    return info.node.choice ? `${path}.${info.node.name}.ofType(${info.type})` : `${path}.${info.node.name}`;
  }

  private validateProperty(obj: JsonObject, key: string, value: unknown, info: KeyInfo, path: string, env: InvariantEnv): void {
    const node = info.node;
    const elemPath = this.elementPath(path, info);
    if (node.isArray) {
      if (!Array.isArray(value)) {
        this.issue('error', 'structure', elemPath, `'${key}' must be a JSON array (it can repeat), but is ${describe(value)}`);
        return;
      }
      if (value.length === 0) {
        this.issue('error', 'structure', elemPath, `'${key}' is an empty array; omit it instead`);
        return;
      }
      if (value.length > node.max) {
        this.issue('error', 'structure', elemPath, `'${key}' has ${value.length} values, but at most ${formatMax(node.max)} are allowed`);
      }
      const sidecar = PRIMITIVE_TYPES.has(info.type) ? obj['_' + key] : undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const itemPath = `${elemPath}[${i}]`;
        if (item === null || item === undefined) {
          if (!(Array.isArray(sidecar) && isObject(sidecar[i]))) {
            this.issue('error', 'structure', itemPath, `'${key}' contains a null item`);
          }
          continue;
        }
        this.validateValue(item, node, info.type, itemPath, env);
      }
    } else {
      if (Array.isArray(value)) {
        this.issue('error', 'structure', elemPath, `'${key}' must be a single value, not an array (maximum cardinality 1)`);
        return;
      }
      this.validateValue(value, node, info.type, elemPath, env);
    }
  }

  /** Validates the `_name` companion of a primitive (its id and extensions). */
  private validateSidecar(obj: JsonObject, key: string, value: unknown, info: KeyInfo, path: string, env: InvariantEnv): void {
    const primaryKey = key.slice(1);
    const primary = obj[primaryKey];
    const elemPath = this.elementPath(path, info);
    if (info.node.isArray) {
      if (!Array.isArray(value)) {
        this.issue('error', 'structure', elemPath, `'${key}' must be a JSON array aligned with '${primaryKey}'`);
        return;
      }
      if (Array.isArray(primary) && primary.length !== value.length) {
        this.issue('error', 'structure', elemPath, `'${key}' has ${value.length} items but '${primaryKey}' has ${primary.length}; they must align`);
      }
      if (primary === undefined && value.length > info.node.max) {
        this.issue('error', 'structure', elemPath, `'${primaryKey}' has ${value.length} values, but at most ${formatMax(info.node.max)} are allowed`);
      }
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (item !== null) {
          const pv: unknown = Array.isArray(primary) ? primary[i] : undefined;
          this.validateSidecarItem(key, item, `${elemPath}[${i}]`, pv !== null && pv !== undefined, env);
        }
      }
    } else {
      this.validateSidecarItem(key, value, elemPath, primary !== undefined, env);
    }
  }

  private validateSidecarItem(key: string, item: unknown, itemPath: string, hasValue: boolean, env: InvariantEnv): void {
    const elementType = this.registry.baseType('Element');
    if (!elementType) {
      return;
    }
    if (!isObject(item)) {
      this.issue('error', 'structure', itemPath, `'${key}' must hold JSON objects with id and/or extension, but holds ${describe(item)}`);
      return;
    }
    if (!hasValue && !Object.keys(item).some((k) => k !== 'id')) {
      this.issue('error', 'invariant', itemPath, `Element has neither a value nor extensions (ele-1)`);
    }
    this.walkObject(item, elementType.root, itemPath, env, false);
  }

  private validateValue(value: unknown, node: ElementNode, type: string, path: string, env: InvariantEnv): void {
    if (PRIMITIVE_TYPES.has(type)) {
      const problem = checkPrimitive(type, value, node.maxLength);
      if (problem) {
        const wrongJsonType = typeof value !== jsonTypeOf(type);
        this.issue('error', wrongJsonType ? 'structure' : 'value', path, `Value ${problem}`);
        return;
      }
      if (node.binding?.strength === 'required') {
        this.checkBinding(value, type, node.binding.valueSet, path);
      }
      if (node.constraints.length > 0) {
        this.checkConstraints(node.constraints, node.path, value, path, env, undefined, type);
      }
      return;
    }
    if (type === 'Resource' || type === 'DomainResource') {
      this.validateResource(value, path, env, node.path.endsWith('.contained'), true);
      return;
    }
    if (!isObject(value)) {
      this.issue('error', 'structure', path, `Expected a JSON object (FHIR ${type}), but found ${describe(value)}`);
      return;
    }
    // ele-1: an element has a value or children (other than id).
    let hasContent = false;
    for (const k in value) {
      if (k !== 'id') {
        hasContent = true;
        break;
      }
    }
    if (!hasContent) {
      this.issue('error', 'invariant', path, 'Element is empty: it must have a value or child elements (ele-1)');
      return;
    }

    let container: ElementNode;
    if (node.contentReference || (node.children.size > 0 && (type === 'BackboneElement' || type === 'Element'))) {
      container = node;
    } else {
      const typeStructure = this.registry.baseType(type);
      if (!typeStructure) {
        this.issue('error', 'structure', path, `Unknown data type '${type}'`);
        return;
      }
      container = typeStructure.root;
      if (typeStructure.kind === 'resource') {
        this.validateResource(value, path, env, false, true);
        return;
      }
      this.checkConstraints(typeStructure.root.constraints, type, value, path, env, undefined, type);
    }
    this.walkObject(value, container, path, env, false);
    if (node.constraints.length > 0) {
      this.checkConstraints(node.constraints, node.path, value, path, env, undefined, type);
    }
    if (node.binding?.strength === 'required' && CODED_TYPES.has(type)) {
      this.checkBinding(value, type, node.binding.valueSet, path);
    }
    switch (type) {
      case 'Extension':
        this.checkExtension(value, path, env);
        break;
      case 'Reference':
        this.checkReferenceTarget(value, node, path);
        break;
      default:
        break;
    }
    // Type profiles in the base definitions (SimpleQuantity, MoneyQuantity).
    for (const t of node.types) {
      if (t.code === type && t.profiles.length > 0) {
        this.applyTypeProfiles(value, type, t.profiles, path, env, node.structure);
      }
    }
  }

  /** ext-1, and conformance to the extension's definition when it is loaded. */
  private checkExtension(ext: JsonObject, path: string, env: InvariantEnv): void {
    let hasValue = false;
    for (const k in ext) {
      // valueX, or _valueX alone (a primitive value that only carries extensions)
      if ((k.startsWith('value') && k.length > 5) || (k.startsWith('_value') && k.length > 6)) {
        hasValue = true;
        break;
      }
    }
    const hasExtensions = Array.isArray(ext['extension']) && ext['extension'].length > 0;
    if (hasValue === hasExtensions) {
      this.issue('error', 'invariant', path, hasValue ? 'Extension has both a value and nested extensions; it must have one or the other (ext-1)' : 'Extension has neither a value nor nested extensions (ext-1)');
    }
    const url = ext['url'];
    if (typeof url === 'string') {
      const definition = this.registry.profile(url, this.context);
      if (definition?.type === 'Extension') {
        this.applyProfile(ext, definition, path, env);
      } else if (/\.modifierExtension\[\d+\]$/.test(path)) {
        // A modifier changes the meaning of what holds it; one the server does not know must not be
        // silently stored (https://hl7.org/fhir/R4/extensibility.html#modifierExtension).
        this.issue('error', 'extension', path, `Unknown modifier extension '${url}': the server cannot tell how it changes the meaning of the element, so it is rejected. Load its definition (a FHIR package or a StructureDefinition) first.`);
      }
    }
  }

  private checkReferenceTarget(ref: JsonObject, node: ElementNode, path: string): void {
    const reference = ref['reference'];
    if (typeof reference !== 'string' || reference.startsWith('#') || reference.startsWith('urn:')) {
      return;
    }
    const m = REFERENCE_PATTERN.exec(reference);
    const targetType = m?.[1];
    if (!targetType || this.registry.baseType(targetType)?.kind !== 'resource') {
      return;
    }
    const allowed: string[] = [];
    for (const t of node.types) {
      if (t.code !== 'Reference') {
        continue;
      }
      for (const tp of t.targetProfiles) {
        if (!tp.startsWith(HL7_SD)) {
          return; // a profile as target: we cannot tell the resource type cheaply
        }
        allowed.push(tp.slice(HL7_SD.length));
      }
    }
    if (allowed.length === 0 || allowed.includes('Resource') || allowed.includes(targetType)) {
      return;
    }
    this.issue('error', 'structure', `${path}.reference`, `Reference to a ${targetType} is not allowed here; allowed target types: ${allowed.join(', ')}`);
  }

  // ---------------------------------------------------------------- invariants and bindings

  private checkConstraints(
    constraints: readonly Constraint[],
    contextPath: string,
    value: unknown,
    path: string,
    env: InvariantEnv,
    skipKeys: ReadonlySet<string> | undefined,
    valueType: string | undefined,
  ): void {
    for (const c of constraints) {
      if (c.severity !== 'error' || handledOutsideEngine(c.key) || skipKeys?.has(c.key) === true) {
        continue;
      }
      const r = this.registry.invariants.evaluate(c, contextPath, value, env, valueType);
      if (r.status === 'fail') {
        const detail = r.detail ?? (isObject(value) || Array.isArray(value) ? undefined : `value ${describe(value)}`);
        this.issue('error', 'invariant', path, `Constraint ${c.key} failed: ${c.human}${detail ? ` (${detail})` : ''}`);
      } else if (r.status === 'error') {
        this.issue('warning', 'processing', path, `Constraint ${c.key} could not be checked: ${r.detail}`);
      }
    }
  }

  /** Required binding; returns false when the value is definitely not in the value set. */
  private bindingStatus(value: unknown, type: string, valueSet: string): 'valid' | 'invalid' | 'unknown' {
    const term = this.registry.terminology;
    if (!term.canExpand(valueSet)) {
      return 'unknown';
    }
    switch (type) {
      case 'code':
      case 'string':
      case 'uri':
        return typeof value === 'string' ? term.checkCode(valueSet, undefined, value) : 'unknown';
      case 'Coding':
      case 'Quantity': {
        if (!isObject(value) || typeof value['code'] !== 'string') {
          return type === 'Quantity' ? 'unknown' : 'valid';
        }
        const system = value['system'];
        if (type === 'Quantity' && typeof system !== 'string') {
          return 'unknown';
        }
        return term.checkCode(valueSet, typeof system === 'string' ? system : undefined, value['code']);
      }
      case 'CodeableConcept': {
        if (!isObject(value) || !Array.isArray(value['coding'])) {
          return 'valid'; // text only
        }
        let sawCode = false;
        for (const coding of value['coding']) {
          if (isObject(coding) && typeof coding['code'] === 'string') {
            sawCode = true;
            const system = coding['system'];
            if (term.checkCode(valueSet, typeof system === 'string' ? system : undefined, coding['code']) === 'valid') {
              return 'valid';
            }
          }
        }
        return sawCode ? 'invalid' : 'valid';
      }
      default:
        return 'unknown';
    }
  }

  private checkBinding(value: unknown, type: string, valueSet: string, path: string): void {
    if (this.bindingStatus(value, type, valueSet) !== 'invalid') {
      return;
    }
    const sample = this.registry.terminology.sampleCodes(valueSet, 12) ?? [];
    const allowed = sample.length > 0 ? ` (allowed codes include: ${sample.join(', ')}${sample.length === 12 ? ', …' : ''})` : '';
    let shown: string;
    if (type === 'CodeableConcept') {
      const codings = isObject(value) && Array.isArray(value['coding']) ? value['coding'].filter(isObject) : [];
      shown = `None of the codings (${codings.map(codingText).join(', ')}) is`;
    } else if (isObject(value)) {
      shown = `The code ${codingText(value)} is not`;
    } else {
      shown = `The code ${describe(value)} is not`;
    }
    this.issue('error', 'code-invalid', path, `${shown} in the required value set ${stripVersion(valueSet)}${allowed}`);
  }

  // ---------------------------------------------------------------- profile pass

  /** Validates a value against a profile (or extension definition). */
  applyProfile(value: JsonObject, profile: CompiledStructure, path: string, env: InvariantEnv): void {
    const root = profile.root;
    if (profile.kind === 'resource' && value['resourceType'] !== profile.type) {
      this.issue('error', 'structure', path, `Profile ${profile.url} is for ${profile.type} resources, not ${String(value['resourceType'])}`);
      return;
    }
    this.checkConstraints(root.constraints, profile.type, value, path, env, this.registry.baseConstraintKeys, profile.type);
    this.overlayChildren(value, root, path, env);
  }

  /** A resource in a profiled element (e.g. a Bundle entry slice): it must conform to one of the profiles. */
  private applyResourceProfiles(value: JsonObject, profiles: readonly string[], path: string, env: InvariantEnv, from: CompiledStructure): void {
    const loaded = profiles.map((p) => this.registry.profile(p, from)).filter((p): p is CompiledStructure => p !== undefined);
    const resourceType = value['resourceType'];
    if (loaded.length > 0 && !loaded.some((p) => p.type === resourceType)) {
      this.issue('error', 'structure', path, `A ${String(resourceType)} is not allowed here: the profile expects ${loaded.map((p) => `${p.type} (${p.url})`).join(' or ')}`);
      return;
    }
    this.applyTypeProfiles(value, typeof resourceType === 'string' ? resourceType : '', profiles, path, env, from);
  }

  /** Conformance to one of several type profiles (e.g. an Identifier slice typed by a CPR identifier profile). */
  private applyTypeProfiles(value: JsonObject, type: string, profiles: readonly string[], path: string, env: InvariantEnv, from: CompiledStructure): void {
    const loaded = profiles.map((p) => this.registry.profile(p, from)).filter((p): p is CompiledStructure => p !== undefined && p.type === type);
    if (loaded.length === 0) {
      return;
    }
    if (loaded.length === 1) {
      this.applyProfile(value, loaded[0]!, path, env);
      return;
    }
    let firstFailure: OperationOutcomeIssue[] | undefined;
    for (const p of loaded) {
      const trial = new Run(this.registry, this.context);
      trial.applyProfile(value, p, path, env);
      const failed = trial.issues.some((i) => i.severity === 'error');
      if (!failed) {
        this.issues.push(...trial.issues);
        return;
      }
      firstFailure ??= trial.issues;
    }
    this.issues.push(...(firstFailure ?? []));
  }

  /** Walks the children the profile defines for `node` over the JSON object. */
  private overlayChildren(obj: JsonObject, node: ElementNode, path: string, env: InvariantEnv): void {
    let container = node;
    if (node.contentReference) {
      container = node.structure.byId.get(node.contentReference) ?? node;
    }
    for (const child of this.relevantChildren(container)) {
      this.overlayElement(obj, child, path, env);
    }
  }

  /**
   * The children of a profile node that add something to the base definition. Snapshots repeat
   * every base element; skipping the unchanged ones keeps profile validation cheap.
   */
  private relevantChildren(node: ElementNode): readonly ElementNode[] {
    let list = relevantCache.get(node);
    if (!list) {
      relevantCache.set(node, []); // cycle guard (contentReference)
      list = [...node.children.values()].filter((c) => this.addsToBase(c));
      relevantCache.set(node, list);
    }
    return list;
  }

  private addsToBase(node: ElementNode): boolean {
    if (node.min > node.baseMin || node.max < node.baseMax || node.fixed !== undefined || node.pattern !== undefined) {
      return true;
    }
    if (node.slicing && node.slicing.slices.length > 0) {
      return true;
    }
    if (node.constraints.some((c) => c.severity === 'error' && !this.registry.baseConstraintKeys.has(c.key))) {
      return true;
    }
    if (node.types.some((t) => t.profiles.length > 0 && t.code !== 'Extension')) {
      return true;
    }
    if (node.maxLength !== undefined || node.minValue !== undefined || node.maxValue !== undefined) {
      return true;
    }
    const base = this.registry.baseElement(node.path);
    if (!base) {
      return true; // cannot compare: check it
    }
    const baseTargets = new Set(base.types.flatMap((t) => t.targetProfiles));
    if (node.types.some((t) => t.targetProfiles.some((tp) => !baseTargets.has(tp)))) {
      return true;
    }
    if (node.binding?.strength === 'required' && !(base.binding?.strength === 'required' && stripVersion(base.binding.valueSet) === stripVersion(node.binding.valueSet))) {
      return true;
    }
    if (node.choice && node.types.length < base.types.length) {
      return true;
    }
    if (node.contentReference) {
      const target = node.structure.byId.get(node.contentReference);
      return target !== undefined && target !== node && this.relevantChildren(target).length > 0;
    }
    return this.relevantChildren(node).length > 0;
  }

  private collectValues(obj: JsonObject, child: ElementNode, path: string): FoundValue[] {
    const out: FoundValue[] = [];
    if (!child.choice) {
      const type = child.types[0]?.code ?? 'BackboneElement';
      const elemPath = `${path}.${child.name}`;
      const v = obj[child.name];
      // A primitive with only extensions still counts as present.
      pushValues(out, v !== undefined ? v : obj['_' + child.name], type, elemPath, child.isArray);
      return out;
    }
    for (const found of propertyValues(obj, child.name)) {
      const allowed = child.types.some((t) => t.code === found.type);
      if (!allowed && child.types.length > 0) {
        this.issue('error', 'structure', `${path}.${child.name}.ofType(${found.type})`, `Type ${found.type} is not allowed for ${child.name}[x] by profile ${child.structure.name} (allowed: ${child.types.map((t) => t.code).join(', ')})`);
        continue;
      }
      out.push({ value: found.value, type: found.type, path: `${path}.${child.name}.ofType(${found.type})` });
    }
    return out;
  }

  private overlayElement(obj: JsonObject, child: ElementNode, path: string, env: InvariantEnv): void {
    const values = this.collectValues(obj, child, path);
    this.checkCardinality(child, values.length, `${path}.${child.name}`, child.sliceName !== undefined);
    if (values.length === 0) {
      return;
    }
    const slicing = child.slicing;
    if (slicing && slicing.slices.length > 0) {
      this.overlaySlices(values, child, slicing.slices, path, env);
    }
    for (const v of values) {
      this.overlayValue(v, child, env);
    }
  }

  private checkCardinality(node: ElementNode, count: number, path: string, isSlice: boolean): void {
    const label = isSlice ? `slice '${node.sliceName ?? ''}' of ${node.name}` : `'${node.name}'`;
    if (count < node.min && (isSlice || node.min > node.baseMin)) {
      this.issue('error', 'required', path, `Profile ${node.structure.name} requires at least ${node.min} value(s) for ${label}, but found ${count}`);
    }
    if (count > node.max && (isSlice || node.max < node.baseMax)) {
      this.issue(
        'error',
        'structure',
        path,
        node.max === 0
          ? `Profile ${node.structure.name} does not allow ${label}`
          : `Profile ${node.structure.name} allows at most ${formatMax(node.max)} value(s) for ${label}, but found ${count}`,
      );
    }
  }

  private overlaySlices(values: FoundValue[], sliced: ElementNode, slices: readonly ElementNode[], path: string, env: InvariantEnv): void {
    const slicing = sliced.slicing!;
    const counts = new Map<ElementNode, number>();
    for (const v of values) {
      const slice = slices.find((s) => this.matchesSlice(v, s, slicing.discriminators));
      if (!slice) {
        if (slicing.rules === 'closed') {
          this.issue('error', 'structure', v.path, `Value does not match any of the slices defined for ${sliced.name} (${slices.map((s) => s.sliceName).join(', ')}) and the slicing is closed`);
        }
        continue;
      }
      counts.set(slice, (counts.get(slice) ?? 0) + 1);
      this.overlayValue(v, slice, env);
    }
    const elemPath = `${path}.${sliced.name}`;
    for (const slice of slices) {
      this.checkCardinality(slice, counts.get(slice) ?? 0, elemPath, true);
    }
  }

  private overlayValue(v: FoundValue, node: ElementNode, env: InvariantEnv): void {
    const value = v.value;
    if (node.fixed !== undefined && !jsonEquals(value, node.fixed)) {
      this.issue('error', 'value', v.path, `Value ${describe(value)} does not equal the fixed value ${describe(node.fixed)} required by profile ${node.structure.name}`);
    }
    if (node.pattern !== undefined && !jsonMatchesPattern(value, node.pattern)) {
      this.issue('error', 'value', v.path, `Value ${describe(value)} does not match the pattern ${describe(node.pattern)} required by profile ${node.structure.name}`);
    }
    if (node.binding?.strength === 'required' && CODED_TYPES.has(v.type)) {
      const base = this.registry.baseElement(node.path);
      const sameAsBase = base?.binding?.strength === 'required' && stripVersion(base.binding.valueSet) === stripVersion(node.binding.valueSet);
      if (!sameAsBase) {
        this.checkBinding(value, v.type, node.binding.valueSet, v.path);
      }
    }
    if (node.constraints.length > 0) {
      this.checkConstraints(node.constraints, node.path, value, v.path, env, this.registry.baseConstraintKeys, v.type === '' ? undefined : v.type);
    }
    if (node.maxLength !== undefined && typeof value === 'string' && value.length > node.maxLength) {
      this.issue('error', 'value', v.path, `Value is ${value.length} characters long; profile ${node.structure.name} allows at most ${node.maxLength}`);
    }
    if (node.minValue !== undefined || node.maxValue !== undefined) {
      this.checkRange(value, node, v.path);
    }
    if (!isObject(value)) {
      return;
    }
    if (v.type === 'Reference') {
      this.checkProfiledReferenceTarget(value, node, v.path);
    }
    if (v.type !== 'Extension') {
      // Extensions are checked against their definitions by the base pass.
      for (const t of node.types) {
        if (t.code === v.type && t.profiles.length > 0) {
          if (v.type === 'Resource' || this.registry.isResourceType(v.type)) {
            this.applyResourceProfiles(value, t.profiles, v.path, resourceEnv(value, env, false), node.structure);
          } else {
            this.applyTypeProfiles(value, v.type, t.profiles, v.path, env, node.structure);
          }
        }
      }
    }
    if (node.children.size > 0 || node.contentReference) {
      const childEnv = typeof value['resourceType'] === 'string' ? resourceEnv(value, env, false) : env;
      this.overlayChildren(value, node, v.path, childEnv);
    }
  }

  private checkRange(value: unknown, node: ElementNode, path: string): void {
    const n = typeof value === 'number' ? value : isObject(value) && typeof value['value'] === 'number' ? value['value'] : undefined;
    if (n === undefined) {
      return;
    }
    if (node.minValue !== undefined && n < node.minValue) {
      this.issue('error', 'value', path, `Value ${n} is below the minimum ${node.minValue} set by profile ${node.structure.name}`);
    }
    if (node.maxValue !== undefined && n > node.maxValue) {
      this.issue('error', 'value', path, `Value ${n} is above the maximum ${node.maxValue} set by profile ${node.structure.name}`);
    }
  }

  /** Reference targets narrowed by a profile (`Reference(DkCorePatient)`): checks the resource type the reference names. */
  private checkProfiledReferenceTarget(ref: JsonObject, node: ElementNode, path: string): void {
    const reference = ref['reference'];
    if (typeof reference !== 'string' || reference.startsWith('#') || reference.startsWith('urn:')) {
      return;
    }
    const targetType = REFERENCE_PATTERN.exec(reference)?.[1];
    if (!targetType || !this.registry.isResourceType(targetType)) {
      return;
    }
    const allowed = new Set<string>();
    for (const t of node.types) {
      for (const tp of t.targetProfiles) {
        const type = tp.startsWith(HL7_SD) && this.registry.isResourceType(tp.slice(HL7_SD.length)) ? tp.slice(HL7_SD.length) : this.registry.profile(tp, node.structure)?.type;
        if (type === undefined) {
          return; // an unknown target profile: cannot tell
        }
        allowed.add(type);
      }
    }
    if (allowed.size === 0 || allowed.has('Resource') || allowed.has(targetType)) {
      return;
    }
    this.issue('error', 'structure', `${path}.reference`, `Reference to a ${targetType} is not allowed here; allowed target types: ${[...allowed].join(', ')}`);
  }

  // ---------------------------------------------------------------- slicing

  private matchesSlice(v: FoundValue, slice: ElementNode, discriminators: readonly { type: string; path: string }[]): boolean {
    if (discriminators.length === 0) {
      return false;
    }
    for (const d of discriminators) {
      if (!this.matchesDiscriminator(v, slice, d)) {
        return false;
      }
    }
    return true;
  }

  private discriminatorTarget(slice: ElementNode, path: string): DiscriminatorTarget {
    let perSlice = discriminatorCache.get(slice);
    if (!perSlice) {
      perSlice = new Map();
      discriminatorCache.set(slice, perSlice);
    }
    const cached = perSlice.get(path);
    if (cached) {
      return cached;
    }
    const steps = parseDiscriminatorPath(path);
    let nodes: ElementNode[] = [slice];
    let impliedFixed: unknown;
    let supported = true;
    for (const step of steps) {
      if (step.kind === 'this') {
        continue;
      }
      if (step.kind === 'unsupported') {
        supported = false;
        break;
      }
      if (step.kind === 'ofType') {
        nodes = nodes.filter((n) => n.types.some((t) => t.code === step.arg));
        continue;
      }
      const next: ElementNode[] = [];
      for (const n of nodes) {
        if (step.kind === 'extension') {
          const ext = this.childOf(n, 'extension');
          const matching = ext?.slicing?.slices.filter((s) => this.sliceExtensionUrl(s) === step.arg) ?? [];
          next.push(...matching);
          const definition = this.registry.profile(step.arg, slice.structure);
          if (matching.length === 0 && definition) {
            next.push(definition.root);
          }
          continue;
        }
        const child = this.childOf(n, step.arg);
        if (child) {
          next.push(child);
          if (child.slicing) {
            next.push(...child.slicing.slices);
          }
        } else if (step.arg === 'url' && n.types.some((t) => t.code === 'Extension')) {
          impliedFixed = this.sliceExtensionUrl(n);
        }
      }
      nodes = next;
    }
    const target: DiscriminatorTarget = { nodes, impliedFixed, supported };
    perSlice.set(path, target);
    return target;
  }

  /** Child `name` of a definition node, looking into its type profile when the node itself does not constrain it. */
  private childOf(node: ElementNode, name: string): ElementNode | undefined {
    const own = node.children.get(name);
    if (own) {
      return own;
    }
    if (node.contentReference) {
      const target = node.structure.byId.get(node.contentReference);
      const viaRef = target?.children.get(name);
      if (viaRef) {
        return viaRef;
      }
    }
    for (const t of node.types) {
      for (const p of t.profiles) {
        const profile = this.registry.profile(p, node.structure);
        const child = profile?.root.children.get(name);
        if (child) {
          return child;
        }
      }
    }
    return undefined;
  }

  /** The URL of the extension a slice of `extension` stands for. */
  private sliceExtensionUrl(slice: ElementNode): string | undefined {
    const urlNode = slice.children.get('url');
    if (urlNode && typeof urlNode.fixed === 'string') {
      return urlNode.fixed;
    }
    const profile = slice.types.find((t) => t.code === 'Extension')?.profiles[0];
    return profile ? stripVersion(profile) : undefined;
  }

  private dataAt(v: FoundValue, path: string): FoundValue[] {
    const steps = parseDiscriminatorPath(path);
    let current: FoundValue[] = [v];
    for (const step of steps) {
      switch (step.kind) {
        case 'this':
          break;
        case 'unsupported':
          return [];
        case 'ofType':
          current = current.filter((c) => c.type === step.arg);
          break;
        case 'extension': {
          const next: FoundValue[] = [];
          for (const c of current) {
            for (const e of propertyValues(c.value, 'extension')) {
              if (isObject(e.value) && e.value['url'] === step.arg) {
                next.push({ value: e.value, type: 'Extension', path: '' });
              }
            }
          }
          current = next;
          break;
        }
        case 'name': {
          const next: FoundValue[] = [];
          for (const c of current) {
            next.push(...propertyValues(c.value, step.arg));
          }
          current = next;
          break;
        }
        default:
          break;
      }
    }
    return current;
  }

  private matchesDiscriminator(v: FoundValue, slice: ElementNode, d: { type: string; path: string }): boolean {
    const target = this.discriminatorTarget(slice, d.path);
    if (!target.supported) {
      return false;
    }
    const data = this.dataAt(v, d.path);
    switch (d.type) {
      case 'value':
      case 'pattern': {
        if (target.impliedFixed !== undefined && target.nodes.every((n) => n.fixed === undefined && n.pattern === undefined)) {
          return data.some((x) => jsonEquals(x.value, target.impliedFixed));
        }
        // Any of the discriminator elements' fixed value, pattern or required binding must match. A slice
        // whose discriminator element carries none of these cannot be matched.
        for (const n of target.nodes) {
          if (n.fixed !== undefined) {
            if (data.some((x) => jsonEquals(x.value, n.fixed))) {
              return true;
            }
          } else if (n.pattern !== undefined) {
            if (data.some((x) => jsonMatchesPattern(x.value, n.pattern))) {
              return true;
            }
          } else if (n.binding?.strength === 'required') {
            const type = n.types[0]?.code ?? '';
            if (data.some((x) => this.bindingStatus(x.value, x.type || type, n.binding!.valueSet) !== 'invalid')) {
              return true;
            }
          }
        }
        return false;
      }
      case 'exists': {
        const n = target.nodes[0];
        if (!n) {
          return false;
        }
        return n.min > 0 ? data.length > 0 : n.max === 0 ? data.length === 0 : true;
      }
      case 'type': {
        const allowed = new Set<string>();
        for (const n of target.nodes) {
          for (const t of n.types) {
            allowed.add(t.code);
          }
        }
        return data.some((x) => {
          if (x.type) {
            return allowed.has(x.type);
          }
          const rt = isObject(x.value) ? x.value['resourceType'] : undefined;
          return typeof rt === 'string' && allowed.has(rt);
        });
      }
      case 'profile': {
        const profiles = target.nodes.flatMap((n) => n.types.flatMap((t) => t.profiles));
        return data.some((x) =>
          isObject(x.value) &&
          profiles.some((p) => {
            const profile = this.registry.profile(p, slice.structure);
            if (!profile) {
              return false;
            }
            const trial = new Run(this.registry, this.context);
            trial.applyProfile(x.value as JsonObject, profile, '', resourceEnv(x.value, undefined, false));
            return !trial.issues.some((i) => i.severity === 'error');
          }),
        );
      }
      default:
        return false;
    }
  }
}

/** Removes duplicate issues (the same finding reported by the base and a profile pass). */
function dedupe(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  if (issues.length < 2) {
    return issues;
  }
  const seen = new Set<string>();
  const out: OperationOutcomeIssue[] = [];
  for (const i of issues) {
    const key = `${i.severity}|${i.code}|${i.expression?.[0] ?? ''}|${i.diagnostics ?? ''}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(i);
    }
  }
  return out;
}

/**
 * Validates a resource against the base specification, the profiles it claims in meta.profile,
 * and any extra profiles.
 * @param registry - the loaded definitions.
 * @param resource - the resource (parsed JSON).
 * @param extraProfiles - further profile URLs to validate against.
 * @returns the issues found.
 */
export function validateWithRegistry(registry: Registry, resource: unknown, extraProfiles: readonly string[]): OperationOutcomeIssue[] {
  const run = new Run(registry, rootContext(registry, resource, extraProfiles));
  run.validateResource(resource, '', undefined, false, false);
  if (isObject(resource) && typeof resource['resourceType'] === 'string' && registry.baseType(resource['resourceType'])?.kind === 'resource') {
    run.applyMetaProfiles(resource, resource['resourceType'], resourceEnv(resource, undefined, false), extraProfiles, undefined);
  }
  return dedupe(run.issues);
}

/** The first loaded profile a resource claims or is asked to conform to: the context of its validation (see Run.context). */
function rootContext(registry: Registry, resource: unknown, extraProfiles: readonly string[]): CompiledStructure | undefined {
  const meta = isObject(resource) ? resource['meta'] : undefined;
  const claimed: readonly unknown[] = isObject(meta) && Array.isArray(meta['profile']) ? meta['profile'] : [];
  for (const p of [...claimed, ...extraProfiles]) {
    const profile = typeof p === 'string' ? registry.profile(p) : undefined;
    if (profile) {
      return profile;
    }
  }
  return undefined;
}

let conformanceDepth = 0;

/**
 * FHIRPath `conformsTo(url)`: whether a value conforms to a loaded profile (profile rules only; the
 * base rules are checked by the enclosing validation anyway).
 * @param registry - the loaded definitions.
 * @param value - the value (a resource, usually).
 * @param url - the profile's canonical URL.
 * @returns true/false, or undefined when the profile is not loaded.
 */
export function conformsToProfile(registry: Registry, value: unknown, url: string): boolean | undefined {
  const profile = registry.profile(url);
  if (!profile || !isObject(value) || conformanceDepth > 4) {
    return undefined;
  }
  conformanceDepth++;
  try {
    const run = new Run(registry);
    const rt = value['resourceType'];
    run.applyProfile(value, profile, typeof rt === 'string' ? rt : profile.type, resourceEnv(value, undefined, false));
    return !run.issues.some((i) => i.severity === 'error');
  } finally {
    conformanceDepth--;
  }
}
