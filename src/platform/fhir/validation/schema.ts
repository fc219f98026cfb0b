/**
 * Compiles StructureDefinition snapshots into element trees the validator walks. Each tree node
 * stands for one ElementDefinition: its children (by element name), its slices, and the rules
 * that apply to its values (cardinality, types, fixed/pattern value, binding, invariants).
 */
import type { ElementDefinition, ElementDefinitionType, StructureDefinition } from '@medplum/fhirtypes';

/** One allowed type of an element. */
export interface TypeRef {
  /** FHIR type code, normalised (`http://hl7.org/fhirpath/System.String` → `string`, etc.). */
  readonly code: string;
  /** Profiles the value must conform to (`ElementDefinition.type.profile`). */
  readonly profiles: readonly string[];
  /** Allowed reference targets (`ElementDefinition.type.targetProfile`). */
  readonly targetProfiles: readonly string[];
}

/** A FHIRPath invariant. */
export interface Constraint {
  readonly key: string;
  readonly severity: 'error' | 'warning';
  readonly human: string;
  readonly expression: string;
}

/** Slicing rules of a sliced element. */
export interface Slicing {
  readonly discriminators: readonly { readonly type: string; readonly path: string }[];
  readonly rules: 'open' | 'closed' | 'openAtEnd';
  readonly ordered: boolean;
  readonly slices: ElementNode[];
}

/** A compiled ElementDefinition. */
export interface ElementNode {
  /** ElementDefinition.id, e.g. `Patient.identifier:cpr.system`. */
  readonly id: string;
  /** ElementDefinition.path, e.g. `Patient.identifier.system`. */
  readonly path: string;
  /** Element name without `[x]`, e.g. `value` for `Observation.value[x]`. */
  readonly name: string;
  /** True for choice elements (`value[x]`). */
  readonly choice: boolean;
  readonly min: number;
  /** Maximum cardinality; `Infinity` for `*`. */
  readonly max: number;
  /** Cardinality of the element this one constrains (ElementDefinition.base). */
  readonly baseMin: number;
  readonly baseMax: number;
  /** The JSON representation is an array (base max > 1). */
  readonly isArray: boolean;
  readonly types: readonly TypeRef[];
  /** Child elements by name (backbone elements, or children a profile constrains). */
  readonly children: Map<string, ElementNode>;
  readonly sliceName: string | undefined;
  slicing: Slicing | undefined;
  /** `fixed[x]` value, if any. */
  readonly fixed: unknown;
  /** `pattern[x]` value, if any. */
  readonly pattern: unknown;
  readonly binding: { readonly strength: string; readonly valueSet: string } | undefined;
  readonly constraints: readonly Constraint[];
  /** Target element id of a `contentReference` (e.g. `Questionnaire.item`). */
  readonly contentReference: string | undefined;
  readonly maxLength: number | undefined;
  /** Numeric `minValue[x]` / `maxValue[x]` (integer, decimal, Quantity value), if any. */
  readonly minValue: number | undefined;
  readonly maxValue: number | undefined;
  /** The structure this node belongs to. */
  readonly structure: CompiledStructure;
}

/** A compiled StructureDefinition. */
export interface CompiledStructure {
  readonly url: string;
  readonly name: string;
  /** The type constrained or defined (`StructureDefinition.type`). */
  readonly type: string;
  readonly kind: string;
  readonly abstract: boolean;
  readonly derivation: string | undefined;
  readonly baseDefinition: string | undefined;
  root: ElementNode;
  /** Nodes by ElementDefinition.id (also used to resolve contentReference). */
  readonly byId: Map<string, ElementNode>;
}

const FHIR_TYPE_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

const SYSTEM_TYPES: Record<string, string> = {
  'http://hl7.org/fhirpath/System.String': 'string',
  'http://hl7.org/fhirpath/System.Boolean': 'boolean',
  'http://hl7.org/fhirpath/System.Integer': 'integer',
  'http://hl7.org/fhirpath/System.Decimal': 'decimal',
  'http://hl7.org/fhirpath/System.Date': 'date',
  'http://hl7.org/fhirpath/System.DateTime': 'dateTime',
  'http://hl7.org/fhirpath/System.Time': 'time',
};

/** FHIR primitive data types. */
export const PRIMITIVE_TYPES: ReadonlySet<string> = new Set([
  'base64Binary',
  'boolean',
  'canonical',
  'code',
  'date',
  'dateTime',
  'decimal',
  'id',
  'instant',
  'integer',
  'markdown',
  'oid',
  'positiveInt',
  'string',
  'time',
  'unsignedInt',
  'uri',
  'url',
  'uuid',
  'xhtml',
]);

function normaliseTypeCode(t: ElementDefinitionType, basePath: string | undefined): string {
  if (basePath === 'Resource.id') {
    // R4 declares Resource.id as System.String, but its type is `id` (and the FHIR validator checks it as such).
    return 'id';
  }
  const ext = t.extension?.find((e) => e.url === FHIR_TYPE_EXT)?.valueUrl;
  if (ext) {
    return ext;
  }
  const code = t.code ?? '';
  return SYSTEM_TYPES[code] ?? code;
}

function parseMax(max: string | undefined, fallback: number): number {
  if (max === undefined) {
    return fallback;
  }
  return max === '*' ? Number.POSITIVE_INFINITY : Number.parseInt(max, 10);
}

function numericLimit(v: unknown): number | undefined {
  if (typeof v === 'number') {
    return v;
  }
  if (v !== null && typeof v === 'object' && typeof (v as { value?: unknown }).value === 'number') {
    return (v as { value: number }).value; // minValueQuantity
  }
  return undefined;
}

function findPrefixed(ed: ElementDefinition, prefix: 'fixed' | 'pattern' | 'minValue' | 'maxValue'): unknown {
  for (const key of Object.keys(ed)) {
    if (key.startsWith(prefix) && key.length > prefix.length) {
      const c = key.charCodeAt(prefix.length);
      if (c >= 65 && c <= 90) {
        return (ed as unknown as Record<string, unknown>)[key];
      }
    }
  }
  return undefined;
}

function lastSegmentStart(id: string): number {
  // Slice names never contain '.', so the last '.' separates the parent id from the last segment.
  return id.lastIndexOf('.');
}

function compileNode(ed: ElementDefinition, structure: CompiledStructure, sliceName: string | undefined): ElementNode {
  const path = ed.path ?? '';
  const last = path.slice(path.lastIndexOf('.') + 1);
  const choice = last.endsWith('[x]');
  const name = choice ? last.slice(0, -3) : last;
  const max = parseMax(ed.max, 1);
  const baseMax = parseMax(ed.base?.max, max);
  const baseMin = ed.base?.min ?? ed.min ?? 0;
  const contentRef = ed.contentReference;
  const constraints: Constraint[] = [];
  for (const c of ed.constraint ?? []) {
    if (c.key && c.expression) {
      constraints.push({
        key: c.key,
        severity: c.severity === 'warning' ? 'warning' : 'error',
        human: c.human ?? c.key,
        expression: c.expression,
      });
    }
  }
  const b = ed.binding;
  return {
    id: ed.id ?? path,
    path,
    name,
    choice,
    min: ed.min ?? 0,
    max,
    baseMin,
    baseMax,
    isArray: baseMax > 1 || (ed.base === undefined && max > 1),
    types: (ed.type ?? []).map((t) => ({
      code: normaliseTypeCode(t, ed.base?.path),
      profiles: t.profile ?? [],
      targetProfiles: t.targetProfile ?? [],
    })),
    children: new Map(),
    sliceName,
    slicing: undefined,
    fixed: findPrefixed(ed, 'fixed'),
    pattern: findPrefixed(ed, 'pattern'),
    binding: b?.strength && b.valueSet ? { strength: b.strength, valueSet: b.valueSet } : undefined,
    constraints,
    contentReference: contentRef ? contentRef.slice(contentRef.indexOf('#') + 1) : undefined,
    maxLength: ed.maxLength,
    minValue: numericLimit(findPrefixed(ed, 'minValue')),
    maxValue: numericLimit(findPrefixed(ed, 'maxValue')),
    structure,
  };
}

function slicingOf(ed: ElementDefinition): Slicing {
  const s = ed.slicing;
  return {
    discriminators: (s?.discriminator ?? []).map((d) => ({ type: d.type ?? 'value', path: d.path ?? '$this' })),
    rules: s?.rules ?? 'open',
    ordered: s?.ordered ?? false,
    slices: [],
  };
}

/**
 * Compiles a StructureDefinition that has a snapshot.
 * @param sd - the StructureDefinition.
 * @returns the compiled structure.
 * @throws Error when the StructureDefinition has no snapshot.
 */
export function compileStructure(sd: StructureDefinition): CompiledStructure {
  const elements = sd.snapshot?.element;
  const first = elements?.[0];
  if (!elements || !first) {
    throw new Error(`StructureDefinition ${sd.url} has no snapshot; only StructureDefinitions with a snapshot can be used for validation`);
  }
  const structure: CompiledStructure = {
    url: sd.url,
    name: sd.name,
    type: sd.type,
    kind: sd.kind,
    abstract: sd.abstract,
    derivation: sd.derivation,
    baseDefinition: sd.baseDefinition,
    root: undefined as unknown as ElementNode, // set just below
    byId: new Map(),
  };
  const root = compileNode(first, structure, undefined);
  structure.root = root;
  if (first.slicing) {
    root.slicing = slicingOf(first);
  }
  structure.byId.set(root.id, root);

  for (let i = 1; i < elements.length; i++) {
    const ed = elements[i]!;
    const id = ed.id ?? ed.path ?? '';
    const dot = lastSegmentStart(id);
    if (dot < 0) {
      continue;
    }
    const parentId = id.slice(0, dot);
    const segment = id.slice(dot + 1);
    const colon = segment.indexOf(':');
    const elementName = colon < 0 ? segment : segment.slice(0, colon);
    const sliceName = colon < 0 ? undefined : segment.slice(colon + 1);
    const parent = structure.byId.get(parentId);
    if (!parent) {
      continue; // orphan element (malformed snapshot): nothing to attach it to
    }
    const node = compileNode(ed, structure, sliceName);
    structure.byId.set(id, node);

    if (sliceName === undefined) {
      const childName = elementName.endsWith('[x]') ? elementName.slice(0, -3) : elementName;
      const choiceParent = findRenamedChoice(parent, childName);
      if (choiceParent) {
        // Old-style profile: `Observation.valueQuantity` constrains the Quantity option of value[x].
        addSlice(choiceParent, node, { type: 'type', path: '$this' });
      } else {
        parent.children.set(childName, node);
      }
      if (ed.slicing) {
        node.slicing = slicingOf(ed);
      }
    } else {
      const slicedId = `${parentId}.${elementName}`;
      const sliced = structure.byId.get(slicedId);
      if (!sliced) {
        continue;
      }
      addSlice(sliced, node, sliced.choice ? { type: 'type', path: '$this' } : undefined);
      if (ed.slicing) {
        // Re-slicing of a slice is rare; keep its rules so its own slices can be matched.
        node.slicing = slicingOf(ed);
      }
    }
  }
  return structure;
}

function findRenamedChoice(parent: ElementNode, childName: string): ElementNode | undefined {
  if (parent.children.has(childName)) {
    return undefined;
  }
  for (const child of parent.children.values()) {
    if (child.choice && childName.startsWith(child.name) && childName.length > child.name.length) {
      const suffix = childName.slice(child.name.length);
      if (child.types.some((t) => capitalise(t.code) === suffix)) {
        return child;
      }
    }
  }
  return undefined;
}

function addSlice(sliced: ElementNode, slice: ElementNode, defaultDiscriminator: { type: string; path: string } | undefined): void {
  if (!sliced.slicing) {
    sliced.slicing = {
      discriminators: defaultDiscriminator ? [defaultDiscriminator] : [],
      rules: 'open',
      ordered: false,
      slices: [],
    };
  }
  sliced.slicing.slices.push(slice);
}

/**
 * Capitalises the first letter (the JSON suffix of a choice-type element: `value` + `Quantity`).
 * @param s - a type code.
 * @returns the type code with its first letter upper-cased.
 */
export function capitalise(s: string): string {
  return s.length === 0 ? s : s.charAt(0).toUpperCase() + s.slice(1);
}

/** How one JSON property of an object maps to an element. */
export interface KeyInfo {
  readonly node: ElementNode;
  /** The type of the value under this key (for choice elements, the type named by the key suffix). */
  readonly type: string;
  /** True for the `_name` companion property carrying id/extensions of a primitive. */
  readonly sidecar: boolean;
}

const keyMapCache = new WeakMap<ElementNode, Map<string, KeyInfo>>();

/**
 * The JSON property names allowed in an object whose element definition is `container`, mapped to
 * the element and type each stands for.
 * @param container - the element whose children are the object's properties.
 * @returns the map of JSON property name to element.
 */
export function jsonKeys(container: ElementNode): Map<string, KeyInfo> {
  let map = keyMapCache.get(container);
  if (map) {
    return map;
  }
  map = new Map();
  for (const node of container.children.values()) {
    if (node.choice) {
      for (const t of node.types) {
        const key = node.name + capitalise(t.code);
        map.set(key, { node, type: t.code, sidecar: false });
        if (PRIMITIVE_TYPES.has(t.code)) {
          map.set('_' + key, { node, type: t.code, sidecar: true });
        }
      }
    } else {
      const type = node.types[0]?.code ?? (node.contentReference ? 'BackboneElement' : 'Element');
      map.set(node.name, { node, type, sidecar: false });
      if (PRIMITIVE_TYPES.has(type)) {
        map.set('_' + node.name, { node, type, sidecar: true });
      }
    }
  }
  keyMapCache.set(container, map);
  return map;
}
