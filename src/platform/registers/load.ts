import type { Resource } from '@medplum/fhirtypes';
import type { FhirRepository } from '../fhir/repo.ts';
import { referenceData } from './reference.ts';

/** What a load did. */
export interface LoadResult {
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly milliseconds: number;
}

/** How many ids one existence query asks for. */
const LOOKUP_BATCH = 200;

/**
 * The stored content without the server-assigned version facts, for comparison.
 * @param content - stored JSON text
 * @returns canonical JSON text
 */
function withoutVersion(content: string): string {
  const r = JSON.parse(content) as Resource;
  if (r.meta !== undefined) {
    delete r.meta.versionId;
    delete r.meta.lastUpdated;
    if (Object.keys(r.meta).length === 0) {
      delete r.meta;
    }
  }
  return JSON.stringify(r);
}

/**
 * Loads the reference data (organisations, endpoints, practitioners, roles, terminology and the PRO
 * questionnaire) idempotently: every resource has a fixed id; missing ones are created, changed
 * ones updated, unchanged ones left alone, all in one transaction. Loading twice writes nothing the
 * second time. Writes are trusted (no per-write profile validation; the tests validate all of it).
 * @param repo - the FHIR repository
 * @returns counts and time taken
 */
export async function loadReferenceData(repo: FhirRepository): Promise<LoadResult> {
  const started = performance.now();
  const resources = referenceData().resources;
  const byType = new Map<string, Resource[]>();
  for (const r of resources) {
    byType.set(r.resourceType, [...(byType.get(r.resourceType) ?? []), r]);
  }
  const stored = new Map<string, string>();
  for (const [type, list] of byType) {
    for (let i = 0; i < list.length; i += LOOKUP_BATCH) {
      const ids = list.slice(i, i + LOOKUP_BATCH).map((r) => r.id!);
      const res = await repo.search(type, [
        ['_id', ids.join(',')],
        ['_count', String(ids.length)],
      ]);
      for (const row of res.matches) {
        stored.set(`${type}/${row.id}`, row.content);
      }
    }
  }
  let created = 0;
  let updated = 0;
  let unchanged = 0;
  const changed: Resource[] = [];
  const fresh: Resource[] = [];
  for (const r of resources) {
    const current = stored.get(`${r.resourceType}/${r.id!}`);
    if (current === undefined) {
      fresh.push(r);
    } else if (withoutVersion(current) !== JSON.stringify(r)) {
      changed.push(r);
    } else {
      unchanged++;
    }
  }
  if (fresh.length > 0 || changed.length > 0) {
    await repo.platform.db.transaction(async (tx) => {
      repo.beginBufferedWrites(tx);
      // On an empty database every resource is new: create them buffered (fast). When some already
      // exist, a missing one may have been deleted (a tombstone keeps its versions), so use update.
      const firstLoad = stored.size === 0;
      for (const r of fresh) {
        if (firstLoad) {
          await repo.create(structuredClone(r), tx, r.id, { trusted: true });
        } else {
          await repo.update(structuredClone(r), r.id!, { trusted: true, method: 'PUT' }, tx);
        }
        created++;
      }
      await repo.flushWrites(tx);
      for (const r of changed) {
        await repo.update(structuredClone(r), r.id!, { trusted: true, method: 'PUT' }, tx);
        updated++;
      }
      await repo.flushWrites(tx);
    });
  }
  return { created, updated, unchanged, milliseconds: Math.round(performance.now() - started) };
}
