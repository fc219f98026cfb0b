import { createHash } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { OrganisationRegister } from './organizations.ts';
import { buildOrganisations } from './organizations.ts';
import { buildTerminology } from './terminology.ts';

/** The reference data: the organisation register plus the terminology resources, in load order. */
export interface ReferenceData extends OrganisationRegister {
  readonly terminology: readonly Resource[];
  /** Every resource, in the order they are loaded. */
  readonly resources: readonly Resource[];
  /** A short hash of all resources: changes whenever the shipped reference data changes. */
  readonly version: string;
}

let cached: ReferenceData | undefined;

/**
 * The reference data, built once per process (deterministic; treat the result as read-only: the
 * loader writes copies).
 * @returns the reference data
 */
export function referenceData(): ReferenceData {
  if (cached === undefined) {
    const orgs = buildOrganisations();
    const terminology = buildTerminology();
    const resources: Resource[] = [...terminology, ...orgs.organizations, ...orgs.endpoints, ...orgs.practitioners, ...orgs.roles];
    const version = createHash('sha256').update(JSON.stringify(resources)).digest('hex').slice(0, 16);
    cached = { ...orgs, terminology, resources, version };
  }
  return cached;
}

/**
 * Counts the reference resources by type.
 * @returns resource type → count
 */
export function referenceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of referenceData().resources) {
    counts[r.resourceType] = (counts[r.resourceType] ?? 0) + 1;
  }
  return counts;
}
