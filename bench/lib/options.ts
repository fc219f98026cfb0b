export type ScaleName = 'quick' | 'medium' | 'large';

/** Sizes and durations of one benchmark scale. */
export interface Profile {
  readonly scale: ScaleName;
  /** Patients created for the read benchmark (in transaction Bundles of 100). */
  readonly readPatients: number;
  readonly readConcurrency: number;
  /** Interleaved rounds per server (baseline and platform alternate, ABBA order). */
  readonly readRounds: number;
  readonly readRoundMs: number;
  readonly readWarmupMs: number;
  readonly ingestResources: number;
  readonly ingestConcurrency: number;
  readonly ingestMaxMs: number;
  readonly searchRunsPerClass: number;
  readonly searchConcurrency: number;
  readonly searchClassMaxMs: number;
  readonly searchTimeoutMs: number;
  /** Wall-clock budget for the whole run (caps ingest and search), or undefined for none. */
  readonly budgetMs: number | undefined;
}

/** The parts of a run, in the order they run. */
export const PHASES = ['read', 'ingest', 'search', 'messaging'] as const;
export type Phase = (typeof PHASES)[number];

export interface Options {
  readonly profile: Profile;
  readonly seed: number;
  readonly keepDatabase: boolean;
  /** The phases to run (all unless `--only` names some). Search without ingest samples the patients it queries from the database. */
  readonly phases: ReadonlySet<Phase>;
  /** PostgreSQL only: an existing database (e.g. one kept by --keep-db) to use instead of a fresh one; never dropped. */
  readonly database: string | undefined;
  /** Only the search classes with these names (all when undefined). */
  readonly classes: ReadonlySet<string> | undefined;
}

const PROFILES: Readonly<Record<ScaleName, Profile>> = {
  quick: {
    scale: 'quick',
    readPatients: 1000,
    readConcurrency: 32,
    readRounds: 3,
    readRoundMs: 4000,
    readWarmupMs: 3000,
    ingestResources: 20_000,
    ingestConcurrency: 4,
    ingestMaxMs: 150_000,
    searchRunsPerClass: 20,
    searchConcurrency: 2,
    searchClassMaxMs: 6000,
    searchTimeoutMs: 15_000,
    budgetMs: 280_000,
  },
  medium: {
    scale: 'medium',
    readPatients: 5000,
    readConcurrency: 32,
    readRounds: 3,
    readRoundMs: 7000,
    readWarmupMs: 2000,
    ingestResources: 100_000,
    ingestConcurrency: 4,
    ingestMaxMs: 30 * 60_000,
    searchRunsPerClass: 50,
    searchConcurrency: 2,
    searchClassMaxMs: 20_000,
    searchTimeoutMs: 30_000,
    budgetMs: undefined,
  },
  large: {
    scale: 'large',
    readPatients: 10_000,
    readConcurrency: 32,
    readRounds: 3,
    readRoundMs: 10_000,
    readWarmupMs: 3000,
    ingestResources: 1_000_000,
    ingestConcurrency: 6,
    ingestMaxMs: 6 * 3600_000,
    searchRunsPerClass: 50,
    searchConcurrency: 2,
    searchClassMaxMs: 60_000,
    searchTimeoutMs: 60_000,
    budgetMs: undefined,
  },
};

export const USAGE = `Usage: npm run bench -- [--quick | --scale quick|medium|large] [--seed N] [--keep-db]

  --quick         small run, finishes within 5 minutes (same as --scale quick)
  --scale large   at least 1,000,000 resources (long; meant for PostgreSQL)
  (default)       --scale medium
  --seed N        seed of the synthetic data (default 20251125)
  --keep-db       PostgreSQL only: do not drop the bench_<timestamp> database at the end
  --only LIST     run only these phases, comma-separated: read, ingest, search, messaging
                  (e.g. --only read to compare the read paths alone)
  --database NAME PostgreSQL only: use the existing database NAME on the DATABASE_URL server
                  (e.g. one kept by --keep-db) instead of a fresh one; it is never dropped.
                  With --only search, searches the data already there.
  --classes LIST  only these search classes, comma-separated (names as in the report)

Uses PostgreSQL when DATABASE_URL is set (a fresh database is created on that server and
dropped afterwards), else embedded PGlite in memory. Results: bench/results/latest.json and
bench/results/<scale>.json.`;

/**
 * Parses the command line.
 * @param argv - arguments after the script name
 * @returns the options, or 'help'
 */
export function parseOptions(argv: readonly string[]): Options | 'help' {
  let scale: ScaleName = 'medium';
  let seed = 20251125;
  let keepDatabase = false;
  let phases = new Set<Phase>(PHASES);
  let database: string | undefined;
  let classes: Set<string> | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) {
        throw new Error(`${arg} needs a value\n\n${USAGE}`);
      }
      return v;
    };
    if (arg === '--help' || arg === '-h') {
      return 'help';
    } else if (arg === '--quick') {
      scale = 'quick';
    } else if (arg === '--scale' || arg.startsWith('--scale=')) {
      const v = arg.startsWith('--scale=') ? arg.slice('--scale='.length) : value();
      if (v !== 'quick' && v !== 'medium' && v !== 'large') {
        throw new Error(`--scale must be quick, medium or large, got "${v}"\n\n${USAGE}`);
      }
      scale = v;
    } else if (arg === '--seed') {
      seed = Number(value());
      if (!Number.isInteger(seed)) {
        throw new Error('--seed must be an integer');
      }
    } else if (arg === '--keep-db') {
      keepDatabase = true;
    } else if (arg === '--only' || arg.startsWith('--only=')) {
      const list = (arg.startsWith('--only=') ? arg.slice('--only='.length) : value()).split(',').map((x) => x.trim());
      const unknown = list.filter((x) => !(PHASES as readonly string[]).includes(x));
      if (unknown.length > 0 || list.length === 0) {
        throw new Error(`--only takes phases from ${PHASES.join(', ')}, got "${unknown.join(',')}"\n\n${USAGE}`);
      }
      phases = new Set(list as Phase[]);
    } else if (arg === '--database') {
      database = value();
      if (!/^[A-Za-z0-9_]{1,63}$/.test(database)) {
        throw new Error(`--database takes a database name of letters, digits and _, got "${database}"`);
      }
    } else if (arg === '--classes') {
      classes = new Set(value().split(',').map((x) => x.trim()).filter((x) => x !== ''));
    } else {
      throw new Error(`unknown argument "${arg}"\n\n${USAGE}`);
    }
  }
  return { profile: PROFILES[scale], seed, keepDatabase, phases, database, classes };
}
