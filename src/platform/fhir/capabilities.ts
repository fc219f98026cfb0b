import type { CapabilityStatement, CapabilityStatementRestResource, OperationDefinition } from '@medplum/fhirtypes';
import type { FhirPlatform } from './platform.ts';

/**
 * The CapabilityStatement, generated from what the server actually has: every resource type with
 * the interactions the REST layer implements and every registered search parameter.
 * @param platform - definitions and registry
 * @param operations - the operation definitions served
 * @param overrides - resource types served by something other than the repository (their own entries)
 * @returns the statement
 */
export function buildCapabilityStatement(
  platform: FhirPlatform,
  operations: readonly OperationDefinition[],
  overrides: Readonly<Record<string, Partial<CapabilityStatementRestResource>>> = {},
): CapabilityStatement {
  const interaction = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'].map((code) => ({ code })) as CapabilityStatementRestResource['interaction'];
  const resources = [...platform.defs.resourceTypes].sort().map((type) => ({
    type,
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction,
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalRead: 'not-supported',
    conditionalUpdate: true,
    conditionalDelete: 'multiple',
    referencePolicy: ['literal', 'local', 'enforced'],
    searchInclude: ['*', ...platform.registry.forType(type).filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`)],
    searchRevInclude: [],
    searchParam: platform.registry
      .forType(type)
      .filter((p) => p.type !== 'special' && p.expression !== '')
      .map((p) => ({ name: p.code, definition: p.url, type: p.type })),
    operation: operations.filter((o) => (o.resource as string[] | undefined)?.some((r) => r === type || r === 'Resource') === true).map((o) => ({ name: o.code ?? '', definition: o.url ?? '' })),
    ...overrides[type],
  })) as CapabilityStatementRestResource[];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString().slice(0, 10),
    publisher: 'Digital Sundhed Danmark',
    kind: 'instance',
    software: { name: 'DSD platform', version: '0.1.0' },
    implementation: { description: 'DSD FHIR R4 data platform', url: platform.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        resource: resources,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        searchParam: [
          { name: '_id', type: 'token' },
          { name: '_lastUpdated', type: 'date' },
          { name: '_text', type: 'string' },
          { name: '_content', type: 'string' },
        ],
        operation: operations.filter((o) => o.system).map((o) => ({ name: o.code ?? '', definition: o.url ?? '' })),
      },
    ],
  };
}
