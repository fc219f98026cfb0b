/**
 * A small seeded pseudo-random generator (mulberry32). Everything the reference data and the
 * synthetic population (and the benchmark's data) draw comes from here, so the same seed always gives the same bytes: no
 * Math.random, no clock, no crypto.
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** One element of a non-empty array, chosen with the given weights. */
  weighted<T>(items: readonly (readonly [T, number])[]): T;
  /** True with probability p. */
  chance(p: number): boolean;
  /** A normally distributed number (Box–Muller). */
  normal(mean: number, sd: number): number;
  /** A UUID of version-4 shape drawn from the stream (for `urn:uuid:` fullUrls). */
  uuid(): string;
}

/**
 * Mixes numbers into one 32-bit seed, so that e.g. (run seed, household index) gives an
 * independent stream per household regardless of the order they are generated in.
 * @param parts - the numbers to mix
 * @returns a 32-bit unsigned seed
 */
export function mixSeed(...parts: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    let x = Math.floor(part) >>> 0;
    const hi = Math.floor(part / 0x100000000) >>> 0;
    x ^= Math.imul(hi, 0x9e3779b1);
    h = Math.imul(h ^ x, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

/**
 * Hashes a string to a 32-bit seed (FNV-1a), for streams named by text.
 * @param text - any text
 * @returns a 32-bit unsigned number
 */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/**
 * Creates a seeded generator.
 * @param seed - any 32-bit integer
 * @returns the generator
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int(min: number, max: number): number {
      return min + Math.floor(next() * (max - min + 1));
    },
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) {
        throw new Error('pick from an empty array');
      }
      return items[Math.floor(next() * items.length)]!;
    },
    weighted<T>(items: readonly (readonly [T, number])[]): T {
      let total = 0;
      for (const [, w] of items) {
        total += w;
      }
      let x = next() * total;
      for (const [item, w] of items) {
        x -= w;
        if (x < 0) {
          return item;
        }
      }
      if (items.length === 0) {
        throw new Error('weighted pick from an empty array');
      }
      return items[items.length - 1]![0];
    },
    chance(p: number): boolean {
      return next() < p;
    },
    uuid(): string {
      const hex = (n: number): string => {
        let out = '';
        for (let i = 0; i < n; i++) {
          out += Math.floor(next() * 16).toString(16);
        }
        return out;
      };
      const variant = (8 + Math.floor(next() * 4)).toString(16);
      return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
    },
    normal(mean: number, sd: number): number {
      const u = 1 - next();
      const v = next();
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}
