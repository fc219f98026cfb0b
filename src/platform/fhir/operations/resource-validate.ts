import type { OperationDefinition, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { OperationOutcomeError, badRequest } from '../outcome.ts';
import type { FhirResponse, OperationHandler } from '../rest.ts';

/** Resource $validate (https://hl7.org/fhir/R4/resource-operation-validate.html). */
export const operation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Resource-validate',
  url: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
  name: 'validate',
  status: 'active',
  kind: 'operation',
  code: 'validate',
  resource: ['Resource' as 'Patient'],
  system: false,
  type: true,
  instance: true,
  parameter: [
    { name: 'resource', use: 'in', min: 0, max: '1', type: 'Resource' },
    { name: 'profile', use: 'in', min: 0, max: '1', type: 'uri' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'OperationOutcome' },
  ],
};

export const validateHandler: OperationHandler = async ({ repo, resourceType, id, params, q }): Promise<FhirResponse> => {
  let resource = params.resource?.[0] as Resource | undefined;
  if (resource === undefined && id !== undefined && resourceType !== undefined) {
    resource = JSON.parse((await repo.read(resourceType, id, q)).content) as Resource;
  }
  if (typeof resource !== 'object' || resource === null) {
    throw new OperationOutcomeError(badRequest('$validate needs a resource: POST it as the body or in Parameters.parameter "resource"'));
  }
  if (resourceType !== undefined && resource.resourceType !== resourceType) {
    throw new OperationOutcomeError(badRequest(`The resource is a ${String(resource.resourceType)}, not a ${resourceType}`));
  }
  const profile = params.profile?.[0];
  let issues: OperationOutcome['issue'] = [];
  try {
    const warnings = repo.validate(resource);
    const extra = typeof profile === 'string' ? (repo.platform.validator?.validate(resource, [profile]) ?? []) : [];
    issues = [...warnings, ...extra];
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      issues = err.outcome.issue ?? [];
    } else {
      throw err;
    }
  }
  if (issues.length === 0) {
    issues = [{ severity: 'information', code: 'informational', details: { text: 'No problems found' } }];
  }
  // $validate answers 200 with the outcome, whether or not the resource is valid.
  return { status: 200, body: JSON.stringify({ resourceType: 'OperationOutcome', issue: issues }) };
};
