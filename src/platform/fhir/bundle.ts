import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import { markDecimalRoot } from './json.ts';
import { OperationOutcomeError, badRequest, getStatus, preconditionFailed, toOperationOutcome } from './outcome.ts';
import type { FhirRepository } from './repo.ts';
import { ID_RE } from './repo.ts';
import type { FhirRequest, FhirResponse, RestOptions } from './rest.ts';
import { handleRequest, preferReturn } from './rest.ts';

/**
 * Batch and transaction Bundles (https://hl7.org/fhir/R4/http.html#transaction). A transaction is
 * one database transaction: all entries succeed or nothing is stored. Entries run in the spec's
 * order (DELETE, POST, PUT/PATCH, GET/HEAD), `urn:uuid:` fullUrls and conditional references are
 * resolved first, and the response lists results in the order of the request.
 */

const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };
const MAX_ENTRIES = 10000;

/**
 * Processes a batch or transaction Bundle.
 * @param repo - repository
 * @param body - the parsed Bundle
 * @param opts - REST options (operations)
 * @param prefer - the Prefer header of the request
 * @returns the response Bundle as JSON text
 */
export async function processBundle(repo: FhirRepository, body: unknown, opts: RestOptions, prefer: string | undefined): Promise<string> {
  const bundle = body as Bundle;
  if (typeof bundle !== 'object' || bundle === null || bundle.resourceType !== 'Bundle') {
    throw new OperationOutcomeError(badRequest('POST to the FHIR base takes a Bundle of type batch or transaction'));
  }
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    throw new OperationOutcomeError(badRequest(`Bundle.type must be batch or transaction, got "${String(bundle.type)}"`, ['Bundle.type']));
  }
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) {
    throw new OperationOutcomeError(badRequest('Bundle.entry must be an array', ['Bundle.entry']));
  }
  if (entries.length > MAX_ENTRIES) {
    throw new OperationOutcomeError(badRequest(`A Bundle may hold at most ${MAX_ENTRIES} entries`));
  }
  entries.forEach((e, i) => checkEntry(e, i));
  if (bundle.type === 'batch') {
    return processBatch(repo, entries, opts, prefer);
  }
  return repo.transaction(async (tx) => {
    repo.beginBufferedWrites(tx);
    const responses = await processTransaction(repo, entries, opts, tx);
    try {
      await repo.flushWrites(tx, true);
    } catch (err) {
      throw attributeReferenceError(entries, err);
    }
    return renderResponse('transaction-response', responses, prefer);
  });
}

function checkEntry(e: BundleEntry, i: number): void {
  const at = `Bundle.entry[${i}]`;
  if (typeof e !== 'object' || e === null) {
    throw new OperationOutcomeError(badRequest(`${at} must be an object`, [at]));
  }
  const req = e.request;
  if (req === undefined || typeof req.method !== 'string' || typeof req.url !== 'string') {
    throw new OperationOutcomeError(badRequest(`${at}.request with method and url is required in a batch or transaction`, [`${at}.request`]));
  }
  if (!(req.method in ORDER)) {
    throw new OperationOutcomeError(badRequest(`${at}.request.method "${req.method}" is not supported`, [`${at}.request.method`]));
  }
  if ((req.method === 'POST' || req.method === 'PUT') && (typeof e.resource !== 'object' || e.resource === null || Array.isArray(e.resource) || typeof e.resource.resourceType !== 'string')) {
    throw new OperationOutcomeError(badRequest(`${at} needs a resource for ${req.method}`, [`${at}.resource`]));
  }
}

interface Planned {
  readonly index: number;
  readonly entry: BundleEntry;
  readonly method: string;
  readonly url: string;
}

async function processBatch(repo: FhirRepository, entries: BundleEntry[], opts: RestOptions, prefer: string | undefined): Promise<string> {
  const responses: FhirResponse[] = [];
  for (const [i, entry] of entries.entries()) {
    try {
      responses[i] = await repo.transaction(async (tx) => handleRequest(repo, toRequest(entry, entry.request!.url), opts, tx));
    } catch (err) {
      const o = toOperationOutcome(err);
      responses[i] = { status: getStatus(o), body: JSON.stringify(o) };
    }
  }
  return renderResponse('batch-response', responses, prefer);
}

async function processTransaction(repo: FhirRepository, entries: BundleEntry[], opts: RestOptions, tx: Queryable): Promise<FhirResponse[]> {
  // 1. Give every fullUrl its final reference.
  const mapping = new Map<string, string>();
  const plans: Planned[] = entries.map((entry, index) => ({ index, entry, method: entry.request!.method, url: entry.request!.url }));
  const assignedIds = new Map<number, string>();
  const matchedCreates = new Map<number, string>();
  const seenTargets = new Set<string>();
  const seenFullUrls = new Set<string>();
  for (const p of plans) {
    try {
      await planEntry(p);
    } catch (err) {
      throw asEntryError(p.index, err);
    }
  }
  async function planEntry(p: Planned): Promise<void> {
    const full = p.entry.fullUrl;
    const res = p.entry.resource;
    if (res !== undefined && typeof res === 'object') {
      // Decimals keep their exact text whichever path writes the resource.
      markDecimalRoot(res);
    }
    if (full !== undefined) {
      if (seenFullUrls.has(full)) {
        throw new OperationOutcomeError(badRequest(`fullUrl ${full} appears more than once in the transaction`));
      }
      seenFullUrls.add(full);
    }
    const [path, query] = p.url.replace(/^\//, '').split('?') as [string, string | undefined];
    const segs = path.split('/');
    if ((p.method === 'DELETE' || p.method === 'PATCH') && query === undefined && segs.length === 2) {
      if (seenTargets.has(path)) {
        throw new OperationOutcomeError(badRequest(`${path} appears more than once in the transaction`));
      }
      seenTargets.add(path);
    }
    if (p.method === 'POST' && res !== undefined && path !== res.resourceType) {
      throw new OperationOutcomeError(badRequest(`The resource is a ${String(res.resourceType)} but the entry POSTs to "${p.url}"`, ['resourceType']));
    }
    if (p.method === 'POST' && res !== undefined) {
      const ifNoneExist = p.entry.request?.ifNoneExist;
      let id: string | undefined;
      if (ifNoneExist !== undefined && ifNoneExist !== '') {
        const matches = await repo.findMatches(res.resourceType, ifNoneExist, tx);
        if (matches.length > 1) {
          throw entryError(p.index, preconditionFailed(`ifNoneExist matched ${matches.length} resources`));
        }
        if (matches.length === 1) {
          id = matches[0]!.id;
          matchedCreates.set(p.index, id);
        }
      }
      id ??= randomUUID();
      assignedIds.set(p.index, id);
      if (full !== undefined) {
        mapping.set(full, `${res.resourceType}/${id}`);
      }
    } else if (p.method === 'PUT' && res !== undefined) {
      let target: string | undefined;
      if (query !== undefined) {
        const matches = await repo.findMatches(segs[0]!, query, tx);
        if (matches.length > 1) {
          throw entryError(p.index, preconditionFailed(`Conditional update matched ${matches.length} resources`));
        }
        const id = matches[0]?.id ?? res.id ?? randomUUID();
        assignedIds.set(p.index, id);
        target = `${segs[0]!}/${id}`;
      } else if (segs.length === 2) {
        target = path;
      }
      if (target !== undefined) {
        if (seenTargets.has(target)) {
          throw entryError(p.index, badRequest(`${target} appears more than once in the transaction`));
        }
        seenTargets.add(target);
        if (full !== undefined) {
          mapping.set(full, target);
        }
      }
    }
  }
  // 2. Rewrite references (urn:uuid / fullUrls, then conditional references).
  for (const p of plans) {
    if (p.entry.resource !== undefined) {
      try {
        await rewriteReferences(repo, p.entry.resource, mapping, tx, p.index, 0);
      } catch (err) {
        throw asEntryError(p.index, err);
      }
    }
  }
  // 3. Run in the spec's order.
  const ordered = [...plans].sort((a, b) => ORDER[a.method]! - ORDER[b.method]! || a.index - b.index);
  const responses: FhirResponse[] = [];
  for (const p of ordered) {
    try {
      if (p.method === 'POST' && matchedCreates.has(p.index)) {
        const existing = await repo.read(p.entry.resource!.resourceType, matchedCreates.get(p.index)!, tx);
        responses[p.index] = { status: 200, body: existing.content, etag: `W/"${existing.versionId}"`, location: `${repo.platform.baseUrl}/${existing.resourceType}/${existing.id}/_history/${existing.versionId}`, lastModified: new Date(existing.lastUpdated).toUTCString() };
        continue;
      }
      if (p.method === 'POST') {
        const w = await repo.create(p.entry.resource!, tx, assignedIds.get(p.index));
        responses[p.index] = { status: 201, body: w.content, etag: `W/"${w.versionId}"`, location: `${repo.platform.baseUrl}/${w.resourceType}/${w.id}/_history/${w.versionId}`, lastModified: new Date(w.lastUpdated).toUTCString() };
        continue;
      }
      if (p.method === 'PUT' && assignedIds.has(p.index)) {
        const res = { ...p.entry.resource!, id: assignedIds.get(p.index)! } as Resource;
        const url = `${res.resourceType}/${res.id!}`;
        responses[p.index] = await handleRequest(repo, { ...toRequest({ ...p.entry, resource: res }, url) }, opts, tx);
        continue;
      }
      responses[p.index] = await handleRequest(repo, toRequest(p.entry, p.url), opts, tx);
    } catch (err) {
      throw entryError(p.index, toOperationOutcome(err), err);
    }
  }
  return responses;
}

function entryError(index: number, o: ReturnType<typeof badRequest>, cause?: unknown): OperationOutcomeError {
  const issue = o.issue?.[0];
  const text = `Bundle.entry[${index}]: ${issue?.details?.text ?? issue?.diagnostics ?? 'failed'}`;
  return new OperationOutcomeError({ ...o, issue: [{ ...(issue ?? { severity: 'error', code: 'processing' }), details: { text }, expression: [`Bundle.entry[${index}]`] }, ...(o.issue ?? []).slice(1)] }, cause);
}

/** Tags an error with the entry it belongs to, unless it already names one. */
function asEntryError(index: number, err: unknown): OperationOutcomeError {
  if (err instanceof OperationOutcomeError && err.outcome.issue?.[0]?.expression?.[0]?.startsWith('Bundle.entry[') === true) {
    return err;
  }
  return entryError(index, toOperationOutcome(err), err);
}

/** A reference found missing when the transaction's writes are checked together is blamed on the entry that holds it. */
function attributeReferenceError(entries: readonly BundleEntry[], err: unknown): unknown {
  const target = err instanceof OperationOutcomeError ? /^Reference "([^"]+)" points to/.exec(err.message)?.[1] : undefined;
  if (target === undefined) {
    return err;
  }
  const index = entries.findIndex((e) => {
    const refs = new Set<string>();
    collectReferenceStrings(e.resource, refs, 0);
    return [...refs].some((r) => r === target || r.endsWith(`/${target}`) || r.includes(`${target}/_history/`));
  });
  return index === -1 ? err : entryError(index, (err as OperationOutcomeError).outcome, err);
}

function collectReferenceStrings(v: unknown, out: Set<string>, depth: number): void {
  if (depth > 64 || typeof v !== 'object' || v === null) {
    return;
  }
  for (const [k, x] of Object.entries(v)) {
    if (k === 'reference' && typeof x === 'string') {
      out.add(x);
    } else {
      collectReferenceStrings(x, out, depth + 1);
    }
  }
}

async function rewriteReferences(repo: FhirRepository, v: unknown, mapping: Map<string, string>, tx: Queryable, index: number, depth: number): Promise<void> {
  if (depth > 64 || typeof v !== 'object' || v === null) {
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) {
      await rewriteReferences(repo, x, mapping, tx, index, depth + 1);
    }
    return;
  }
  const o = v as Record<string, unknown>;
  for (const [k, x] of Object.entries(o)) {
    if (k === 'reference' && typeof x === 'string') {
      const mapped = mapping.get(x);
      if (mapped !== undefined) {
        o[k] = mapped;
      } else if (x.startsWith('urn:uuid:')) {
        throw entryError(index, badRequest(`Reference "${x}" does not match the fullUrl of any entry in the transaction`));
      } else if (/^[A-Z][A-Za-z]+\?/.test(x)) {
        const [type, query] = x.split('?') as [string, string];
        const matches = await repo.findMatches(type, query, tx);
        if (matches.length !== 1) {
          throw entryError(index, preconditionFailed(`Conditional reference "${x}" matched ${matches.length} resources; it must match exactly one`));
        }
        o[k] = `${type}/${matches[0]!.id}`;
      }
    } else if (typeof x === 'object') {
      await rewriteReferences(repo, x, mapping, tx, index, depth + 1);
    }
  }
}

function toRequest(entry: BundleEntry, url: string): FhirRequest {
  const [path, query] = url.replace(/^\//, '').split('?') as [string, string | undefined];
  if (entry.resource !== undefined && typeof entry.resource === 'object') {
    markDecimalRoot(entry.resource);
  }
  const req = entry.request!;
  if (req.method === 'PUT' && entry.resource !== undefined) {
    const segs = path.split('/');
    if (segs.length === 2 && !ID_RE.test(segs[1]!)) {
      throw new OperationOutcomeError(badRequest(`"${segs[1]!}" is not a valid id`));
    }
  }
  return {
    method: req.method,
    path,
    query: [...new URLSearchParams(query ?? '')],
    body: entry.resource,
    ifMatch: req.ifMatch,
    ifNoneExist: req.ifNoneExist,
    ifNoneMatch: req.ifNoneMatch,
    ifModifiedSince: req.ifModifiedSince,
  };
}

function renderResponse(type: 'batch-response' | 'transaction-response', responses: FhirResponse[], prefer: string | undefined): string {
  const ret = preferReturn(prefer);
  const items = responses.map((r) => {
    const response: Record<string, string> = { status: String(r.status) };
    if (r.location !== undefined) {
      response.location = r.location;
    }
    if (r.etag !== undefined) {
      response.etag = r.etag;
    }
    if (r.lastModified !== undefined) {
      response.lastModified = new Date(r.lastModified).toISOString();
    }
    if (r.status >= 400 && r.body !== undefined) {
      return `{"response":${JSON.stringify(response).slice(0, -1)},"outcome":${r.body}}}`;
    }
    const withBody = r.body !== undefined && ret !== 'minimal' && r.status < 300;
    return `{${withBody ? `"resource":${r.body},` : ''}"response":${JSON.stringify(response)}}`;
  });
  const head = JSON.stringify({ resourceType: 'Bundle', id: randomUUID(), type });
  return `${head.slice(0, -1)},"entry":[${items.join(',')}]}`;
}
