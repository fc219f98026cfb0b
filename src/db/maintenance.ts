import type { Database } from './database.ts';

/**
 * Keeps planner statistics fresh after bulk writes. PostgreSQL's autovacuum does this on a server
 * (after a delay), but the embedded database has no autovacuum at all, and a search planned on
 * stale statistics can pick a plan hundreds of times slower. The platform counts the rows it
 * writes and runs ANALYZE in the background once enough have changed since the last one.
 */
export interface StatisticsKeeper {
  /** Records that `rows` resources were written; may start a background ANALYZE. */
  noteWrites(rows: number): void;
  /** Waits for a running ANALYZE (for shutdown and tests). */
  idle(): Promise<void>;
}

/**
 * @param db - the database
 * @param options - thresholds: analyse after `minRows` writes or `fraction` growth, whichever is larger
 * @param onError - receives a failed ANALYZE (it is retried on the next threshold)
 * @returns the keeper
 */
export function createStatisticsKeeper(
  db: Database,
  options: { minRows?: number; fraction?: number } = {},
  onError: (err: unknown) => void = () => undefined,
): StatisticsKeeper {
  const minRows = options.minRows ?? 2000;
  const fraction = options.fraction ?? 0.2;
  let sinceLast = 0;
  let totalAtLast = 0;
  let running: Promise<void> | undefined;
  return {
    noteWrites(rows: number): void {
      sinceLast += rows;
      if (running !== undefined || sinceLast < Math.max(minRows, totalAtLast * fraction)) {
        return;
      }
      const counted = sinceLast;
      sinceLast = 0;
      running = (async (): Promise<void> => {
        try {
          await db.query('ANALYZE resource, resource_history, idx_token, idx_string, idx_date, idx_number, idx_quantity, idx_reference, idx_uri, idx_text');
          totalAtLast += counted;
        } catch (err) {
          sinceLast += counted;
          onError(err);
        } finally {
          running = undefined;
        }
      })();
    },
    async idle(): Promise<void> {
      await running;
    },
  };
}
