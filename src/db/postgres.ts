import postgres from 'postgres';
import type { Database, Queryable, Row } from './database.ts';
import { normalizeDatabaseError } from './database.ts';

/**
 * Connects to a PostgreSQL server.
 * @param url - a postgres:// connection string
 * @param max - pool size
 * @returns the database
 */
export function openPostgres(url: string, max = 10): Database {
  const sql = postgres(url, {
    max,
    onnotice: () => undefined,
    // Keep values as the server sends them where JavaScript would lose precision.
    types: { bigint: postgres.BigInt },
    prepare: true,
    // Prepared statements save a round trip; each execution is still planned for its own values,
    // as an unprepared one would be (a generic plan can be far off for skewed search values).
    connection: { plan_cache_mode: 'force_custom_plan' },
  });
  const prepared = new PreparedTexts(MAX_PREPARED_TEXTS);
  const wrap = (s: postgres.Sql | postgres.TransactionSql): Queryable => ({
    async query<T extends Row>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      try {
        const rows = await s.unsafe(text, params.map(toParam) as postgres.ParameterOrJSON<never>[], { prepare: prepared.admit(text) });
        return rows as unknown as T[];
      } catch (err) {
        throw normalizeDatabaseError(err);
      }
    },
  });
  const { query } = wrap(sql);
  return {
    dialect: 'postgres',
    query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      try {
        return (await sql.begin(async (tx) => fn(wrap(tx)))) as T;
      } catch (err) {
        throw normalizeDatabaseError(err);
      }
    },
    async close(): Promise<void> {
      await sql.end({ timeout: 5 });
    },
  };
}

/**
 * How many distinct statement texts each connection keeps prepared on the server. An unprepared
 * statement with parameters costs the driver a second round trip (it asks the server for the
 * parameter types first), so the platform's own statements are prepared. Search SQL is built per
 * query shape, so the number of texts is capped to bound the server's memory per connection.
 */
const MAX_PREPARED_TEXTS = 1000;

/** The statement texts admitted for preparing: the first `limit` distinct texts seen, then no more. */
class PreparedTexts {
  private readonly texts = new Set<string>();
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }

  admit(text: string): boolean {
    if (this.texts.has(text)) {
      return true;
    }
    if (this.texts.size >= this.limit) {
      return false;
    }
    this.texts.add(text);
    return true;
  }
}

/** Arrays go as PostgreSQL array literals (the driver's own inference mistypes some element types). */
function toParam(v: unknown): unknown {
  return Array.isArray(v) ? toArrayLiteral(v) : v;
}

const ARRAY_ELEMENT_SPECIALS = /[\\"]/g;

function toArrayLiteral(values: readonly unknown[]): string {
  const items = values.map((v) => {
    if (v === null || v === undefined) {
      return 'NULL';
    }
    if (typeof v === 'boolean') {
      return v ? 't' : 'f';
    }
    const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : JSON.stringify(v);
    return `"${s.replace(ARRAY_ELEMENT_SPECIALS, '\\$&')}"`;
  });
  return `{${items.join(',')}}`;
}
