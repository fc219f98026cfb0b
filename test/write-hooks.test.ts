import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { ResourceChange } from '../src/platform/fhir/platform.ts';
import { initFhirPlatform } from '../src/platform/fhir/platform.ts';
import { OperationOutcomeError, badRequest } from '../src/platform/fhir/outcome.ts';
import { buildApp } from '../src/server/app.ts';
import type { TestDatabase } from './support.ts';
import { countRows, createTestDatabase, loadTestConfig } from './support.ts';
import { systemToken } from './auth-support.ts';

/**
 * After-write hooks (platform.ts WriteHook): every stored change is shown once, in order, inside
 * the write's transaction, and a hook that throws rolls the write back.
 */

let tdb: TestDatabase;
let app: FastifyInstance;
let token: string;
const seen: ResourceChange[] = [];
let refuseFamily: string | undefined;

before(async () => {
  tdb = await createTestDatabase();
  const config = loadTestConfig();
  const platform = await initFhirPlatform({ db: tdb.db, baseUrl: `${config.baseUrl}/fhir`, defaultPageSize: config.defaultPageSize, maxPageSize: config.maxPageSize });
  platform.addWriteHook(async (tx, changes) => {
    for (const c of changes) {
      if (refuseFamily !== undefined && JSON.stringify(c.after ?? {}).includes(refuseFamily)) {
        throw new OperationOutcomeError(badRequest(`afvist af testens hook: ${refuseFamily}`));
      }
    }
    // The hook writes in the same transaction: the row commits or rolls back with the data.
    await tx.query(`CREATE TABLE IF NOT EXISTS hook_probe (n int)`);
    await tx.query(`INSERT INTO hook_probe VALUES ($1)`, [changes.length]);
    seen.push(...changes);
  });
  app = await buildApp(config, tdb.db, { platform });
  await app.ready();
  token = await systemToken({ app, db: tdb.db } as Parameters<typeof systemToken>[0], 'system/*.cruds');
});
after(async () => {
  await app.close();
  await tdb.close();
});

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await app.inject({ method: method as 'GET', url, payload: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? { authorization: `Bearer ${token}` } : { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' } });
  return { status: res.statusCode, body: res.body === '' ? {} : (JSON.parse(res.body) as Record<string, unknown>) };
}

describe('after-write hooks', () => {
  test('create, update, patch and delete are each shown once with the previous version', async () => {
    seen.length = 0;
    const created = await call('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Hook' }] });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    assert.equal((await call('PUT', `/fhir/Patient/${id}`, { resourceType: 'Patient', id, name: [{ family: 'Hook2' }] })).status, 200);
    const patched = await fetchPatch(id);
    assert.equal(patched, 200);
    assert.equal((await call('DELETE', `/fhir/Patient/${id}`)).status, 200);
    assert.deepEqual(seen.map((c) => [c.method, c.versionId, c.before === undefined ? undefined : (JSON.parse(c.before) as { meta: { versionId: string } }).meta.versionId, c.after?.id]), [
      ['POST', 1, undefined, id],
      ['PUT', 2, '1', id],
      ['PATCH', 3, '2', id],
      ['DELETE', 4, '3', undefined],
    ]);
    assert.ok(seen.every((c) => c.resourceType === 'Patient' && c.id === id && !c.trusted));
  });

  test('a transaction Bundle shows its writes in order, and a throwing hook rolls all of it back', async () => {
    seen.length = 0;
    const bundle = (family: string): unknown => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:6f1c8e8e-1d1b-4b43-9a53-5b1f7a1c0001', resource: { resourceType: 'Patient', name: [{ family }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:6f1c8e8e-1d1b-4b43-9a53-5b1f7a1c0001' } }, request: { method: 'POST', url: 'Observation' } },
      ],
    });
    const ok = await call('POST', '/fhir', bundle('Transaktion'));
    assert.equal(ok.status, 200);
    assert.deepEqual(seen.map((c) => c.resourceType), ['Patient', 'Observation']);
    const probesBefore = await probes();
    const rowsBefore = await countRows(tdb.db);
    refuseFamily = 'Afvist';
    try {
      const refused = await call('POST', '/fhir', bundle('Afvist'));
      assert.equal(refused.status, 400);
      assert.match(JSON.stringify(refused.body), /afvist af testens hook/);
    } finally {
      refuseFamily = undefined;
    }
    assert.deepEqual(await countRows(tdb.db), rowsBefore);
    assert.equal(await probes(), probesBefore);
  });
});

async function probes(): Promise<number> {
  const rows = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM hook_probe');
  return rows[0]!.n;
}

async function fetchPatch(id: string): Promise<number> {
  const res = await app.inject({
    method: 'PATCH',
    url: `/fhir/Patient/${id}`,
    payload: JSON.stringify([{ op: 'replace', path: '/name/0/family', value: 'Hook3' }]),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json-patch+json' },
  });
  return res.statusCode;
}
