import type { Database } from '../../db/index.ts';
import type { ResourceValidator } from '../fhir/platform.ts';
import { initFhirPlatform } from '../fhir/platform.ts';
import { FhirRepository } from '../fhir/repo.ts';
import { loadReferenceData } from '../registers/index.ts';
import { demoCprs } from './demo.ts';
import type { SeedResult } from './seed.ts';
import { seedPopulation } from './seed.ts';

/** Options of `dsd seed`. */
export interface SeedCommandOptions {
  readonly citizens: number;
  readonly seed: number;
  readonly chunkSize?: number;
  readonly asOf?: string;
}

/**
 * `dsd seed`: loads the reference data (idempotent) and seeds a population, printing progress and
 * the rate. Running it again with the same seed skips what is stored; another seed adds different
 * citizens (their ids carry the seed).
 * @param db - the open, migrated database
 * @param validator - the validator (its packages' SearchParameters are indexed as on the server)
 * @param baseUrl - FHIR base URL
 * @param options - size and seed
 * @param out - where progress lines go
 * @returns the seeding result
 */
export async function seedCommand(db: Database, validator: ResourceValidator | undefined, baseUrl: string, options: SeedCommandOptions, out: (line: string) => void): Promise<SeedResult> {
  const platform = await initFhirPlatform({ db, baseUrl, defaultPageSize: 20, maxPageSize: 1000, validator });
  const repo = new FhirRepository(platform);
  out(`Loading reference data …`);
  const loaded = await loadReferenceData(repo);
  out(`Reference data: ${loaded.created} created, ${loaded.updated} updated, ${loaded.unchanged} unchanged (${(loaded.milliseconds / 1000).toFixed(1)} s)`);
  out(`Seeding ${options.citizens} citizens with seed ${options.seed} (database: ${db.dialect}) …`);
  let lastLogged = 0;
  const step = Math.max(50, Math.round(options.citizens / 20));
  const result = await seedPopulation(repo, {
    seed: options.seed,
    citizens: options.citizens,
    reservedCprs: demoCprs(),
    ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
    ...(options.asOf === undefined ? {} : { asOf: options.asOf }),
    onProgress: (p) => {
      if (p.citizens - lastLogged >= step || p.citizens === p.total) {
        lastLogged = p.citizens;
        const rate = p.milliseconds > 0 ? Math.round((p.citizens / p.milliseconds) * 60_000) : 0;
        out(`  ${p.citizens}/${p.total} citizens, ${p.resources} resources, ${(p.milliseconds / 1000).toFixed(1)} s (${rate} citizens/minute)${p.skippedChunks > 0 ? `, ${p.skippedChunks} chunks already stored` : ''}`);
      }
    },
  });
  const perCitizen = result.written === 0 ? 0 : result.resources / result.written;
  out(
    `Done: ${result.written} citizens written (${result.citizens - result.written} already stored), ${result.resources} resources (${perCitizen.toFixed(1)} per citizen) in ${(result.milliseconds / 1000).toFixed(1)} s: ${result.citizensPerMinute} citizens/minute.`,
  );
  return result;
}
