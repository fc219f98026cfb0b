import { openDatabase } from '/work/main/src/db/index.ts';
import { initFhirPlatform } from '/work/main/src/platform/fhir/platform.ts';
import { FhirRepository } from '/work/main/src/platform/fhir/repo.ts';
const url = process.argv[2]!;
const db = await openDatabase({ databaseUrl: url, dataDir: '' });
const spy = {
  dialect: db.dialect,
  async query(text: string, params: readonly unknown[] = []) {
    if (/^\s*SELECT r\.rid|^\s*SELECT count/.test(text) && process.env.EXPLAIN) {
      const plan = await db.query<{ 'QUERY PLAN': string }>('EXPLAIN (ANALYZE, BUFFERS) ' + text, params);
      console.log('----\n' + text.slice(0, 1500) + '\n' + JSON.stringify(params).slice(0, 300) + '\n' + plan.map((r) => r['QUERY PLAN']).join('\n'));
    }
    return db.query(text as never, params);
  },
  transaction: db.transaction.bind(db), close: db.close.bind(db), dedicated: undefined,
};
const platform = await initFhirPlatform({ db: spy as never, baseUrl: 'http://x/fhir', defaultPageSize: 20, maxPageSize: 1000 });
const repo = new FhirRepository(platform);
for (const qs of process.argv.slice(3)) {
  const [type, query] = qs.split('?');
  const t0 = performance.now();
  const res = await repo.search(type!, [...new URLSearchParams(query)]);
  console.log('==', qs, res.matches.length, (performance.now() - t0).toFixed(1), 'ms');
}
await db.close();
