import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/load.ts';
import { openDatabase } from '../db/index.ts';
import type { Database } from '../db/index.ts';
import { ensureDemoDataOnStart } from '../platform/population/index.ts';
import { buildApp } from './app.ts';
import { loadValidator } from './validator.ts';
import { buildWebBundle } from './web.ts';

/** A running server. */
export interface RunningServer {
  readonly app: FastifyInstance;
  readonly db: Database;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Opens the database, builds the app and listens.
 * @param config - configuration
 * @returns the running server
 */
export async function startServer(config: Config): Promise<RunningServer> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const validator = await loadValidator(config);
  if (config.seedDemo) {
    // Demo data (reference data, demo users, 1,000 citizens) once on an empty database; DSD_SEED_DEMO=false skips it.
    await ensureDemoDataOnStart(db, validator, `${config.baseUrl}/fhir`, (line) => process.stdout.write(`${line}\n`));
  }
  const app = await buildApp(config, db, { validator, messagingDispatcher: true });
  // The front end is bundled before the first visitor asks for it.
  await buildWebBundle();
  await app.listen({ port: config.port, host: config.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : config.port;
  return {
    app,
    db,
    url: `http://localhost:${port}`,
    async close(): Promise<void> {
      await app.close();
      await db.close();
    },
  };
}
