import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { messagingCommand } from '../../src/cli/messaging.ts';
import { initFhirPlatform } from '../../src/platform/fhir/platform.ts';
import { FhirRepository } from '../../src/platform/fhir/repo.ts';
import type { TestDatabase } from '../support.ts';
import { createTestDatabase } from '../support.ts';

/** `dsd messaging …` against a real database: what an operator sets up, and what it refuses. */

let tdb: TestDatabase;

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await messagingCommand(argv, tdb.db, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

async function count(table: string): Promise<number> {
  const rows = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return Number(rows[0]!.n);
}

before(async () => {
  tdb = await createTestDatabase();
  const repo = new FhirRepository(await initFhirPlatform({ db: tdb.db, baseUrl: 'http://localhost/fhir', defaultPageSize: 20, maxPageSize: 100 }));
  await repo.update({ resourceType: 'Organization', id: 'cli-unit', name: 'Hjemmesygeplejen, testkommune' }, 'cli-unit', {});
});

after(async () => {
  await tdb.close();
});

describe('dsd messaging', () => {
  it('binds a client to an existing organisation only', async () => {
    const unknown = await run('bind', '--client', 'lab-x', '--organization', 'no-such-unit');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /no-such-unit/);
    assert.equal(await count('messaging_sender'), 0);
    const ok = await run('bind', '--client', 'lab-x', '--organization', 'cli-unit');
    assert.equal(ok.code, 0, ok.err);
    assert.equal(await count('messaging_sender'), 1);
  });

  it('registers a delivery URL only on an allowed host', async () => {
    const refused = await run('url', '--organization', 'cli-unit', '--url', 'http://127.0.0.1:9/inbox');
    assert.equal(refused.code, 2);
    assert.match(refused.err, /127\.0\.0\.1/);
    assert.equal(await count('messaging_delivery_url'), 0);
    assert.equal((await run('allow-host', '127.0.0.1')).code, 0);
    const ok = await run('url', '--organization', 'cli-unit', '--url', 'http://127.0.0.1:9/inbox');
    assert.equal(ok.code, 0, ok.err);
    assert.equal(await count('messaging_delivery_url'), 1);
  });

  it('lists dead letters and refuses to retry what is not one', async () => {
    const list = await run('dead-letters');
    assert.equal(list.code, 0);
    assert.equal(list.out, 'No dead letters.\n');
    const retry = await run('retry', '--id', '999');
    assert.equal(retry.code, 2);
    assert.match(retry.err, /not a dead letter/);
  });

  it('answers a wrong or incomplete command with the usage', async () => {
    for (const argv of [['nonsense'], ['bind', '--client', 'x'], ['retry', '--id', 'abc'], []]) {
      const r = await run(...argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, /dsd messaging bind/);
    }
  });
});
