import type { OperationOutcomeIssue, Resource, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../../db/index.ts';
import type { AccessGuard } from './access.ts';
import type { Definitions } from './definitions.ts';
import { getDefinitions } from './definitions.ts';
import { Extractor } from './search/extract.ts';
import { SearchRegistry } from './search/registry.ts';
import { DRIVER_LIMIT, setComponentTypeLookup } from './search/search.store.ts';
import { internParams } from './store.ts';
import type { StatisticsKeeper } from '../../db/maintenance.ts';
import { createStatisticsKeeper } from '../../db/maintenance.ts';

/** Validates resources on write; the validation module provides the implementation. */
export interface ResourceValidator {
  validate(resource: Resource, extraProfiles?: readonly string[]): OperationOutcomeIssue[];
  addProfile?(sd: StructureDefinition): void;
  /** Conformance resources found in the loaded FHIR packages. */
  readonly packageResources?: { readonly searchParameters: readonly SearchParameter[] };
}

/** One stored change as the after-write hooks see it. */
export interface ResourceChange {
  readonly resourceType: string;
  readonly id: string;
  readonly versionId: number;
  /** The HTTP method recorded in history (POST, PUT, PATCH, DELETE). */
  readonly method: string;
  /** The previous version's JSON text; undefined when the resource is new or was deleted before. */
  readonly before: string | undefined;
  /** The new version as stored (do not modify); undefined for a delete. */
  readonly after: Resource | undefined;
  /** A bulk load from a trusted in-process source (reference data, synthetic population). */
  readonly trusted: boolean;
}

/**
 * Called inside the write transaction, after the versions are stored and before commit, with the
 * changes in the order they were made. Whatever it writes with `tx` commits or rolls back with
 * the data; throwing (an OperationOutcomeError for the caller's fault) rolls the write back.
 * It may return warnings for the writer (severity `warning`): a single write's answer carries
 * them when the client asks for `Prefer: return=OperationOutcome`.
 * Other modules (messaging, subscriptions) register hooks; this layer knows nothing of them.
 * `writer` is the guard of the caller who made the changes (undefined for the platform's own,
 * unrestricted writes), for hooks that act on the writer's behalf.
 */
// A hook with nothing to say returns nothing (void), so hooks without warnings stay simple.
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type
export type WriteHook = (tx: Queryable, changes: readonly ResourceChange[], writer?: AccessGuard) => Promise<void | readonly OperationOutcomeIssue[]>;

/** Expands value sets for :in/:not-in and required bindings. */
export type ValueSetLookup = (url: string) => { system: string; code: string }[] | undefined;

/** Everything the FHIR layer shares: definitions, search registry, interned parameter ids. */
export interface FhirPlatform {
  readonly db: Database;
  readonly defs: Definitions;
  readonly registry: SearchRegistry;
  readonly extractor: Extractor;
  readonly validator: ResourceValidator | undefined;
  readonly expandValueSet: ValueSetLookup;
  readonly baseUrl: string;
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
  /** See SearchSqlOptions.driverLimit. */
  readonly searchDriverLimit: number;
  /** Keeps planner statistics fresh after bulk writes (see db/maintenance.ts). */
  readonly stats: StatisticsKeeper;
  paramId(resourceType: string, code: string): number;
  /** The after-write hooks, in registration order (see WriteHook). */
  readonly writeHooks: readonly WriteHook[];
  /** Registers an after-write hook. */
  addWriteHook(hook: WriteHook): void;
  /**
   * Registers SearchParameters (from packages or created on the server) and interns their ids.
   * `q` is the transaction writing them, when there is one: the ids are interned there, since on
   * PGlite (one connection) a query outside an open transaction waits for it forever.
   */
  registerSearchParameters(sps: readonly SearchParameter[], source: 'package' | 'server', q?: Queryable): Promise<string[]>;
}

export interface FhirPlatformOptions {
  readonly db: Database;
  readonly baseUrl: string;
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
  /** Default DRIVER_LIMIT (2000). */
  readonly searchDriverLimit?: number;
  readonly validator?: ResourceValidator;
  readonly expandValueSet?: ValueSetLookup;
  readonly packageSearchParameters?: readonly SearchParameter[];
}

/**
 * Builds the FHIR platform state: loads definitions, registers search parameters (base, packages,
 * and those stored on the server) and interns their ids.
 * @param options - database and settings
 * @returns the platform
 */
export async function initFhirPlatform(options: FhirPlatformOptions): Promise<FhirPlatform> {
  const defs = getDefinitions();
  const registry = new SearchRegistry(defs);
  for (const sp of options.packageSearchParameters ?? options.validator?.packageResources?.searchParameters ?? []) {
    registry.add(sp, 'package');
  }
  const stored = await options.db.query<{ content: string }>(`SELECT content FROM resource WHERE resource_type = 'SearchParameter' AND NOT deleted`);
  for (const row of stored) {
    registry.add(JSON.parse(row.content) as SearchParameter, 'server');
  }
  setComponentTypeLookup((url) => (registry.byCanonical(url)?.type ?? 'token'));
  const extractor = new Extractor(defs, registry, options.baseUrl);
  // By type, then code: looked up for every index row written, so no key string is built per call.
  const ids = new Map<string, Map<string, number>>();
  const intern = (interned: readonly { resourceType: string; code: string; id: number }[]): void => {
    for (const { resourceType, code, id } of interned) {
      let codes = ids.get(resourceType);
      if (codes === undefined) {
        codes = new Map();
        ids.set(resourceType, codes);
      }
      codes.set(code, id);
    }
  };
  intern(await internParams(options.db, allPairs(registry, [...defs.resourceTypes])));
  const writeHooks: WriteHook[] = [];
  const platform: FhirPlatform = {
    writeHooks,
    addWriteHook(hook: WriteHook): void {
      writeHooks.push(hook);
    },
    stats: createStatisticsKeeper(options.db),
    db: options.db,
    defs,
    registry,
    extractor,
    validator: options.validator,
    expandValueSet: options.expandValueSet ?? (() => undefined),
    baseUrl: options.baseUrl,
    defaultPageSize: options.defaultPageSize,
    maxPageSize: options.maxPageSize,
    searchDriverLimit: options.searchDriverLimit ?? DRIVER_LIMIT,
    paramId(resourceType: string, code: string): number {
      const id = ids.get(resourceType)?.get(code);
      if (id === undefined) {
        throw new Error(`Search parameter ${resourceType}.${code} has no interned id`);
      }
      return id;
    },
    async registerSearchParameters(sps, source, q = options.db): Promise<string[]> {
      const types = new Set<string>();
      for (const sp of sps) {
        for (const t of registry.add(sp, source)) {
          types.add(t);
        }
      }
      intern(await internParams(q, allPairs(registry, [...types])));
      return [...types];
    },
  };
  return platform;
}

function allPairs(registry: SearchRegistry, types: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (const rt of types) {
    for (const p of registry.forType(rt)) {
      pairs.push([rt, p.code]);
      if (p.type === 'reference') {
        pairs.push([rt, `${p.code}:identifier`]);
      }
      p.components.forEach((_, i) => pairs.push([rt, `${p.code}#${i}`]));
    }
  }
  return pairs;
}
