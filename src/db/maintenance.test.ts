import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestDatabase } from '../../test/support.ts';
import { createTestDatabase } from '../../test/support.ts';
import { createStatisticsKeeper } from './maintenance.ts';

let tdb: TestDatabase;

before(async () => {
  tdb = await createTestDatabase();
});

after(async () => {
  await tdb.close();
});

async function tableState(): Promise<{ allVisible: number; analysed: boolean }> {
  const rows = await tdb.db.query<{ all_visible: number; tuples: number }>("SELECT relallvisible::int AS all_visible, reltuples::float8 AS tuples FROM pg_class WHERE relname = 'resource'");
  return { allVisible: Number(rows[0]!.all_visible), analysed: Number(rows[0]!.tuples) > 0 };
}

/** Polls `check` until it holds or 15 s have passed. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await check()) {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('statistics keeper', () => {
  it('vacuums and analyses after enough writes, so index-only reads can skip the table', async () => {
    await tdb.db.query(
      `INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, content, compartments)
       SELECT 'Basic', 'b' || g, 1, now(), false, '{"resourceType":"Basic"}', '{}' FROM generate_series(1, 3000) AS g`,
    );
    assert.deepEqual(await tableState(), { allVisible: 0, analysed: false }, 'nothing has vacuumed the new rows yet');
    const failures: unknown[] = [];
    const keeper = createStatisticsKeeper(tdb.db, { minRows: 2000 }, (err) => failures.push(err));
    keeper.noteWrites(1999);
    await keeper.idle();
    assert.equal((await tableState()).allVisible, 0, 'below the threshold nothing runs');
    keeper.noteWrites(1001);
    await keeper.idle();
    const state = await tableState();
    assert.deepEqual(failures, []);
    assert.ok(state.allVisible > 0, 'the visibility map is set');
    assert.ok(state.analysed, 'the statistics are fresh');
  });

  it('vacuums the rows below the threshold once writes go quiet, and not while they go on', async () => {
    await tdb.db.query(
      `INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, content, compartments)
       SELECT 'Basic', 'q' || g, 1, now(), false, '{"resourceType":"Basic"}', '{}' FROM generate_series(1, 3000) AS g`,
    );
    const pagesNotVisible = async (): Promise<number> => {
      const rows = await tdb.db.query<{ n: number }>("SELECT (relpages - relallvisible)::int AS n FROM pg_class WHERE relname = 'resource'");
      return Number(rows[0]!.n);
    };
    // After the first test's vacuum, the new rows' pages are not all-visible.
    const failures: unknown[] = [];
    const keeper = createStatisticsKeeper(tdb.db, { minRows: 1_000_000, quietMs: 1000, quietMinRows: 100 }, (err) => failures.push(err));
    await tdb.db.query('ANALYZE resource');
    const before = await pagesNotVisible();
    assert.ok(before > 0, 'the new rows are not vacuumed yet');
    // Writes every 100 ms keep it from running.
    for (let i = 0; i < 6; i++) {
      keeper.noteWrites(500);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await pagesNotVisible(), before, 'nothing runs while writes go on');
    assert.ok(await eventually(async () => (await pagesNotVisible()) === 0), 'the quiet period vacuumed them');
    await keeper.idle();
    assert.deepEqual(failures, []);
  });

  it('leaves a few rows alone when writes go quiet', async () => {
    const failures: unknown[] = [];
    let runs = 0;
    const counting = { ...tdb.db, query: async <T extends Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]> => { runs++; return tdb.db.query<T>(text, params); } };
    const keeper = createStatisticsKeeper(counting, { minRows: 1_000_000, quietMs: 100, quietMinRows: 100 }, (err) => failures.push(err));
    keeper.noteWrites(99);
    await new Promise((r) => setTimeout(r, 400));
    await keeper.idle();
    assert.equal(runs, 0);
    keeper.noteWrites(1);
    assert.ok(await eventually(() => Promise.resolve(runs === 1)), 'enough rows: vacuumed');
    await keeper.idle();
    assert.deepEqual(failures, []);
  });
});
