/**
 * The deterministic synthetic population (seeded PRNG; same seed → byte-identical resources), the
 * writer that stores it in chunks, and the demo data a fresh start seeds once.
 */
export type { Chart, ChronicKey, HistoryOptions, HospitalEventKind, Person } from './model.ts';
export type { PersonInput, PopulationChunk, PopulationOptions } from './generate.ts';
export { CprAllocator, DEFAULT_AS_OF, familyResources, generatePopulation, historyResources, makePerson, patientResource, populationChunks } from './generate.ts';
export { CHRONIC_CONDITIONS, generateHistory } from './history.ts';
export { REQUISITION_SYSTEM } from './resources.ts';
export type { SeedOptions, SeedProgress, SeedResult } from './seed.ts';
export { seedPopulation, writeChunk } from './seed.ts';
export type { DemoResult, DemoUser } from './demo.ts';
export { DEMO_CITIZENS, DEMO_MARKER_ID, DEMO_SEED, demoCitizenResources, demoCprs, demoUsers, ensureDemoData, ensureDemoDataOnStart } from './demo.ts';
export type { SeedCommandOptions } from './command.ts';
export { seedCommand } from './command.ts';
