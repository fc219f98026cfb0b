// The benchmark draws its synthetic data from the platform's seeded generator.
export type { Rng } from '../../src/platform/registers/prng.ts';
export { createRng, mixSeed } from '../../src/platform/registers/prng.ts';
