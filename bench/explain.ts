/**
 * Shows how PostgreSQL runs a search: every statement a FHIR search issues, with its plan and
 * timings (EXPLAIN ANALYZE, BUFFERS), on a database kept by `npm run bench -- --keep-db`.
 *
 *   node --import tsx bench/explain.ts postgres://postgres@127.0.0.1:5432/bench_… 'Patient?family=hansen'
 *
 * A tool for reading plans; it measures one execution and asserts nothing.
 */
import type { Queryable } from '../src/db/index.ts';
import { openDatabase } from '../src/db/index.ts';
import { initFhirPlatform } from '../src/platform/fhir/platform.ts';
import { FhirRepository } from '../src/platform/fhir/repo.ts';

const [url, search] = process.argv.slice(2);
if (url === undefined || search === undefined || !search.includes('?')) {
  console.error("usage: node --import tsx bench/explain.ts <DATABASE_URL> 'Type?param=value&…'");
  process.exit(2);
}
const db = await openDatabase({ databaseUrl: url, dataDir: '' });
try {
  const platform = await initFhirPlatform({ db, baseUrl: 'http://localhost/fhir', defaultPageSize: 20, maxPageSize: 1000 });
  const repo = new FhirRepository(platform);
  const explaining: Queryable = {
    async query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      if (/^\s*(SELECT|WITH)/i.test(text)) {
        const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
        console.log(`\n${text.replace(/\s+/g, ' ').slice(0, 600)}\n  params: ${JSON.stringify(params).slice(0, 300)}`);
        for (const row of plan) {
          console.log(`  ${row['QUERY PLAN']}`);
        }
      }
      return db.query(text, params) as Promise<T[]>;
    },
  };
  const [type, qs] = search.split('?') as [string, string];
  const result = await repo.search(type, [...new URLSearchParams(qs)], false, explaining);
  console.log(`\n${result.matches.length} matches on the page, ${result.included.length} included, total ${String(result.total)}`);
} finally {
  await db.close();
}
