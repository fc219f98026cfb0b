import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, OperationOutcomeIssue, Resource, SearchParameter } from '@medplum/fhirtypes';
import jsonpatch from 'fast-json-patch';
import type { Queryable } from '../../db/index.ts';
import type { AccessGuard } from './access.ts';
import { carryDecimals, parseJson, stringifyJson } from './json.ts';
import type { FhirPlatform, ResourceChange } from './platform.ts';
import {
  OperationOutcomeError,
  badRequest,
  conflict,
  gone,
  invalid,
  notFound,
  preconditionFailed,
} from './outcome.ts';
import type { IndexRows } from './search/extract.ts';
import { parseReference } from './search/extract.ts';
import { normalizeString } from './search/normalize.ts';
import type { SearchRequest } from './search/parse.ts';
import { parseSearch } from './search/parse.ts';
import type { ResultRow, SearchSqlOptions } from './search/search.store.ts';
import { executeSearch, findCompartment, findIncludes, findRevIncludes } from './search/search.store.ts';
import type { StoredVersion, VersionWrite } from './store.ts';
import { deleteIndexRows, findCurrent, findHistory, findMissingTargets, findResourcesForReindex, findVersion, insertIndexRows, insertVersions } from './store.ts';

/**
 * The FHIR repository: every interaction on stored resources, independent of HTTP. Writes validate,
 * version, index and store in one transaction; reads return the stored JSON text.
 */

export const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

/** Most query parameters one search may have (see search()). */
const MAX_SEARCH_PARAMS = 40;

/** A stored resource as returned to callers: the exact JSON text plus its version facts. */
export interface StoredResource {
  readonly resourceType: string;
  readonly id: string;
  readonly versionId: number;
  readonly lastUpdated: number;
  readonly content: string;
  /** Warnings of the after-write hooks for this write (single writes only). */
  readonly issues?: readonly OperationOutcomeIssue[];
}

/** Result of a write. */
export interface WriteResult extends StoredResource {
  /** true when a new resource was created (201), false for an update or a match. */
  readonly created: boolean;
  /** Set when nothing was written because a condition matched an existing resource. */
  readonly matched?: boolean;
}

/** Search result with the rows of the page, includes and the paging facts. */
export interface SearchResult {
  readonly request: SearchRequest;
  readonly matches: readonly ResultRow[];
  readonly included: readonly ResultRow[];
  readonly total: number | undefined;
  readonly hasMore: boolean;
}

/** Options for writes. */
export interface WriteOptions {
  /** Expected current version (If-Match), e.g. 3. */
  readonly ifMatch?: number;
  /** The HTTP method recorded in history. */
  readonly method?: string;
  /**
   * Skip profile validation: only for bulk loads from a trusted in-process source whose output is
   * validated by its own tests (the reference data and the synthetic population). Structure,
   * ids, references and indexing are still handled as for any write.
   */
  readonly trusted?: boolean;
}

/** Writes collected inside a Bundle transaction and written together (one statement per table). */
interface WriteBuffer {
  readonly writes: VersionWrite[];
  readonly refs: Map<string, { type: string; id: string }>;
  readonly searchParameters: SearchParameter[];
  /** Changes stored but not yet shown to the after-write hooks. */
  readonly changes: ResourceChange[];
}

export class FhirRepository {
  readonly platform: FhirPlatform;
  /** The caller's access guard; undefined for the platform's own unrestricted repository. */
  readonly access: AccessGuard | undefined;
  private readonly buffers = new WeakMap<Queryable, WriteBuffer>();

  constructor(platform: FhirPlatform, access?: AccessGuard) {
    this.platform = platform;
    this.access = access;
  }

  /**
   * A repository that sees and writes only what one caller may (see access.ts).
   * @param access - the caller's guard
   * @returns the restricted repository
   */
  withAccess(access: AccessGuard): FhirRepository {
    return new FhirRepository(this.platform, access);
  }

  /** The access predicate for store queries, when restricted. */
  private get rowFilter(): ((alias: string, bind: (v: unknown) => string) => string) | undefined {
    const a = this.access;
    return a === undefined ? undefined : (alias, bind) => a.readFilter(alias, bind);
  }

  /**
   * Notes a refused look-up for the audit trail: which patient's data was asked for. The row is
   * read without restriction only to learn that; the caller gets the same 404 either way.
   */
  private async noteRefused(q: Queryable, resourceType: string, id: string): Promise<void> {
    if (this.access === undefined) {
      return;
    }
    const hidden = await findCurrent(q, resourceType, id);
    if (hidden !== undefined) {
      this.access.touched(resourceType, id, hidden.compartments);
    }
  }

  private get db(): Queryable {
    return this.platform.db;
  }

  // ---------------------------------------------------------------- reads

  /**
   * Reads the current version.
   * @param resourceType - type
   * @param id - id
   * @param q - database or transaction
   * @returns the resource
   */
  async read(resourceType: string, id: string, q: Queryable = this.db): Promise<StoredResource> {
    this.checkType(resourceType);
    if (!ID_RE.test(id)) {
      throw new OperationOutcomeError(notFound(`${resourceType}/${id} is not a valid id`));
    }
    this.access?.permit('r', resourceType);
    await this.flushWrites(q);
    const v = await findCurrent(q, resourceType, id, false, this.rowFilter);
    if (v === undefined) {
      await this.noteRefused(q, resourceType, id);
      throw new OperationOutcomeError(notFound(`${resourceType}/${id} was not found`));
    }
    if (v.deleted) {
      throw new OperationOutcomeError(gone(`${resourceType}/${id} was deleted`));
    }
    this.access?.touched(resourceType, id, v.compartments);
    return { resourceType, id, versionId: v.versionId, lastUpdated: v.lastUpdated, content: v.content };
  }

  /**
   * Reads a specific version.
   * @param resourceType - type
   * @param id - id
   * @param versionId - version id
   * @param q - database or transaction
   * @returns the version
   */
  async vread(resourceType: string, id: string, versionId: string, q: Queryable = this.db): Promise<StoredResource> {
    this.checkType(resourceType);
    if (!ID_RE.test(id) || !/^\d{1,9}$/.test(versionId)) {
      throw new OperationOutcomeError(notFound(`${resourceType}/${id}/_history/${versionId} was not found`));
    }
    this.access?.permit('r', resourceType);
    const v = await findVersion(q, resourceType, id, Number(versionId), this.rowFilter);
    if (v === undefined) {
      await this.noteRefused(q, resourceType, id);
      throw new OperationOutcomeError(notFound(`${resourceType}/${id}/_history/${versionId} was not found`));
    }
    if (this.access !== undefined) {
      const cur = await findCurrent(q, resourceType, id);
      this.access.touched(resourceType, id, cur?.compartments ?? []);
    }
    if (v.deleted) {
      throw new OperationOutcomeError(gone(`${resourceType}/${id} version ${versionId} is a deletion`));
    }
    return { resourceType, id, versionId: v.versionId, lastUpdated: v.lastUpdated, content: v.content };
  }

  // ---------------------------------------------------------------- writes

  /**
   * Creates a resource with a server-assigned id.
   * @param resource - the resource (its id, if any, is ignored as the spec requires)
   * @param q - the transaction to write in (a new one when omitted)
   * @param assignedId - id to use (transactions pre-assign ids to resolve urn:uuid references)
   * @returns the stored resource
   */
  async create(resource: Resource, q?: Queryable, assignedId?: string, options: WriteOptions = {}): Promise<WriteResult> {
    this.checkType(resource.resourceType);
    const id = assignedId ?? randomUUID();
    return this.inTransaction(q, async (tx) => {
      const stored = await this.writeVersion(tx, resource, id, undefined, 'POST', options.trusted === true);
      return { ...stored, created: true };
    });
  }

  /**
   * Conditional create (If-None-Exist): creates unless a resource matches the query.
   * @param resource - the resource
   * @param query - the search query (without '?')
   * @param q - transaction
   * @param assignedId - pre-assigned id
   * @returns the created or the matching resource
   */
  async conditionalCreate(resource: Resource, query: string, q?: Queryable, assignedId?: string): Promise<WriteResult> {
    return this.inTransaction(q, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${resource.resourceType}?${query}`]);
      const matches = await this.findMatches(resource.resourceType, query, tx);
      if (matches.length > 1) {
        throw new OperationOutcomeError(preconditionFailed(`If-None-Exist matched ${matches.length} resources; the condition must match at most one`));
      }
      if (matches.length === 1) {
        const m = matches[0]!;
        const cur = await this.read(m.resourceType, m.id, tx);
        return { ...cur, created: false, matched: true };
      }
      return this.create(resource, tx, assignedId);
    });
  }

  /**
   * Update (or update-as-create when the id is new).
   * @param resource - the resource, whose id must equal `id`
   * @param id - the id in the URL
   * @param options - If-Match
   * @param q - transaction
   * @returns the stored resource; created is true for update-as-create
   */
  async update(resource: Resource, id: string, options: WriteOptions = {}, q?: Queryable): Promise<WriteResult> {
    this.checkType(resource.resourceType);
    if (!ID_RE.test(id)) {
      throw new OperationOutcomeError(badRequest(`"${id}" is not a valid id: use 1-64 letters, digits, '-' and '.'`));
    }
    if (resource.id === undefined) {
      throw new OperationOutcomeError(badRequest('The resource in an update must have an id (Resource.id)', ['Resource.id']));
    }
    if (resource.id !== id) {
      throw new OperationOutcomeError(badRequest(`The id in the body (${resource.id}) differs from the id in the URL (${id})`, ['Resource.id']));
    }
    return this.inTransaction(q, async (tx) => {
      await this.flushWrites(tx);
      const current = await findCurrent(tx, resource.resourceType, id, true);
      if (options.ifMatch !== undefined && (current === undefined || current.deleted || current.versionId !== options.ifMatch)) {
        throw new OperationOutcomeError(
          preconditionFailed(`If-Match expected version ${options.ifMatch} but ${resource.resourceType}/${id} is ${current === undefined ? 'new' : current.deleted ? 'deleted' : `at version ${current.versionId}`}`),
        );
      }
      const stored = await this.writeVersion(tx, resource, id, current, options.method ?? 'PUT', options.trusted === true);
      return { ...stored, created: current === undefined || current.deleted };
    });
  }

  /**
   * Conditional update: update the single match, create when none, 412 when several.
   * @param resource - the resource
   * @param query - search query
   * @param options - If-Match
   * @param q - transaction
   * @returns the stored resource
   */
  async conditionalUpdate(resource: Resource, query: string, options: WriteOptions = {}, q?: Queryable): Promise<WriteResult> {
    return this.inTransaction(q, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${resource.resourceType}?${query}`]);
      const matches = await this.findMatches(resource.resourceType, query, tx);
      if (matches.length > 1) {
        throw new OperationOutcomeError(preconditionFailed(`The condition matched ${matches.length} resources; a conditional update needs at most one match`));
      }
      if (matches.length === 1) {
        const id = matches[0]!.id;
        if (resource.id !== undefined && resource.id !== id) {
          throw new OperationOutcomeError(badRequest(`The resource id ${resource.id} differs from the matching resource ${id}`));
        }
        const withId = { ...resource, id };
        carryDecimals(withId, resource);
        return this.update(withId, id, options, tx);
      }
      if (resource.id !== undefined) {
        return this.update(resource, resource.id, options, tx);
      }
      return this.create(resource, tx);
    });
  }

  /**
   * Deletes (a tombstone version); deleting a missing or deleted resource succeeds without change.
   * @param resourceType - type
   * @param id - id
   * @param q - transaction
   * @returns whether a version was written
   */
  async delete(resourceType: string, id: string, q?: Queryable, options: WriteOptions = {}): Promise<boolean> {
    this.checkType(resourceType);
    if (!ID_RE.test(id)) {
      throw new OperationOutcomeError(notFound(`${resourceType}/${id} is not a valid id`));
    }
    return this.inTransaction(q, async (tx) => {
      await this.flushWrites(tx);
      const current = await findCurrent(tx, resourceType, id, true);
      if (options.ifMatch !== undefined && (current === undefined || current.versionId !== options.ifMatch)) {
        throw new OperationOutcomeError(preconditionFailed(`If-Match expected version ${options.ifMatch}`));
      }
      if (this.access !== undefined) {
        await this.access.checkWrite(tx, 'd', resourceType, current === undefined || current.deleted ? undefined : current.compartments, undefined);
      }
      if (current === undefined || current.deleted) {
        return false;
      }
      this.access?.touched(resourceType, id, current.compartments);
      const now = new Date().toISOString();
      await insertVersions(tx, [
        { resourceType, id, versionId: current.versionId + 1, lastUpdated: now, deleted: true, method: 'DELETE', content: '', compartments: [], index: undefined },
      ]);
      await this.runWriteHooks(tx, [{ resourceType, id, versionId: current.versionId + 1, method: 'DELETE', before: current.content, after: undefined, trusted: false }]);
      if (resourceType === 'SearchParameter') {
        // A deleted SearchParameter stays registered until restart; its index rows stay harmless.
      }
      return true;
    });
  }

  /**
   * Conditional delete: deletes every match (the server allows multiple).
   * @param resourceType - type
   * @param query - search query
   * @param q - transaction
   * @returns how many were deleted
   */
  async conditionalDelete(resourceType: string, query: string, q?: Queryable): Promise<number> {
    return this.inTransaction(q, async (tx) => {
      const matches = await this.findMatches(resourceType, query, tx, 1000);
      let n = 0;
      for (const m of matches) {
        if (await this.delete(resourceType, m.id, tx)) {
          n++;
        }
      }
      return n;
    });
  }

  /**
   * JSON Patch (RFC 6902) on the current version.
   * @param resourceType - type
   * @param id - id
   * @param patch - the operations
   * @param options - If-Match
   * @param q - transaction
   * @returns the new version
   */
  async patch(resourceType: string, id: string, patch: unknown, options: WriteOptions = {}, q?: Queryable): Promise<WriteResult> {
    if (!Array.isArray(patch) || patch.some((op) => typeof op !== 'object' || op === null || typeof (op as { op?: unknown }).op !== 'string' || typeof (op as { path?: unknown }).path !== 'string')) {
      throw new OperationOutcomeError(badRequest('A JSON Patch body must be an array of operations, each with "op" and "path"'));
    }
    return this.inTransaction(q, async (tx) => {
      const current = await this.read(resourceType, id, tx);
      if (options.ifMatch !== undefined && current.versionId !== options.ifMatch) {
        throw new OperationOutcomeError(preconditionFailed(`If-Match expected version ${options.ifMatch} but the resource is at version ${current.versionId}`));
      }
      const doc = parseJson(current.content) as Resource;
      try {
        const err = jsonpatch.validate(patch as jsonpatch.Operation[], doc);
        if (err !== undefined) {
          throw err;
        }
        jsonpatch.applyPatch(doc, patch as jsonpatch.Operation[], false, true);
      } catch (e) {
        const msg = e instanceof Error ? e.message.split('\n')[0] : 'invalid patch';
        throw new OperationOutcomeError(e instanceof Error && e.name === 'TEST_OPERATION_FAILED' ? preconditionFailed(`JSON Patch test failed: ${msg}`) : badRequest(`The JSON Patch cannot be applied: ${msg}`));
      }
      if (doc.resourceType !== resourceType || doc.id !== id) {
        throw new OperationOutcomeError(badRequest('A patch may not change resourceType or id'));
      }
      return this.update(doc, id, { method: 'PATCH' }, tx);
    });
  }

  // ---------------------------------------------------------------- search and history

  /**
   * Searches one resource type.
   * @param resourceType - type
   * @param query - decoded query pairs
   * @param lenient - ignore unknown parameters with warnings
   * @param q - database or transaction
   * @returns the result page
   */
  async search(resourceType: string, query: readonly (readonly [string, string])[], lenient = false, q: Queryable = this.db): Promise<SearchResult> {
    this.checkType(resourceType);
    if (query.some(([k, v]) => k.includes('\u0000') || v.includes('\u0000'))) {
      // Conditions from Bundles and If-None-Exist reach here without the HTTP layer's check; PostgreSQL cannot take U+0000.
      throw new OperationOutcomeError(badRequest('A search parameter contains a NUL character'));
    }
    if (query.length > MAX_SEARCH_PARAMS) {
      // Each parameter is a subquery; planning time grows much faster than linearly with their number.
      throw new OperationOutcomeError({ resourceType: 'OperationOutcome', id: 'bad-request', issue: [{ severity: 'error', code: 'too-costly', details: { text: `A search may have at most ${MAX_SEARCH_PARAMS} parameters; combine values with commas instead` } }] });
    }
    this.access?.permit('s', resourceType);
    const req = parseSearch(resourceType, query, this.platform.registry, {
      lenient,
      defaultCount: this.platform.defaultPageSize,
      maxCount: this.platform.maxPageSize,
      resourceTypes: this.platform.defs.resourceTypes,
    });
    const opts = this.sqlOptions();
    await this.flushWrites(q);
    const { rows, total, hasMore } = await executeSearch(q, req, opts);
    const included: ResultRow[] = [];
    if (req.include.length > 0 || req.revinclude.length > 0) {
      const seen = new Set(rows.map((r) => r.rid));
      let frontier: readonly ResultRow[] = rows;
      for (let depth = 0; depth < 4 && frontier.length > 0; depth++) {
        const inc = req.include.filter((s) => depth === 0 || s.iterate);
        const rev = req.revinclude.filter((s) => depth === 0 || s.iterate);
        if (inc.length === 0 && rev.length === 0) {
          break;
        }
        const found = [
          ...(await findIncludes(q, frontier.map((r) => r.rid), inc, opts)),
          ...(await findRevIncludes(q, frontier.map((r) => ({ resourceType: r.resourceType, id: r.id })), rev, opts)),
        ];
        const fresh = found.filter((f) => !seen.has(f.rid));
        for (const f of fresh) {
          seen.add(f.rid);
          included.push(f);
        }
        frontier = fresh;
      }
    }
    if (this.access !== undefined) {
      for (const r of [...rows, ...included]) {
        this.access.touched(r.resourceType, r.id, r.compartments);
      }
    }
    return { request: req, matches: rows, included, total, hasMore };
  }

  /**
   * One page of a patient's compartment (Patient $everything), within the caller's reach.
   * @param patientId - the patient
   * @param filter - since, types and paging
   * @param q - database or transaction
   * @returns the rows and whether more follow
   */
  async compartment(patientId: string, filter: { since?: string; types?: readonly string[]; offset: number; count: number }, q: Queryable = this.db): Promise<{ rows: ResultRow[]; hasMore: boolean }> {
    const res = await findCompartment(q, patientId, filter, this.rowFilter);
    if (this.access !== undefined) {
      for (const r of res.rows) {
        this.access.touched(r.resourceType, r.id, r.compartments);
      }
    }
    return res;
  }

  /**
   * Reads history (instance, type or system level).
   * @param filter - level and paging
   * @param q - database or transaction
   * @returns entries newest first and whether more follow
   */
  async history(filter: { resourceType?: string; id?: string; since?: string; at?: string; offset: number; count: number }, q: Queryable = this.db): Promise<{ entries: Awaited<ReturnType<typeof findHistory>>; hasMore: boolean }> {
    if (filter.resourceType !== undefined) {
      this.checkType(filter.resourceType);
      this.access?.permit('r', filter.resourceType);
    }
    if (filter.resourceType !== undefined && filter.id !== undefined) {
      const cur = await findCurrent(q, filter.resourceType, filter.id, false, this.rowFilter);
      if (cur === undefined) {
        await this.noteRefused(q, filter.resourceType, filter.id);
        throw new OperationOutcomeError(notFound(`${filter.resourceType}/${filter.id} was not found`));
      }
    }
    const rows = await findHistory(q, filter, this.rowFilter);
    const entries = rows.slice(0, filter.count);
    if (this.access !== undefined) {
      for (const e of entries) {
        this.access.touched(e.resourceType, e.id, e.compartments);
      }
    }
    return { entries, hasMore: rows.length > filter.count };
  }

  /**
   * Re-extracts the search index of every resource of the given types (after SearchParameters change).
   * @param types - resource types to reindex
   * @returns how many resources were reindexed
   */
  async reindex(types: readonly string[]): Promise<number> {
    let n = 0;
    for (const rt of types) {
      let after = '0';
      for (;;) {
        const page = await findResourcesForReindex(this.db, rt, after, 500);
        if (page.length === 0) {
          break;
        }
        await this.platform.db.transaction(async (tx) => {
          await deleteIndexRows(tx, page.map((p) => p.rid));
          await insertIndexRows(
            tx,
            page.map((p) => {
              const res = parseJson(p.content) as Resource;
              return { rid: p.rid, index: this.mapIndex(res.resourceType, this.platform.extractor.extract(res)), text: normalizeString(p.content), narrative: narrativeText(res) };
            }),
          );
        });
        n += page.length;
        after = page[page.length - 1]!.rid;
      }
    }
    return n;
  }

  /**
   * Resolves a conditional reference or condition to matching ids.
   * @param resourceType - type
   * @param query - query string
   * @param q - database or transaction
   * @param limit - how many to fetch at most
   * @returns the matches
   */
  async findMatches(resourceType: string, query: string, q: Queryable = this.db, limit = 2): Promise<ResultRow[]> {
    const pairs = [...new URLSearchParams(query)].filter(([k]) => !['_format', '_pretty'].includes(k));
    if (pairs.length === 0) {
      throw new OperationOutcomeError(badRequest('A conditional request needs at least one search parameter'));
    }
    const res = await this.search(resourceType, [...pairs, ['_count', String(limit)]], false, q);
    return [...res.matches];
  }

  // ---------------------------------------------------------------- internals

  private sqlOptions(): SearchSqlOptions {
    const scope = this.rowFilter;
    return {
      paramId: (rt, code) => this.platform.paramId(rt, code),
      baseUrl: this.platform.baseUrl,
      expandValueSet: this.platform.expandValueSet,
      driverLimit: this.platform.searchDriverLimit,
      ...(scope === undefined ? {} : { scope }),
    };
  }

  private checkType(resourceType: string): void {
    if (!this.platform.defs.resourceTypes.has(resourceType)) {
      throw new OperationOutcomeError(notFound(`Unknown resource type "${resourceType}"`));
    }
  }

  /**
   * Starts collecting writes made with `tx` so they are stored together by flushWrites.
   * @param tx - the transaction
   */
  beginBufferedWrites(tx: Queryable): void {
    this.buffers.set(tx, { writes: [], refs: new Map(), searchParameters: [], changes: [] });
  }

  /**
   * Stores the collected writes; the final flush also checks that their references resolve (a
   * reference may point at a resource that a later entry of the transaction writes).
   * @param tx - the transaction
   * @param final - true at the end of the transaction
   */
  async flushWrites(tx: Queryable, final = false): Promise<void> {
    const buf = this.buffers.get(tx);
    if (buf === undefined || (buf.writes.length === 0 && (!final || buf.refs.size === 0))) {
      return;
    }
    const writes = buf.writes.splice(0);
    // The references are checked once, at the end, when every entry's resource is written.
    const refs = final ? [...buf.refs.values()] : [];
    if (final) {
      buf.refs.clear();
    }
    const missing = await insertVersions(tx, writes, refs);
    this.platform.stats.noteWrites(writes.length);
    if (missing.length > 0) {
      throw new OperationOutcomeError(badRequest(`Reference "${missing[0]!}" points to a resource that does not exist`));
    }
    if (buf.searchParameters.length > 0) {
      await this.platform.registerSearchParameters(buf.searchParameters.splice(0), 'server', tx);
    }
    await this.runWriteHooks(tx, buf.changes.splice(0));
  }

  /** Shows stored changes to the platform's after-write hooks, in the write's transaction. */
  private async runWriteHooks(tx: Queryable, changes: readonly ResourceChange[]): Promise<OperationOutcomeIssue[]> {
    const issues: OperationOutcomeIssue[] = [];
    if (changes.length === 0) {
      return issues;
    }
    for (const hook of this.platform.writeHooks) {
      issues.push(...((await hook(tx, changes, this.access)) ?? []));
    }
    return issues;
  }

  private async inTransaction<T>(q: Queryable | undefined, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    if (q !== undefined) {
      return fn(q);
    }
    return this.transaction(fn);
  }

  /**
   * Runs `fn` in a new database transaction; the access guard's audit row is written in it
   * just before commit, so a committed write always has its audit record.
   * @param fn - the work
   * @returns its result
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const access = this.access;
    if (access === undefined) {
      return this.platform.db.transaction(fn);
    }
    try {
      return await this.platform.db.transaction(async (tx) => {
        const out = await fn(tx);
        await access.beforeCommit(tx);
        return out;
      });
    } catch (err) {
      access.afterRollback();
      throw err;
    }
  }

  /**
   * Validates a resource for writing; throws a 4xx OperationOutcome listing the problems.
   * @param resource - the resource
   * @returns warnings
   */
  validate(resource: Resource): OperationOutcomeIssue[] {
    this.checkShape(resource);
    const issues = this.platform.validator?.validate(resource) ?? [];
    const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (errors.length > 0) {
      throw new OperationOutcomeError(invalid(errors));
    }
    return issues;
  }

  private checkShape(resource: Resource): void {
    if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
      throw new OperationOutcomeError(badRequest('The body must be a JSON object holding a FHIR resource'));
    }
    if (typeof resource.resourceType !== 'string' || !this.platform.defs.resourceTypes.has(resource.resourceType)) {
      throw new OperationOutcomeError(badRequest(`Unknown resourceType "${String((resource as { resourceType?: unknown }).resourceType)}"`, ['resourceType']));
    }
    if (resource.id !== undefined && (typeof resource.id !== 'string' || !ID_RE.test(resource.id))) {
      throw new OperationOutcomeError(badRequest(`"${String(resource.id)}" is not a valid id: use 1-64 letters, digits, '-' and '.'`, ['Resource.id']));
    }
  }

  private async writeVersion(tx: Queryable, resource: Resource, id: string, current: StoredVersion | undefined, method: string, trusted = false): Promise<StoredResource> {
    const r = resource;
    r.id = id;
    const versionId = current === undefined ? 1 : current.versionId + 1;
    const now = new Date();
    const lastUpdated = now.toISOString();
    r.meta = { ...(r.meta ?? {}), versionId: String(versionId), lastUpdated };
    if (trusted) {
      this.checkShape(r);
    } else {
      this.validate(r);
    }
    const buf = this.buffers.get(tx);
    const targets = this.referenceTargets(r);
    if (buf === undefined) {
      const missing = await findMissingTargets(tx, targets);
      if (missing.length > 0) {
        throw new OperationOutcomeError(badRequest(`Reference "${missing[0]!}" points to a resource that does not exist`));
      }
    } else {
      for (const t of targets) {
        buf.refs.set(`${t.type}/${t.id}`, t);
      }
    }
    const content = stringifyJson(r);
    const rows = this.platform.extractor.extract(r);
    const compartments = this.compartmentsOf(r, rows);
    if (this.access !== undefined) {
      const before = current === undefined || current.deleted ? undefined : current.compartments;
      // Noted first, so a refused write is audited with the patients it tried to reach.
      this.access.touched(r.resourceType, id, [...new Set([...compartments, ...(before ?? [])])]);
      await this.access.checkWrite(tx, before === undefined ? 'c' : 'u', r.resourceType, before, compartments, r);
    }
    const write: VersionWrite = {
      resourceType: r.resourceType,
      id,
      versionId,
      lastUpdated,
      deleted: false,
      method,
      content,
      compartments,
      index: this.mapIndex(r.resourceType, rows),
      searchText: normalizeString(content),
      narrative: narrativeText(r),
    };
    const change: ResourceChange = { resourceType: r.resourceType, id, versionId, method, before: current === undefined || current.deleted ? undefined : current.content, after: r, trusted };
    let issues: OperationOutcomeIssue[] = [];
    if (buf !== undefined) {
      buf.writes.push(write);
      buf.changes.push(change);
      if (r.resourceType === 'SearchParameter') {
        buf.searchParameters.push(r);
      }
    } else {
      await insertVersions(tx, [write]);
      this.platform.stats.noteWrites(1);
      if (r.resourceType === 'SearchParameter') {
        await this.platform.registerSearchParameters([r], 'server', tx);
      }
      issues = await this.runWriteHooks(tx, [change]);
    }
    if (r.resourceType === 'StructureDefinition' && r.derivation === 'constraint' && (r.snapshot?.element?.length ?? 0) > 0) {
      // A profile created on the server can be validated against from now on.
      this.platform.validator?.addProfile?.(r);
    }
    return { resourceType: r.resourceType, id, versionId, lastUpdated: now.getTime(), content, ...(issues.length === 0 ? {} : { issues }) };
  }

  /** Local literal references must point at a resource that exists (https://hl7.org/fhir/R4/references.html). */
  private referenceTargets(r: Resource): { type: string; id: string }[] {
    const refs = new Set<string>();
    collectReferences(r, refs, 0);
    const targets: { type: string; id: string }[] = [];
    for (const ref of refs) {
      if (ref.startsWith('#') || /^[a-z][a-z0-9+.-]*:/i.test(ref)) {
        if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) {
          throw new OperationOutcomeError(badRequest(`Reference "${ref}" could not be resolved: urn references are only allowed inside a transaction Bundle`));
        }
        continue;
      }
      const p = parseReference(ref);
      if (p === undefined || !this.platform.defs.resourceTypes.has(p.type) || ref.split('/').length > 4 || /^[A-Z][A-Za-z]+\?/.test(ref)) {
        throw new OperationOutcomeError(badRequest(`Reference "${ref}" is not a valid reference (use Type/id)`));
      }
      if (p.type === r.resourceType && p.id === r.id) {
        continue;
      }
      targets.push(p);
    }
    return targets;
  }

  private compartmentsOf(r: Resource, rows: IndexRows): string[] {
    const out = new Set<string>();
    if (r.resourceType === 'Patient') {
      out.add(`Patient/${r.id ?? ''}`);
    }
    const params = this.platform.defs.patientCompartment.get(r.resourceType);
    if (params !== undefined) {
      for (const ref of rows.reference) {
        if (ref.row.targetType === 'Patient' && ref.row.targetId !== null && params.includes(ref.code)) {
          out.add(`Patient/${ref.row.targetId}`);
        }
      }
    }
    return [...out];
  }

  /** Replaces parameter codes by interned ids (the `code` field carries the id as a string). */
  mapIndex(resourceType: string, rows: IndexRows): IndexRows {
    const id = (code: string): string => String(this.platform.paramId(resourceType, code));
    return {
      token: rows.token.filter((t) => t.row.code !== null || t.row.system !== null || t.row.text !== null).map((t) => ({ ...t, code: id(t.code) })),
      string: rows.string.map((t) => ({ ...t, code: id(t.code) })),
      date: rows.date.map((t) => ({ ...t, code: id(t.code) })),
      number: rows.number.map((t) => ({ ...t, code: id(t.code) })),
      quantity: rows.quantity.map((t) => ({ ...t, code: id(t.code) })),
      reference: rows.reference.map((t) => ({ ...t, code: id(t.code) })),
      uri: rows.uri.map((t) => ({ ...t, code: id(t.code) })),
    };
  }
}

/**
 * A resource inside a resource (Bundle.entry.resource, Bundle.entry.response.outcome,
 * Parameters.parameter.resource): its references resolve in its own context (in a Bundle against
 * the entry's fullUrl, https://hl7.org/fhir/R4/bundle.html#references), not on this server.
 */
function isNestedResource(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { resourceType?: unknown }).resourceType === 'string';
}

function collectReferences(v: unknown, out: Set<string>, depth: number): void {
  if (depth > 64 || typeof v !== 'object' || v === null) {
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) {
      collectReferences(x, out, depth + 1);
    }
    return;
  }
  for (const [k, x] of Object.entries(v)) {
    if (k === 'reference' && typeof x === 'string') {
      out.add(x);
    } else if (k !== 'contained' && !isNestedResource(x)) {
      collectReferences(x, out, depth + 1);
    }
  }
}

/**
 * @param r - a resource
 * @returns its narrative as normalised plain text
 */
export function narrativeText(r: Resource): string {
  const div = (r as { text?: { div?: unknown } }).text?.div;
  return typeof div === 'string' ? normalizeString(div.replace(/<[^>]*>/g, ' ')) : '';
}

export type { Bundle, BundleEntry, SearchParameter };
export { conflict };
