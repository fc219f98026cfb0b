import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import { OperationOutcomeError, allOk, badRequest, getStatus, notFound, notSupported, preconditionFailed } from './outcome.ts';
import { parseJson, stringifyJson } from './json.ts';
import type { FhirRepository, SearchResult, StoredResource, WriteResult } from './repo.ts';
import { ID_RE } from './repo.ts';
import type { ResultRow } from './search/search.store.ts';
import type { Summary } from './search/parse.ts';

/**
 * The FHIR RESTful API as plain functions of a request (https://hl7.org/fhir/R4/http.html).
 * HTTP and Bundle entries both come through here, so a transaction entry behaves exactly like
 * the same request sent on its own.
 */

export interface FhirRequest {
  readonly method: string;
  /** Path below the FHIR base, without leading slash or query, e.g. 'Patient/1/_history/2'. */
  readonly path: string;
  readonly query: readonly (readonly [string, string])[];
  readonly body?: unknown;
  readonly ifMatch?: string;
  readonly ifNoneExist?: string;
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
  readonly prefer?: string;
}

export interface FhirResponse {
  readonly status: number;
  /** JSON text of the body (a resource, a Bundle or an OperationOutcome). */
  readonly body?: string;
  readonly location?: string;
  readonly etag?: string;
  readonly lastModified?: string;
}

/** Operation handler registered by name: `$name` at system, type or instance level. */
export type OperationHandler = (ctx: { repo: FhirRepository; req: FhirRequest; resourceType?: string; id?: string; params: Record<string, unknown[]>; q?: Queryable }) => Promise<FhirResponse>;

export interface RestOptions {
  readonly operations: ReadonlyMap<string, OperationHandler>;
  readonly capabilities: () => string;
}

/** Prefer header facets. */
export function preferReturn(prefer: string | undefined): 'minimal' | 'representation' | 'OperationOutcome' {
  const m = /return=(minimal|representation|OperationOutcome)/.exec(prefer ?? '');
  return (m?.[1] as 'minimal' | 'representation' | 'OperationOutcome' | undefined) ?? 'representation';
}
/** @returns true when the client asked for lenient search handling */
export function preferLenient(prefer: string | undefined): boolean {
  return /handling=lenient/.test(prefer ?? '');
}

/**
 * @param o - an outcome
 * @returns a response carrying it
 */
export function outcomeResponse(o: OperationOutcome): FhirResponse {
  return { status: getStatus(o), body: JSON.stringify(o) };
}

function etagOf(v: { versionId: number }): string {
  return `W/"${v.versionId}"`;
}

function parseETag(value: string | undefined): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const m = /^(?:W\/)?"(\d+)"$/.exec(value.trim());
  if (m === null) {
    throw new OperationOutcomeError(badRequest(`If-Match must be an ETag such as W/"3", got ${value}`));
  }
  return Number(m[1]);
}

function resourceResponse(status: number, r: StoredResource, baseUrl: string, withLocation: boolean): FhirResponse {
  return {
    status,
    body: r.content,
    etag: etagOf(r),
    lastModified: new Date(r.lastUpdated).toUTCString(),
    ...(withLocation ? { location: `${baseUrl}/${r.resourceType}/${r.id}/_history/${r.versionId}` } : {}),
  };
}

function writeResponse(w: WriteResult, prefer: string | undefined, baseUrl: string): FhirResponse {
  const status = w.created ? 201 : 200;
  const base = resourceResponse(status, w, baseUrl, true);
  switch (preferReturn(prefer)) {
    case 'minimal':
      return { ...base, body: undefined };
    case 'OperationOutcome':
      return {
        ...base,
        body: JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'information', code: 'informational', details: { text: w.matched === true ? 'Matched an existing resource' : w.created ? 'Created' : 'Updated' } }, ...(w.issues ?? [])],
        }),
      };
    case 'representation':
      return base;
    default:
      return base;
  }
}

function requireResource(body: unknown, expectedType?: string): Resource {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OperationOutcomeError(badRequest('The body must be a JSON object holding a FHIR resource'));
  }
  const r = body as Resource;
  if (expectedType !== undefined && r.resourceType !== expectedType) {
    throw new OperationOutcomeError(badRequest(`The body's resourceType (${String(r.resourceType)}) does not match the URL (${expectedType})`, ['resourceType']));
  }
  return r;
}

/**
 * Handles one FHIR request.
 * @param repo - the repository
 * @param req - the request
 * @param opts - operations and capabilities
 * @param q - an open transaction (for Bundle entries)
 * @returns the response
 */
export async function handleRequest(repo: FhirRepository, req: FhirRequest, opts: RestOptions, q?: Queryable): Promise<FhirResponse> {
  const baseUrl = repo.platform.baseUrl;
  const segs = req.path === '' ? [] : req.path.split('/');
  const m = req.method.toUpperCase();
  const [s0, s1, s2, s3] = segs;
  if (segs.length > 4 || segs.some((s) => s === '')) {
    throw new OperationOutcomeError(notFound(`No FHIR endpoint at /${req.path}`));
  }
  // System level
  if (s0 === undefined) {
    if (m === 'GET') {
      return searchAll(repo, req);
    }
    throw new OperationOutcomeError(notSupported(`${m} on the FHIR base is handled as a Bundle (POST)`));
  }
  if (s0 === 'metadata' && segs.length === 1) {
    if (m !== 'GET') {
      throw new OperationOutcomeError(notSupported('metadata only supports GET'));
    }
    return { status: 200, body: opts.capabilities() };
  }
  if (s0 === '_history' && segs.length === 1 && m === 'GET') {
    return history(repo, req, undefined, undefined, q);
  }
  if (s0.startsWith('$')) {
    return operation(repo, req, opts, s0, undefined, undefined, q);
  }
  const resourceType = s0;
  if (!repo.platform.defs.resourceTypes.has(resourceType)) {
    throw new OperationOutcomeError(notFound(`Unknown resource type "${resourceType}"`));
  }
  // Type level
  if (s1 === undefined) {
    switch (m) {
      case 'GET':
        return searchType(repo, resourceType, req.query, req.prefer, q);
      case 'POST': {
        const resource = requireResource(req.body, resourceType);
        const w = req.ifNoneExist !== undefined && req.ifNoneExist !== '' ? await repo.conditionalCreate(resource, req.ifNoneExist, q) : await repo.create(resource, q);
        return writeResponse(w, req.prefer, baseUrl);
      }
      case 'PUT': {
        if (req.query.length === 0) {
          throw new OperationOutcomeError(badRequest('A conditional update needs search parameters; to update by id use PUT [type]/[id]'));
        }
        const w = await repo.conditionalUpdate(requireResource(req.body, resourceType), new URLSearchParams(req.query as [string, string][]).toString(), { ifMatch: parseETag(req.ifMatch) }, q);
        return writeResponse(w, req.prefer, baseUrl);
      }
      case 'DELETE': {
        if (req.query.length === 0) {
          throw new OperationOutcomeError(badRequest('A conditional delete needs search parameters; to delete by id use DELETE [type]/[id]'));
        }
        const n = await repo.conditionalDelete(resourceType, new URLSearchParams(req.query as [string, string][]).toString(), q);
        return outcomeResponse({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', details: { text: `Deleted ${n} resource(s)` } }] });
      }
      default:
        throw new OperationOutcomeError(notSupported(`${m} is not supported on ${resourceType}`));
    }
  }
  if (s1 === '_search' && segs.length === 2 && m === 'POST') {
    return searchType(repo, resourceType, req.query, req.prefer, q);
  }
  if (s1 === '_history' && segs.length === 2 && m === 'GET') {
    return history(repo, req, resourceType, undefined, q);
  }
  if (s1.startsWith('$')) {
    return operation(repo, req, opts, s1, resourceType, undefined, q);
  }
  const id = s1;
  if (!ID_RE.test(id)) {
    // Nothing can exist at an invalid id (404), but a write naming one is a bad request.
    const text = `"${id}" is not a valid id: use 1-64 letters, digits, '-' and '.'`;
    throw new OperationOutcomeError(m === 'PUT' || m === 'PATCH' ? badRequest(text) : notFound(text));
  }
  // Instance level
  if (s2 === undefined) {
    switch (m) {
      case 'GET':
      case 'HEAD': {
        const r = await repo.read(resourceType, id, q);
        if (req.ifNoneMatch !== undefined && req.ifNoneMatch === etagOf(r)) {
          return { status: 304, etag: etagOf(r) };
        }
        if (req.ifModifiedSince !== undefined && Date.parse(req.ifModifiedSince) >= Math.floor(r.lastUpdated / 1000) * 1000) {
          return { status: 304, etag: etagOf(r) };
        }
        return applySubsetting(resourceResponse(200, r, baseUrl, false), req.query, repo);
      }
      case 'PUT': {
        const w = await repo.update(requireResource(req.body, resourceType), id, { ifMatch: parseETag(req.ifMatch) }, q);
        return writeResponse(w, req.prefer, baseUrl);
      }
      case 'PATCH': {
        const w = await repo.patch(resourceType, id, req.body, { ifMatch: parseETag(req.ifMatch) }, q);
        return writeResponse(w, req.prefer, baseUrl);
      }
      case 'DELETE': {
        await repo.delete(resourceType, id, q, { ifMatch: parseETag(req.ifMatch) });
        return outcomeResponse({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', details: { text: `Deleted ${resourceType}/${id}` } }] });
      }
      default:
        throw new OperationOutcomeError(notSupported(`${m} is not supported on ${resourceType}/${id}`));
    }
  }
  if (s2 === '_history') {
    if (m !== 'GET') {
      throw new OperationOutcomeError(notSupported(`${m} is not supported on history`));
    }
    if (s3 === undefined) {
      return history(repo, req, resourceType, id, q);
    }
    return resourceResponse(200, await repo.vread(resourceType, id, s3, q), baseUrl, false);
  }
  if (s2.startsWith('$') && s3 === undefined) {
    return operation(repo, req, opts, s2, resourceType, id, q);
  }
  throw new OperationOutcomeError(notFound(`No FHIR endpoint at /${req.path}`));
}

async function operation(repo: FhirRepository, req: FhirRequest, opts: RestOptions, name: string, resourceType: string | undefined, id: string | undefined, q?: Queryable): Promise<FhirResponse> {
  const handler = opts.operations.get(name);
  if (handler === undefined) {
    throw new OperationOutcomeError(notFound(`Unknown operation ${name}`));
  }
  const params: Record<string, unknown[]> = {};
  for (const [k, v] of req.query) {
    (params[k] ??= []).push(v);
  }
  const body = req.body as { resourceType?: string; parameter?: { name?: string; [k: string]: unknown }[] } | undefined;
  if (body?.resourceType === 'Parameters') {
    for (const p of body.parameter ?? []) {
      if (typeof p.name === 'string') {
        const value = Object.entries(p).find(([k]) => k.startsWith('value') || k === 'resource')?.[1];
        (params[p.name] ??= []).push(value);
      }
    }
  } else if (body !== undefined && req.method === 'POST') {
    (params.resource ??= []).push(body);
  }
  return handler({ repo, req, resourceType, id, params, q });
}

async function searchAll(repo: FhirRepository, req: FhirRequest): Promise<FhirResponse> {
  const types = req.query.find(([k]) => k === '_type')?.[1];
  if (types === undefined) {
    throw new OperationOutcomeError(badRequest('A search across all types needs _type (e.g. ?_type=Patient,Practitioner)'));
  }
  const list = types.split(',');
  if (list.length !== 1) {
    throw new OperationOutcomeError(badRequest('_type must name exactly one resource type on this server'));
  }
  return searchType(repo, list[0]!, req.query.filter(([k]) => k !== '_type'), req.prefer);
}

/**
 * Runs a type-level search and renders the searchset Bundle.
 * @param repo - repository
 * @param resourceType - type
 * @param query - decoded query
 * @param prefer - Prefer header
 * @param q - transaction
 * @returns the response
 */
export async function searchType(repo: FhirRepository, resourceType: string, query: readonly (readonly [string, string])[], prefer: string | undefined, q?: Queryable): Promise<FhirResponse> {
  const result = await repo.search(resourceType, query, preferLenient(prefer), q);
  return { status: 200, body: renderSearchBundle(repo, resourceType, query, result) };
}

function pageUrl(base: string, path: string, query: readonly (readonly [string, string])[], offset: number, count: number): string {
  const qs = new URLSearchParams(query.filter(([k]) => k !== '_offset' && k !== '_count') as [string, string][]);
  qs.set('_count', String(count));
  if (offset > 0) {
    qs.set('_offset', String(offset));
  }
  return `${base}/${path}?${qs.toString()}`;
}

function renderSearchBundle(repo: FhirRepository, resourceType: string, query: readonly (readonly [string, string])[], result: SearchResult): string {
  const base = repo.platform.baseUrl;
  const { request } = result;
  const links: { relation: string; url: string }[] = [{ relation: 'self', url: pageUrl(base, resourceType, query, request.offset, request.count) }];
  links.push({ relation: 'first', url: pageUrl(base, resourceType, query, 0, request.count) });
  if (result.hasMore) {
    links.push({ relation: 'next', url: pageUrl(base, resourceType, query, request.offset + request.count, request.count) });
  }
  if (request.offset > 0) {
    links.push({ relation: 'previous', url: pageUrl(base, resourceType, query, Math.max(0, request.offset - request.count), request.count) });
  }
  const entries = [
    ...result.matches.map((r) => entryJson(repo, r, 'match', request.summary, request.elements)),
    ...result.included.map((r) => entryJson(repo, r, 'include', request.summary, request.elements)),
  ];
  if (request.warnings.length > 0) {
    const oo: OperationOutcome = { resourceType: 'OperationOutcome', issue: request.warnings.map((w) => ({ severity: 'warning', code: 'not-supported', details: { text: `Ignored: ${w}` } })) };
    entries.push(`{"resource":${JSON.stringify(oo)},"search":{"mode":"outcome"}}`);
  }
  const head = { resourceType: 'Bundle', id: globalThis.crypto.randomUUID(), meta: { lastUpdated: new Date().toISOString() }, type: 'searchset', ...(result.total !== undefined ? { total: result.total } : {}), link: links };
  const headJson = JSON.stringify(head);
  return `${headJson.slice(0, -1)},"entry":[${entries.join(',')}]}`;
}

function entryJson(repo: FhirRepository, r: ResultRow, mode: 'match' | 'include', summary: Summary | undefined, elements: readonly string[] | undefined): string {
  const content = summary !== undefined || elements !== undefined ? subset(repo, r.content, summary, elements) : r.content;
  return `{"fullUrl":${JSON.stringify(`${repo.platform.baseUrl}/${r.resourceType}/${r.id}`)},"resource":${content},"search":{"mode":"${mode}"}}`;
}

function applySubsetting(res: FhirResponse, query: readonly (readonly [string, string])[], repo: FhirRepository): FhirResponse {
  const summary = query.find(([k]) => k === '_summary')?.[1] as Summary | undefined;
  const elements = query.find(([k]) => k === '_elements')?.[1]?.split(',');
  if ((summary === undefined || summary === 'false') && elements === undefined) {
    return res;
  }
  if (summary !== undefined && !['true', 'false', 'text', 'data', 'count'].includes(summary)) {
    throw new OperationOutcomeError(badRequest(`_summary must be true, false, text, data or count, got "${summary}"`));
  }
  if (elements?.some((e) => !/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)?$/.test(e.trim())) === true) {
    // The same rule as for search (search/parse.ts).
    throw new OperationOutcomeError(badRequest(`_elements must list element names, got "${query.find(([k]) => k === '_elements')?.[1] ?? ''}"`));
  }
  return { ...res, body: subset(repo, res.body ?? '{}', summary, elements?.map((e) => e.trim())) };
}

/**
 * Applies _summary / _elements to a resource (https://hl7.org/fhir/R4/search.html#summary) and
 * marks it SUBSETTED.
 */
function subset(repo: FhirRepository, content: string, summary: Summary | undefined, elements: readonly string[] | undefined): string {
  if ((summary === undefined || summary === 'false') && elements === undefined) {
    return content;
  }
  const r = parseJson(content) as Record<string, unknown> & { resourceType: string };
  const defs = repo.platform.defs;
  const keep = (key: string): boolean => {
    if (key === 'resourceType' || key === 'id' || key === 'meta') {
      return true;
    }
    const base = key.replace(/^_/, '');
    const el = defs.elements.get(`${r.resourceType}.${base}`) ?? [...defs.elements.values()].find((e) => e.path.startsWith(`${r.resourceType}.`) && e.types.length > 1 && base.startsWith(e.path.slice(r.resourceType.length + 1)) && e.path.split('.').length === 2);
    if (elements !== undefined) {
      return elements.some((e) => e === base || (el !== undefined && e === el.path.slice(r.resourceType.length + 1)));
    }
    switch (summary) {
      case 'true':
        return el?.isSummary === true;
      case 'text':
        return key === 'text' || (el?.min ?? 0) > 0;
      case 'data':
        return key !== 'text';
      case 'count':
      case 'false':
      case undefined:
        return true;
      default:
        summary satisfies never;
        return true;
    }
  };
  for (const key of Object.keys(r)) {
    if (!keep(key)) {
      delete r[key];
    }
  }
  const meta = (r.meta ?? {}) as { tag?: { system?: string; code?: string }[] };
  meta.tag = [...(meta.tag ?? []), { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' }];
  r.meta = meta;
  return stringifyJson(r);
}

async function history(repo: FhirRepository, req: FhirRequest, resourceType: string | undefined, id: string | undefined, q?: Queryable): Promise<FhirResponse> {
  let count = repo.platform.defaultPageSize;
  let offset = 0;
  let since: string | undefined;
  let at: string | undefined;
  for (const [k, v] of req.query) {
    switch (k) {
      case '_count':
        if (!/^\d{1,6}$/.test(v)) {
          throw new OperationOutcomeError(badRequest(`_count must be a whole number, got "${v}"`));
        }
        count = Math.min(Number(v), repo.platform.maxPageSize);
        break;
      case '_offset':
        if (!/^\d{1,9}$/.test(v)) {
          throw new OperationOutcomeError(badRequest(`_offset must be a whole number, got "${v}"`));
        }
        offset = Number(v);
        break;
      case '_since':
      case '_at':
        if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(v) || Number.isNaN(Date.parse(v))) {
          throw new OperationOutcomeError(badRequest(`${k} must be an instant such as 2024-01-01T00:00:00Z, got "${v}"`));
        }
        if (k === '_since') {
          since = v;
        } else {
          at = v;
        }
        break;
      case '_format':
      case '_pretty':
        break;
      default:
        if (!preferLenient(req.prefer)) {
          throw new OperationOutcomeError(badRequest(`Unknown history parameter "${k}" (supported: _count, _since, _at)`));
        }
    }
  }
  const { entries, hasMore } = await repo.history({ resourceType, id, since, at, offset, count }, q);
  const base = repo.platform.baseUrl;
  const path = [resourceType, id, '_history'].filter((x) => x !== undefined).join('/');
  const links = [{ relation: 'self', url: pageUrl(base, path, req.query, offset, count) }];
  if (hasMore) {
    links.push({ relation: 'next', url: pageUrl(base, path, req.query, offset + count, count) });
  }
  if (offset > 0) {
    links.push({ relation: 'previous', url: pageUrl(base, path, req.query, Math.max(0, offset - count), count) });
  }
  const head = JSON.stringify({ resourceType: 'Bundle', id: globalThis.crypto.randomUUID(), type: 'history', link: links });
  const items = entries.map((e) => {
    const url = `${e.resourceType}/${e.id}`;
    const status = e.deleted ? '204' : e.versionId === 1 ? '201' : '200';
    const request = JSON.stringify({ method: e.method, url: e.method === 'POST' ? e.resourceType : url });
    const response = JSON.stringify({ status, etag: `W/"${e.versionId}"`, lastModified: new Date(e.lastUpdated).toISOString() });
    return `{"fullUrl":${JSON.stringify(`${base}/${url}`)},${e.deleted ? '' : `"resource":${e.content},`}"request":${request},"response":${response}}`;
  });
  return { status: 200, body: `${head.slice(0, -1)},"entry":[${items.join(',')}]}` };
}

export { allOk, preconditionFailed };
