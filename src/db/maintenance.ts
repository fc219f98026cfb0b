import type { Database } from './database.ts';

/**
 * Keeps planner statistics fresh and the visibility map set after bulk writes. PostgreSQL's
 * autovacuum does this on a server where it is on (after a delay), but it can be off, and the
 * embedded database has none at all. A search planned on stale statistics can pick a plan
 * hundreds of times slower; and until a table is vacuumed, every index-only read of row ids
 * still visits the table (measured on 1,000,000 resources: search p50 17.4 ms before a vacuum,
 * 7.2 ms after; an exact total of one Observation code 235 ms, then 25 ms). The platform counts
 * the rows it writes and runs VACUUM (ANALYZE) in the background once enough have changed since
 * the last one. On a server it blocks neither reads nor writes; the embedded database runs one
 * statement at a time, so there requests wait while it runs.
 */
export interface StatisticsKeeper {
  /** Records that `rows` resources were written; may start a background VACUUM (ANALYZE). */
  noteWrites(rows: number): void;
  /** Cancels a run waiting for quiet and waits for a running VACUUM (ANALYZE) (for shutdown and tests). */
  idle(): Promise<void>;
}

/** Thresholds of the statistics keeper. */
export interface StatisticsKeeperOptions {
  /** Rows written before the first run, and at least between two runs. */
  readonly minRows?: number;
  /** While writes go on, the next run waits for this growth since the last one (1: the tables doubled). */
  readonly fraction?: number;
  /** When writes stop for this long, rows not yet vacuumed are vacuumed (ms). */
  readonly quietMs?: number;
  /** …if there are at least this many, and at least `quietFraction` of the rows counted so far. */
  readonly quietMinRows?: number;
  readonly quietFraction?: number;
}

/**
 * Runs are spaced by growth while a bulk load goes on, since every run samples each of the ten
 * tables anew: with a run after every 20% of growth (about 18 runs for 100,000 resources) the
 * benchmark ingested 1,239 resources/s, with one per doubling 1,453/s. The rows of the last
 * stretch are vacuumed once writes go quiet, as autovacuum would after its nap.
 * @param db - the database
 * @param options - thresholds
 * @param onError - receives a failed VACUUM (ANALYZE) (it is retried on the next threshold)
 * @returns the keeper
 */
export function createStatisticsKeeper(db: Database, options: StatisticsKeeperOptions = {}, onError: (err: unknown) => void = () => undefined): StatisticsKeeper {
  const minRows = options.minRows ?? 2000;
  const fraction = options.fraction ?? 1;
  const quietMs = options.quietMs ?? 3000;
  const quietMinRows = options.quietMinRows ?? 200;
  const quietFraction = options.quietFraction ?? 0.05;
  let sinceLast = 0;
  let totalAtLast = 0;
  let running: Promise<void> | undefined;
  let quiet: NodeJS.Timeout | undefined;
  const run = (): void => {
    const counted = sinceLast;
    sinceLast = 0;
    running = (async (): Promise<void> => {
      try {
        await db.query('VACUUM (ANALYZE) resource, resource_history, idx_token, idx_string, idx_date, idx_number, idx_quantity, idx_reference, idx_uri, idx_text');
        totalAtLast += counted;
      } catch (err) {
        sinceLast += counted;
        onError(err);
      } finally {
        running = undefined;
      }
    })();
  };
  const worthAfterQuiet = (): boolean => sinceLast >= Math.max(quietMinRows, (totalAtLast + sinceLast) * quietFraction);
  const onQuiet = (): void => {
    quiet = undefined;
    if (running !== undefined) {
      // Still busy with the last run: look again after another quiet period.
      quiet = setTimeout(onQuiet, quietMs).unref();
    } else if (worthAfterQuiet()) {
      run();
    }
  };
  return {
    noteWrites(rows: number): void {
      sinceLast += rows;
      if (running === undefined && sinceLast >= Math.max(minRows, totalAtLast * fraction)) {
        run();
        return;
      }
      if (quiet !== undefined) {
        quiet.refresh();
      } else if (worthAfterQuiet()) {
        quiet = setTimeout(onQuiet, quietMs).unref();
      }
    },
    async idle(): Promise<void> {
      clearTimeout(quiet);
      quiet = undefined;
      await running;
    },
  };
}
