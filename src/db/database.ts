/** A row as returned by the database driver. */
export type Row = Record<string, unknown>;

/** Something SQL can be sent to: the database itself or an open transaction. */
export interface Queryable {
  /**
   * Runs one parameterised statement.
   * @param text - SQL with $1, $2 … placeholders
   * @param params - the values, never concatenated into the text
   * @returns the rows
   */
  readonly query: <T extends Row = Row>(text: string, params?: readonly unknown[]) => Promise<T[]>;
}

/** The one database interface of the platform; PGlite and PostgreSQL implement it. */
export interface Database extends Queryable {
  readonly dialect: 'pglite' | 'postgres';
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * Inside `fn` use only `tx`, never the outer database.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A database error with the HTTP status it should surface as (see normalizeDatabaseError). */
export class DatabaseError extends Error {
  readonly status: number;
  readonly sqlState: string | undefined;
  constructor(message: string, status: number, sqlState: string | undefined) {
    super(message);
    this.status = status;
    this.sqlState = sqlState;
  }
}

/**
 * Maps a driver error to a DatabaseError with a status: unique violation and serialization
 * failure are conflicts (409), statement timeout is 504, anything else stays an internal error.
 * @param err - the error thrown by the driver
 * @returns the normalised error
 */
export function normalizeDatabaseError(err: unknown): unknown {
  if (typeof err !== 'object' || err === null || !('code' in err)) {
    return err;
  }
  const code = String((err).code);
  switch (code) {
    case '23505':
      return new DatabaseError('The resource was changed concurrently (unique constraint); retry the request', 409, code);
    case '40001':
    case '40P01':
      return new DatabaseError('The request conflicted with a concurrent one; retry it', 409, code);
    case '57014':
      return new DatabaseError('The database query took too long and was cancelled', 504, code);
    case '54001':
      return new DatabaseError('The request is too complex for the database (stack depth)', 400, code);
    default:
      return err;
  }
}
