import { initFhirPlatform } from '../../src/platform/fhir/platform.ts';
import { FhirRepository } from '../../src/platform/fhir/repo.ts';
import { demoCitizenResources } from '../../src/platform/population/demo.ts';
import { writeChunk } from '../../src/platform/population/seed.ts';
import { loadReferenceData } from '../../src/platform/registers/index.ts';
import type { TestApp } from '../support.ts';
import { createTestApp } from '../support.ts';

/** Demo identities (README.md, "Demo users"). */
export const CPR = { louise: '1403810068', emil: '0206174005', poul: '2109460039' } as const;
export const AUTH_ID = { gp: '5DTXC', operator: 'OPS-0001' } as const;

/**
 * An app on a fresh database with the reference data (staff) and the demo citizens loaded.
 * @returns the app
 */
export async function createIdentityTestApp(): Promise<TestApp> {
  const t = await createTestApp({ validate: false, auth: 'none' });
  const platform = await initFhirPlatform({ db: t.db, baseUrl: 'http://localhost/fhir', defaultPageSize: 20, maxPageSize: 1000 });
  const repo = new FhirRepository(platform);
  await loadReferenceData(repo);
  await writeChunk(repo, demoCitizenResources());
  return t;
}

/**
 * The payload of a JWT (no verification).
 * @param jwt - compact JWT
 * @returns the claims
 */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
