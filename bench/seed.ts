// Benchmark of the synthetic population seeder: loads the reference data and seeds N citizens
// with full histories on the embedded database (PGlite in memory; PostgreSQL with DATABASE_URL),
// and prints citizens/minute. Reports figures; never asserts timings.
// Usage: node --import tsx bench/seed.ts [--citizens N] [--seed S] [--chunk-size C]
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.ts';
import { openDatabase } from '../src/db/index.ts';
import { initFhirPlatform } from '../src/platform/fhir/platform.ts';
import { FhirRepository } from '../src/platform/fhir/repo.ts';
import { generatePopulation, seedPopulation } from '../src/platform/population/index.ts';
import { loadReferenceData } from '../src/platform/registers/index.ts';
import { loadValidator } from '../src/server/validator.ts';
import { createScratchDatabase } from './lib/environment.ts';

const { values } = parseArgs({ options: { citizens: { type: 'string' }, seed: { type: 'string' }, 'chunk-size': { type: 'string' } } });
const citizens = Number(values.citizens ?? '1000');
const seed = Number(values.seed ?? '1');
const chunkSize = Number(values['chunk-size'] ?? '50');
const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const url = process.env.DATABASE_URL;
const scratch = url === undefined || url === '' ? undefined : await createScratchDatabase(url);
const db = await openDatabase({ databaseUrl: scratch?.url, dataDir: 'memory://' });
try {
  const config = loadConfig({ DSD_DATA_DIR: 'memory://' });
  const validator = await loadValidator(config);
  const platform = await initFhirPlatform({ db, baseUrl: 'http://localhost/fhir', defaultPageSize: 20, maxPageSize: 1000, validator });
  const repo = new FhirRepository(platform);

  let t = performance.now();
  const generated = generatePopulation({ seed, citizens });
  const generateMs = performance.now() - t;
  log(`Generation only: ${citizens} citizens, ${generated.length} resources in ${(generateMs / 1000).toFixed(1)} s (${Math.round((citizens / generateMs) * 60_000)} citizens/minute)`);

  const loaded = await loadReferenceData(repo);
  log(`Reference data: ${loaded.created} resources in ${(loaded.milliseconds / 1000).toFixed(1)} s (${Math.round(loaded.created / (loaded.milliseconds / 1000))} resources/s)`);

  t = performance.now();
  const result = await seedPopulation(repo, {
    seed,
    citizens,
    chunkSize,
    onProgress: (p) => {
      if (p.citizens % 250 < chunkSize || p.citizens === p.total) {
        log(`  ${p.citizens}/${p.total} citizens, ${p.resources} resources, ${(p.milliseconds / 1000).toFixed(1)} s`);
      }
    },
  });
  const seconds = (performance.now() - t) / 1000;
  const figures = {
    database: db.dialect,
    citizens: result.written,
    resources: result.resources,
    resourcesPerCitizen: Math.round((result.resources / result.written) * 10) / 10,
    seconds: Math.round(seconds * 10) / 10,
    citizensPerMinute: result.citizensPerMinute,
    resourcesPerSecond: Math.round(result.resources / seconds),
    chunkSize,
  };
  log(`Seeded ${figures.citizens} citizens (${figures.resources} resources, ${figures.resourcesPerCitizen} per citizen) in ${figures.seconds} s on ${figures.database}: ${figures.citizensPerMinute} citizens/minute, ${figures.resourcesPerSecond} resources/s`);
  log(JSON.stringify(figures));
} finally {
  await db.close();
  await scratch?.drop();
}
