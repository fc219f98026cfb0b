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
export function toParam(v: unknown): unknown {
  return Array.isArray(v) ? toArrayLiteral(v) : v;
}

const ARRAY_ELEMENT_SPECIALS = /[\\"]/g;

/**
 * What JSON may write differently from an array literal's element: control characters (JSON
 * escapes them as \n, \u0001 …, which the array parser would read as n, u0001 …) and lone
 * surrogates (escaped too). Any surrogate sends the value the slow way: a plain character class
 * scans much faster than a Unicode-aware search for lone ones, and surrogates are rare here.
 */
const JSON_ONLY_ESCAPES = /[\u0000-\u001f\ud800-\udfff]/;

/**
 * True when JSON.stringify of the array is, between its brackets, the array literal's elements:
 * JSON escapes only `"` and `\` in these values, as the literal does, and writes null as `null`,
 * which the literal reads as NULL.
 */
function jsonSpellsLiteral(values: readonly unknown[]): boolean {
  for (const v of values) {
    if (typeof v === 'string') {
      if (JSON_ONLY_ESCAPES.test(v)) {
        return false;
      }
    } else if (!(v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
      return false;
    }
  }
  return true;
}

function toArrayLiteral(values: readonly unknown[]): string {
  // Resource contents are JSON text full of quotes: the engine's JSON writer escapes them about
  // ten times faster than a replace per element.
  if (jsonSpellsLiteral(values)) {
    const json = JSON.stringify(values);
    return `{${json.slice(1, -1)}}`;
  }
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
