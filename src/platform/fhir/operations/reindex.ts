import type { OperationDefinition } from '@medplum/fhirtypes';
import { OperationOutcomeError, badRequest } from '../outcome.ts';
import type { FhirResponse, OperationHandler } from '../rest.ts';

/** $reindex: re-extract search index values, e.g. after SearchParameters were added. */
export const operation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'reindex',
  url: 'https://dsd.dk/fhir/OperationDefinition/reindex',
  name: 'reindex',
  status: 'active',
  kind: 'operation',
  code: 'reindex',
  system: true,
  type: true,
  instance: false,
  parameter: [
    { name: 'type', use: 'in', min: 0, max: '*', type: 'code' },
    { name: 'count', use: 'out', min: 1, max: '1', type: 'integer' },
  ],
};

export const reindexHandler: OperationHandler = async ({ repo, resourceType, params }): Promise<FhirResponse> => {
  const types = resourceType !== undefined ? [resourceType] : (params.type ?? []).flatMap((t) => String(t).split(','));
  if (types.length === 0) {
    throw new OperationOutcomeError(badRequest('$reindex needs a type: POST /fhir/{type}/$reindex or ?type=Patient,Observation'));
  }
  for (const t of types) {
    if (!repo.platform.defs.resourceTypes.has(t)) {
      throw new OperationOutcomeError(badRequest(`Unknown resource type "${t}"`));
    }
  }
  const count = await repo.reindex(types);
  return { status: 200, body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'count', valueInteger: count }] }) };
};
