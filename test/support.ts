import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import postgres from 'postgres';
import type { Config } from '../src/config/load.ts';
import { loadConfig } from '../src/config/load.ts';
import type { Database } from '../src/db/index.ts';
import { openDatabase } from '../src/db/index.ts';
import { buildApp } from '../src/server/app.ts';
import type { ResourceValidator } from '../src/platform/fhir/platform.ts';
import { loadValidator } from '../src/server/validator.ts';
import { systemToken } from './auth-support.ts';

/**
 * Test support: each test file gets its own database (a fresh in-memory PGlite, or a fresh
 * database on the PostgreSQL server named by DATABASE_URL), and a real app on it.
 */

/** The configuration tests run with (one place, as the house style asks). */
export function loadTestConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ DSD_DATA_DIR: 'memory://', LOG_LEVEL: 'silent', DSD_BASE_URL: 'http://localhost', DSD_SEED_DEMO: 'false', DATABASE_URL: process.env.DATABASE_URL, ...overrides });
}

export interface TestDatabase {
  readonly db: Database;
  /** The PostgreSQL URL of this database (other processes can open it); undefined on PGlite. */
  readonly url: string | undefined;
  close(): Promise<void>;
}

/**
 * Creates an isolated, migrated database.
 * @returns the database and its cleanup
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  if (url === undefined || url === '') {
    const db = await openDatabase({ databaseUrl: undefined, dataDir: 'memory://' });
    return { db, url: undefined, close: () => db.close() };
  }
  const name = `dsd_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: u.toString(), dataDir: '' });
  return {
    db,
    url: u.toString(),
    async close(): Promise<void> {
      await db.close();
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

let validatorPromise: Promise<ResourceValidator> | undefined;

/**
 * The validator with the Danish packages, loaded once per test process.
 * @returns the shared validator
 */
export function sharedValidator(): Promise<ResourceValidator> {
  validatorPromise ??= loadValidator(loadTestConfig({}));
  return validatorPromise;
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly db: Database;
  /** See TestDatabase.url. */
  readonly databaseUrl: string | undefined;
  /** Sends a request and returns status, headers and the parsed JSON body. */
  request(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/**
 * Builds the real app on a fresh database (requests go through Fastify's inject: full HTTP handling, no socket).
 * @param options - validator on/off
 * @returns the app
 */
export async function createTestApp(options: { validate?: boolean; auth?: 'system' | 'none'; config?: Record<string, string> } = {}): Promise<TestApp> {
  const tdb = await createTestDatabase();
  const validator = options.validate === false ? undefined : await sharedValidator();
  const app = await buildApp(loadTestConfig(options.config), tdb.db, { validator });
  // Tests of the FHIR platform itself run as a backend system with every system scope, with a
  // real token from the real token endpoint; a request that names its own Authorization keeps it.
  // System tokens live 15 minutes; a long test file gets a fresh one after 10.
  let systemBearer: { token: string; at: number } | undefined;
  const bearer = async (): Promise<string> => {
    if (systemBearer === undefined || Date.now() - systemBearer.at > 10 * 60_000) {
      systemBearer = { token: await systemToken(testApp, 'system/*.cruds'), at: Date.now() };
    }
    return systemBearer.token;
  };
  if (options.auth !== 'none') {
    app.addHook('onRequest', async (req) => {
      if (req.url.startsWith('/fhir') && req.headers.authorization === undefined) {
        req.headers.authorization = `Bearer ${await bearer()}`;
      }
    });
  }
  await app.ready();
  const testApp: TestApp = {
    app,
    db: tdb.db,
    databaseUrl: tdb.url,
    async request(method, url, body, headers = {}): Promise<TestResponse> {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const res = await app.inject({
        method: method as 'GET',
        url,
        payload,
        headers: { ...(payload !== undefined ? { 'content-type': 'application/fhir+json' } : {}), ...headers },
      });
      let parsed: unknown;
      try {
        parsed = res.body === '' ? undefined : JSON.parse(res.body);
      } catch {
        parsed = undefined;
      }
      return { status: res.statusCode, headers: res.headers as Record<string, string | string[] | undefined>, text: res.body, body: parsed };
    },
    async close(): Promise<void> {
      await app.close();
      await tdb.close();
    },
  };
  return testApp;
}

/**
 * Counts stored rows and versions (to prove a rejected request changed nothing).
 * @param db - database
 * @returns counts
 */
export async function countRows(db: Database): Promise<{ resources: number; versions: number; tokens: number }> {
  const rows = await db.query<{ r: number; v: number; t: number }>(
    'SELECT (SELECT count(*) FROM resource)::int AS r, (SELECT count(*) FROM resource_history)::int AS v, (SELECT count(*) FROM idx_token)::int AS t',
  );
  return { resources: Number(rows[0]!.r), versions: Number(rows[0]!.v), tokens: Number(rows[0]!.t) };
}
