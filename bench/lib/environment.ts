import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import postgres from 'postgres';
import { loadConfig } from '../../src/config/load.ts';
import type { Database } from '../../src/db/index.ts';
import { openDatabase } from '../../src/db/index.ts';
import { buildApp } from '../../src/server/app.ts';
import { clientCredentialsToken, generateClientKey, registerBackendClient } from '../../src/platform/identity/index.ts';

/** A throw-away PostgreSQL database created for this run on the server of DATABASE_URL. */
export interface ScratchDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/**
 * An existing database on the server that `adminUrl` points at, used as it is and never dropped.
 * @param adminUrl - a connection string to any database on the server
 * @param name - the database's name
 * @returns its URL, with a drop that does nothing
 */
export function existingDatabase(adminUrl: string, name: string): ScratchDatabase {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: (): Promise<void> => Promise.resolve() };
}

/**
 * Creates `bench_<timestamp>` on the server that `adminUrl` points at.
 * @param adminUrl - a connection string to any database on the server (e.g. `/postgres`)
 * @returns the new database's URL and a function dropping it
 */
export async function createScratchDatabase(adminUrl: string): Promise<ScratchDatabase> {
  const name = `bench_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  return {
    ...existingDatabase(adminUrl, name),
    async drop(): Promise<void> {
      const a = postgres(adminUrl, { max: 1, onnotice: () => undefined });
      try {
        try {
          await a.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        } catch {
          // PostgreSQL before 13 has no FORCE.
          await a.unsafe(`DROP DATABASE IF EXISTS "${name}"`);
        }
      } finally {
        await a.end({ timeout: 5 });
      }
    },
  };
}

/** The server under test, listening on 127.0.0.1. */
export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

function portOf(app: FastifyInstance): number {
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('server is not listening on a TCP port');
  }
  return address.port;
}

/**
 * Opens the platform's database (migrations run inside).
 * @param databaseUrl - PostgreSQL URL, or undefined for in-memory PGlite
 * @returns the database
 */
export async function openBenchDatabase(databaseUrl: string | undefined): Promise<Database> {
  return openDatabase({ databaseUrl, dataDir: 'memory://' });
}

/**
 * Builds the platform app (FHIR packages off for start-up speed, logging off unless
 * BENCH_LOG_LEVEL is set) and listens on a free port.
 * @param db - the database it uses
 * @param databaseUrl - for the configuration only
 * @returns the running server
 */
export async function startPlatform(db: Database, databaseUrl: string | undefined, access: 'controlled' | 'open'): Promise<RunningServer> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DSD_BASE_URL: PUBLIC_BASE,
    DATABASE_URL: databaseUrl,
    DSD_DATA_DIR: 'memory://',
    DSD_FHIR_PACKAGES: '',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
  });
  const app = await buildApp(config, db, { withoutAccessControl: access === 'open' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: portOf(app), close: () => app.close() };
}

/** The public base URL the platform is configured with (tokens name it as issuer and audience). */
const PUBLIC_BASE = 'http://localhost:8080';

/**
 * A backend client's access token from the platform's token endpoint (SMART Backend Services:
 * client_credentials with a signed client assertion), as an integrating system gets one.
 * @param db - the platform's database (the client is registered there, as `dsd client add` does)
 * @param port - where the platform listens
 * @param scope - the system/ scopes to register and ask for
 * @returns the access token
 */
export async function backendToken(db: Database, port: number, scope: string): Promise<string> {
  const jwk = await generateClientKey();
  const clientId = `bench-${process.pid}-${Date.now()}`;
  await registerBackendClient(db, { clientId, jwks: { keys: [jwk] }, scope, name: 'Benchmark load client' });
  // The assertion's audience is the public token URL; the request goes to the listening port.
  const toPort: typeof fetch = (input, init) => fetch(String(input instanceof Request ? input.url : input).replace(PUBLIC_BASE, `http://127.0.0.1:${port}`), init);
  const res = await clientCredentialsToken(`${PUBLIC_BASE}/auth/token`, clientId, jwk, scope, toPort);
  return res.access_token;
}

/**
 * The read baseline: a bare Fastify app with one route doing the same primary-key SELECT
 * through the same Database object, replying with the stored JSON text.
 * @param db - the platform's database
 * @returns the running server
 */
export async function startBaseline(db: Database): Promise<RunningServer> {
  const app = Fastify({ logger: false });
  app.get<{ Params: { id: string } }>('/baseline/Patient/:id', async (request, reply) => {
    const rows = await db.query<{ content: string }>('SELECT content FROM resource WHERE resource_type = $1 AND id = $2', ['Patient', request.params.id]);
    const row = rows[0];
    if (row === undefined) {
      return reply.code(404).type('application/fhir+json').send('{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}');
    }
    return reply.type('application/fhir+json').send(row.content);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: portOf(app), close: () => app.close() };
}
