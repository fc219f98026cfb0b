import { mkdirSync } from 'node:fs';
import type { Database } from './database.ts';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

export type { Database, Queryable, Row } from './database.ts';
export { DatabaseError } from './database.ts';

/** What openDatabase needs to know. */
export interface DatabaseOptions {
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
}

/**
 * Opens the configured database (PostgreSQL when a URL is given, else embedded PGlite) and runs migrations.
 * @param options - database URL or embedded data directory
 * @returns the migrated database
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  let db: Database;
  if (options.databaseUrl !== undefined) {
    db = openPostgres(options.databaseUrl);
  } else {
    if (!options.dataDir.startsWith('memory://')) {
      mkdirSync(options.dataDir, { recursive: true });
    }
    db = await openPglite(options.dataDir);
  }
  await migrate(db);
  return db;
}
