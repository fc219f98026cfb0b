import type { Resource } from '@medplum/fhirtypes';
import type { FhirRepository } from '../fhir/repo.ts';
import { OperationOutcomeError } from '../fhir/outcome.ts';
import type { PopulationOptions } from './generate.ts';
import { populationChunks } from './generate.ts';

/** Progress after each chunk. */
export interface SeedProgress {
  readonly citizens: number;
  readonly total: number;
  readonly resources: number;
  readonly skippedChunks: number;
  readonly milliseconds: number;
}

/** What a seeding run did. */
export interface SeedResult extends SeedProgress {
  /** Citizens written per minute (skipped chunks not counted). */
  readonly citizensPerMinute: number;
  /** Citizens actually written (not skipped because they were already stored). */
  readonly written: number;
}

export interface SeedOptions extends PopulationOptions {
  /** Called after each chunk. */
  readonly onProgress?: (p: SeedProgress) => void;
}

/**
 * @param repo - the repository
 * @param type - resource type
 * @param id - id
 * @returns whether a current (not deleted) version exists
 */
async function exists(repo: FhirRepository, type: string, id: string): Promise<boolean> {
  try {
    await repo.read(type, id);
    return true;
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return false;
    }
    throw err;
  }
}

/**
 * Writes resources in one transaction with buffered, trusted writes (no per-write profile
 * validation: the generator's output is validated by its tests).
 * @param repo - the repository
 * @param resources - resources with ids
 */
export async function writeChunk(repo: FhirRepository, resources: readonly Resource[]): Promise<void> {
  await repo.platform.db.transaction(async (tx) => {
    repo.beginBufferedWrites(tx);
    for (const r of resources) {
      await repo.create(r, tx, r.id, { trusted: true });
    }
    await repo.flushWrites(tx);
  });
}

/**
 * Generates and stores a population, one transaction per chunk of whole households. A chunk
 * whose first Patient already exists is skipped, so an interrupted run can simply be repeated
 * with the same seed (the generator still runs through the skipped chunks, which keeps the
 * CPR allocation identical).
 * @param repo - the repository (reference data must be loaded first)
 * @param options - seed, size, chunk size and progress callback
 * @returns counts and the rate
 */
export async function seedPopulation(repo: FhirRepository, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  let citizens = 0;
  let written = 0;
  let resources = 0;
  let skippedChunks = 0;
  for (const chunk of populationChunks(options)) {
    citizens += chunk.citizens;
    if (await exists(repo, 'Patient', chunk.firstPatientId)) {
      skippedChunks++;
    } else {
      await writeChunk(repo, chunk.resources);
      written += chunk.citizens;
      resources += chunk.resources.length;
    }
    options.onProgress?.({ citizens, total: options.citizens, resources, skippedChunks, milliseconds: Math.round(performance.now() - started) });
  }
  const milliseconds = Math.round(performance.now() - started);
  return {
    citizens,
    total: options.citizens,
    resources,
    skippedChunks,
    milliseconds,
    written,
    citizensPerMinute: written === 0 ? 0 : Math.round((written / milliseconds) * 60_000),
  };
}
