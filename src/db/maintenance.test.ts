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
});
