import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestApp } from './support.ts';
import { createTestApp } from './support.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => {
  await t.close();
});

test('a created patient reads back and is found by a Danish name written without Danish letters', async () => {
  const created = await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Sørensen', given: ['Åse'] }], birthDate: '1980-05-06' });
  assert.equal(created.status, 201);
  const id = created.body.id as string;
  const read = await t.request('GET', `/fhir/Patient/${id}`);
  assert.equal(read.status, 200);
  assert.equal(read.headers.etag, 'W/"1"');
  assert.deepEqual(read.body.name, [{ family: 'Sørensen', given: ['Åse'] }]);
  const found = await t.request('GET', '/fhir/Patient?name=soerensen');
  assert.equal(found.body.total, 1);
  const byGiven = await t.request('GET', '/fhir/Patient?given=aase');
  assert.equal(byGiven.body.total, 1);
  const none = await t.request('GET', '/fhir/Patient?name=jensen');
  assert.equal(none.body.total, 0);
});
