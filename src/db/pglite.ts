import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable, Row } from './database.ts';
import { normalizeDatabaseError } from './database.ts';

/**
 * Opens the embedded PostgreSQL (PGlite, compiled to WebAssembly).
 * @param dataDir - a directory on disk, or `memory://` for an in-memory database
 * @returns the database
 */
export async function openPglite(dataDir: string): Promise<Database> {
  const pg = await PGlite.create(dataDir);
  const wrap = (q: Pick<PGlite, 'query'>): Queryable => ({
    async query<T extends Row>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      try {
        const res = await q.query<T>(text, params as unknown[]);
        return res.rows;
      } catch (err) {
        throw normalizeDatabaseError(err);
      }
    },
  });
  const { query } = wrap(pg);
  return {
    dialect: 'pglite',
    query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      try {
        return await pg.transaction(async (tx) => fn(wrap(tx)));
      } catch (err) {
        throw normalizeDatabaseError(err);
      }
    },
    async close(): Promise<void> {
      await pg.close();
    },
  };
}
