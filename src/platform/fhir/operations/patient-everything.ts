import type { OperationDefinition } from '@medplum/fhirtypes';
import { OperationOutcomeError, badRequest } from '../outcome.ts';
import type { FhirResponse, OperationHandler } from '../rest.ts';

/** Patient $everything: the patient and every resource in their compartment (https://hl7.org/fhir/R4/patient-operation-everything.html). */
export const operation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Patient-everything',
  url: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
  name: 'everything',
  status: 'active',
  kind: 'operation',
  code: 'everything',
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: '_since', use: 'in', min: 0, max: '1', type: 'instant' },
    { name: '_type', use: 'in', min: 0, max: '*', type: 'code' },
    { name: '_count', use: 'in', min: 0, max: '1', type: 'integer' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
};

export const patientEverythingHandler: OperationHandler = async ({ repo, resourceType, id, params, req, q }): Promise<FhirResponse> => {
  if (resourceType !== 'Patient' || id === undefined) {
    throw new OperationOutcomeError(badRequest('$everything is invoked on a patient: GET /fhir/Patient/{id}/$everything'));
  }
  await repo.read('Patient', id, q);
  const one = (name: string): string | undefined => {
    const v = params[name];
    if (v !== undefined && v.length > 1 && name !== '_type') {
      throw new OperationOutcomeError(badRequest(`${name} may be given once`));
    }
    const first = v?.[0];
    return typeof first === 'string' ? first : first === undefined ? undefined : JSON.stringify(first);
  };
  for (const k of Object.keys(params)) {
    if (!['_since', '_type', '_count', '_offset', '_format', '_pretty', 'start', 'end'].includes(k)) {
      throw new OperationOutcomeError(badRequest(`Unknown parameter "${k}" for $everything`));
    }
  }
  const since = one('_since');
  if (since !== undefined && Number.isNaN(Date.parse(since))) {
    throw new OperationOutcomeError(badRequest(`_since must be an instant, got "${since}"`));
  }
  const types = params._type?.flatMap((t) => String(t).split(','));
  for (const t of types ?? []) {
    if (!repo.platform.defs.resourceTypes.has(t)) {
      throw new OperationOutcomeError(badRequest(`Unknown resource type "${t}" in _type`));
    }
  }
  const countText = one('_count') ?? String(repo.platform.maxPageSize);
  const offsetText = one('_offset') ?? '0';
  if (!/^\d{1,6}$/.test(countText) || !/^\d{1,9}$/.test(offsetText)) {
    throw new OperationOutcomeError(badRequest('_count and _offset must be whole numbers'));
  }
  const count = Math.min(Number(countText), repo.platform.maxPageSize);
  const offset = Number(offsetText);
  const { rows, hasMore } = await repo.compartment(id, { since, types, offset, count }, q);
  const base = repo.platform.baseUrl;
  const link = (o: number): string => {
    const qs = new URLSearchParams(req.query.filter(([k]) => k !== '_offset') as [string, string][]);
    qs.set('_count', String(count));
    qs.set('_offset', String(o));
    return `${base}/Patient/${id}/$everything?${qs.toString()}`;
  };
  const links = [{ relation: 'self', url: link(offset) }];
  if (hasMore) {
    links.push({ relation: 'next', url: link(offset + count) });
  }
  const head = JSON.stringify({ resourceType: 'Bundle', id: globalThis.crypto.randomUUID(), type: 'searchset', link: links, ...(hasMore || offset > 0 ? {} : { total: rows.length }) });
  const entries = rows.map((r) => `{"fullUrl":${JSON.stringify(`${base}/${r.resourceType}/${r.id}`)},"resource":${r.content},"search":{"mode":"match"}}`);
  return { status: 200, body: `${head.slice(0, -1)},"entry":[${entries.join(',')}]}` };
};
