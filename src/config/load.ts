import path from 'node:path';

/** The platform's configuration, parsed once at start and passed in explicitly. */
export interface Config {
  /** HTTP port. */
  readonly port: number;
  /** Host interface to listen on. */
  readonly host: string;
  /** Public base URL of the server, used in Bundle links and fullUrls. */
  readonly baseUrl: string;
  /** PostgreSQL connection string; when absent the embedded database (PGlite) is used. */
  readonly databaseUrl: string | undefined;
  /** Directory of the embedded database; `memory://` keeps it in memory. */
  readonly dataDir: string;
  /** Directories of FHIR packages (profiles, SearchParameters) loaded at start. */
  readonly fhirPackagesRoot: string | undefined;
  /** Largest accepted request body in bytes. */
  readonly maxBodyBytes: number;
  /** Default and maximum page size for search. */
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
  /** Most index rows a search filter may match and still lead the search (search.store.ts choosePlan). */
  readonly searchDriverLimit: number;
  /** Log level for the structured logger. */
  readonly logLevel: string;
  readonly production: boolean;
  /** Seed reference data and the demo population on start when the database has none (DSD_SEED_DEMO; default true, false when NODE_ENV=production). */
  readonly seedDemo: boolean;
  /** MedCom messaging: how long a delivery to a receiver's own system waits for its acknowledgement before it is resent (DSD_MESSAGING_ACK_TIMEOUT_MS; MedCom: 30 min). */
  readonly messagingAckTimeoutMs: number;
}

/** A configuration problem found at start; the process exits with the list. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function intVar(env: Env, name: string, fallback: number, problems: string[], min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
    return fallback;
  }
  return n;
}

function boolVar(env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  if (/^(1|true|yes|on)$/i.test(raw)) {
    return true;
  }
  if (/^(0|false|no|off)$/i.test(raw)) {
    return false;
  }
  problems.push(`${name} must be true or false, got "${raw}"`);
  return fallback;
}

/**
 * Reads and validates the configuration from environment variables.
 * @param env - the environment (normally process.env)
 * @returns the frozen configuration
 */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const port = intVar(env, 'PORT', 8080, problems, 0, 65535);
  const host = env.HOST ?? '0.0.0.0';
  const databaseUrl = env.DATABASE_URL === '' ? undefined : env.DATABASE_URL;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`DATABASE_URL must start with postgres:// or postgresql://, got "${databaseUrl.slice(0, 20)}…"`);
  }
  const dataDirRaw = env.DSD_DATA_DIR ?? './data';
  const dataDir = dataDirRaw.startsWith('memory://') ? dataDirRaw : path.resolve(dataDirRaw);
  const baseUrl = (env.DSD_BASE_URL ?? `http://localhost:${port}`).replace(/\/$/, '');
  if (!/^https?:\/\//.test(baseUrl)) {
    problems.push(`DSD_BASE_URL must be an http(s) URL, got "${baseUrl}"`);
  }
  const defaultPackages = path.resolve(import.meta.dirname, '../../../shared/fhir/packages');
  const fhirPackagesRoot = env.DSD_FHIR_PACKAGES === '' ? undefined : (env.DSD_FHIR_PACKAGES ?? defaultPackages);
  const config: Config = {
    port,
    host,
    baseUrl,
    databaseUrl,
    dataDir,
    fhirPackagesRoot,
    maxBodyBytes: intVar(env, 'DSD_MAX_BODY_BYTES', 16 * 1024 * 1024, problems, 1024),
    defaultPageSize: intVar(env, 'DSD_PAGE_SIZE', 20, problems, 1, 1000),
    maxPageSize: intVar(env, 'DSD_MAX_PAGE_SIZE', 1000, problems, 1, 10000),
    searchDriverLimit: intVar(env, 'DSD_SEARCH_DRIVER_LIMIT', 2000, problems, 1, 100000),
    logLevel: env.LOG_LEVEL ?? 'info',
    production: env.NODE_ENV === 'production',
    seedDemo: boolVar(env, 'DSD_SEED_DEMO', env.NODE_ENV !== 'production', problems),
    messagingAckTimeoutMs: intVar(env, 'DSD_MESSAGING_ACK_TIMEOUT_MS', 30 * 60_000, problems, 1_000),
  };
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return Object.freeze(config);
}
