import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';

/**
 * The hook through which the access layer (src/platform/access) restricts what one caller's
 * repository sees and writes. The FHIR layer knows nothing of roles, relations or consent: it
 * adds the guard's SQL predicate to every query that returns stored rows (read, vread, search,
 * includes, chains, `_has`, history, compartments) and asks the guard before each write.
 */

/** Binds a value as a query parameter and returns its placeholder (`$n`). */
export type Bind = (value: unknown) => string;

/** SMART interaction letters: create, read, update, delete, search. */
export type AccessOp = 'c' | 'r' | 'u' | 'd' | 's';

export interface AccessGuard {
  /**
   * Throws an OperationOutcomeError (403) when the caller may not perform `op` on `resourceType`
   * at all (no scope grants it, or the role never may).
   */
  permit(op: AccessOp, resourceType: string): void;
  /**
   * SQL predicate over a `resource` row alias: true for rows the caller may read. Must only
   * reference `alias` and bound values; its own subqueries use aliases starting with `ac_`.
   */
  readFilter(alias: string, bind: Bind): string;
  /**
   * Checks a write against the stored version (`before`, undefined on create) and the proposed
   * one (`after`, undefined on delete), given as patient compartments. Throws 403 for a write
   * the caller may never make, 404 when the stored resource is out of the caller's reach.
   */
  checkWrite(q: Queryable, op: 'c' | 'u' | 'd', resourceType: string, before: readonly string[] | undefined, after: readonly string[] | undefined, resource?: Resource): Promise<void>;
  /** Notes data that left, or was asked for and refused, for the audit record. */
  touched(resourceType: string, id: string, compartments: readonly string[]): void;
  /** Runs inside the outermost write transaction just before it commits (the audit row goes here). */
  beforeCommit(tx: Queryable): Promise<void>;
  /** Runs when that transaction did not commit. */
  afterRollback(): void;
}
