import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from './database.ts';

const MIGRATIONS_DIR = path.join(import.meta.dirname, 'migrations');
/** Arbitrary constant: serialises concurrent starters so each migration runs once. */
const MIGRATION_LOCK = 727_001;

interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Lists the versioned migrations shipped with the platform (`NNNN_name.sql`), in order.
 * @returns the migrations
 */
export function listMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 4)),
      name: f.slice(5, -4),
      sql: readFileSync(path.join(MIGRATIONS_DIR, f), 'utf8'),
    }));
}

/**
 * Applies every migration not yet applied, each in its own transaction, under an advisory lock.
 * @param db - the database
 * @returns the versions applied now
 */
export async function migrate(db: Database): Promise<number[]> {
  await db.query(
    `CREATE TABLE IF NOT EXISTS schema_migration (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  const applied: number[] = [];
  for (const m of listMigrations()) {
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const done = await tx.query('SELECT 1 FROM schema_migration WHERE version = $1', [m.version]);
      if (done.length > 0) {
        return;
      }
      for (const statement of splitStatements(m.sql)) {
        await tx.query(statement);
      }
      await tx.query('INSERT INTO schema_migration (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    });
  }
  return applied;
}

/** Splits a migration file on semicolons at line ends (function bodies use $$ quoting and are kept whole). */
function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let inDollar = false;
  for (const line of sql.split('\n')) {
    if (line.trim().startsWith('--') && !inDollar) {
      continue;
    }
    const dollars = line.match(/\$\$/g)?.length ?? 0;
    if (dollars % 2 === 1) {
      inDollar = !inDollar;
    }
    current += line + '\n';
    if (!inDollar && line.trimEnd().endsWith(';')) {
      out.push(current.trim());
      current = '';
    }
  }
  if (current.trim() !== '') {
    out.push(current.trim());
  }
  return out;
}
