import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestApp, TestResponse } from './support.ts';
import { countRows, createTestApp } from './support.ts';

/**
 * The FHIR RESTful API over HTTP (https://hl7.org/fhir/R4/http.html): every interaction the
 * CapabilityStatement declares, with status codes, headers and bodies.
 */

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => {
  await t.close();
});

const BASE = 'http://localhost/fhir';
const SYS = 'urn:dsd:test:rest';
const JSON_PATCH = { 'content-type': 'application/json-patch+json' };

/** A fresh identifier value, so tests never see each other's resources. */
function uniq(): string {
  return randomUUID();
}

function patient(value: string, family = 'Hansen'): Record<string, unknown> {
  return { resourceType: 'Patient', identifier: [{ system: SYS, value }], name: [{ family, given: ['Ib'] }], gender: 'male', birthDate: '1970-01-01' };
}

function observation(patientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: 'Puls' }, subject: { reference: `Patient/${patientId}` }, ...extra };
}

async function create(body: Record<string, unknown>): Promise<{ id: string; res: TestResponse }> {
  const res = await t.request('POST', `/fhir/${String(body.resourceType)}`, body);
  assert.equal(res.status, 201, res.text);
  return { id: res.body.id as string, res };
}

/** Strips the base of an absolute link so it can be sent through inject. */
function local(url: string): string {
  assert.ok(url.startsWith(BASE), `link ${url} is not below ${BASE}`);
  return url.slice('http://localhost'.length);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A `_since` marker strictly between earlier and later writes. */
async function marker(): Promise<string> {
  await sleep(5);
  const m = new Date().toISOString();
  await sleep(5);
  return m;
}

function assertOutcome(res: TestResponse, status: number): void {
  assert.equal(res.status, status, res.text);
  assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
  assert.equal(res.body?.resourceType, 'OperationOutcome', res.text);
  if (status >= 400) {
    assert.ok(['error', 'fatal'].includes(res.body.issue[0].severity as string), res.text);
  }
}

/** Follows `next` links from `url`, returning every page. */
async function allPages(url: string, maxPages = 100): Promise<TestResponse[]> {
  const pages: TestResponse[] = [];
  let next: string | undefined = url;
  while (next !== undefined) {
    const res = await t.request('GET', next);
    assert.equal(res.status, 200, res.text);
    pages.push(res);
    const link = (res.body.link as { relation: string; url: string }[]).find((l) => l.relation === 'next');
    next = link === undefined ? undefined : local(link.url);
    assert.ok(pages.length <= maxPages, 'paging does not end');
  }
  return pages;
}

describe('create, read and vread', () => {
  test('create assigns an id, ignores a client id and answers 201 with Location, ETag and Last-Modified', async () => {
    const body: Record<string, unknown> = { ...patient(uniq()), id: 'client-chosen-id' };
    const res = await t.request('POST', '/fhir/Patient', body);
    assert.equal(res.status, 201, res.text);
    const id = res.body.id as string;
    assert.notEqual(id, 'client-chosen-id');
    assert.match(id, /^[A-Za-z0-9\-.]{1,64}$/);
    assert.equal(res.headers.location, `${BASE}/Patient/${id}/_history/1`);
    assert.equal(res.headers.etag, 'W/"1"');
    assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
    assert.ok(!Number.isNaN(Date.parse(String(res.headers['last-modified']))));
    assert.equal(res.body.meta.versionId, '1');
    assert.ok(!Number.isNaN(Date.parse(res.body.meta.lastUpdated as string)));
    assert.deepEqual(res.body.name, body.name);
    const clientId = await t.request('GET', '/fhir/Patient/client-chosen-id');
    assert.equal(clientId.status, 404);
  });

  test('read returns the current version with its ETag; unknown ids and types are 404', async () => {
    const { id, res: created } = await create(patient(uniq()));
    const read = await t.request('GET', `/fhir/Patient/${id}`);
    assert.equal(read.status, 200);
    assert.equal(read.headers.etag, 'W/"1"');
    assert.equal(read.headers['last-modified'], created.headers['last-modified']);
    assert.equal(read.text, created.text);
    assertOutcome(await t.request('GET', `/fhir/Patient/${uniq()}`), 404);
    assertOutcome(await t.request('GET', `/fhir/NotAType/${id}`), 404);
    const head = await t.request('HEAD', `/fhir/Patient/${id}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.etag, 'W/"1"');
    assert.equal(head.text, '');
  });

  test('vread returns each version as it was; missing versions are 404', async () => {
    const { id } = await create(patient(uniq(), 'Første'));
    const upd = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(uniq(), 'Anden'), id });
    assert.equal(upd.status, 200, upd.text);
    const v1 = await t.request('GET', `/fhir/Patient/${id}/_history/1`);
    assert.equal(v1.status, 200);
    assert.equal(v1.headers.etag, 'W/"1"');
    assert.equal(v1.body.name[0].family, 'Første');
    assert.equal(v1.body.meta.versionId, '1');
    const v2 = await t.request('GET', `/fhir/Patient/${id}/_history/2`);
    assert.equal(v2.status, 200);
    assert.equal(v2.headers.etag, 'W/"2"');
    assert.equal(v2.body.name[0].family, 'Anden');
    assertOutcome(await t.request('GET', `/fhir/Patient/${id}/_history/3`), 404);
    assertOutcome(await t.request('GET', `/fhir/Patient/${id}/_history/0`), 404);
    const notNumber = await t.request('GET', `/fhir/Patient/${id}/_history/abc`);
    assert.ok(notNumber.status === 400 || notNumber.status === 404, notNumber.text);
    assert.equal(notNumber.body.resourceType, 'OperationOutcome');
  });
});

describe('update', () => {
  test('update writes a new version: 200, ETag W/"2", Location with _history/2', async () => {
    const { id } = await create(patient(uniq()));
    const res = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(uniq(), 'Nyt'), id });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.etag, 'W/"2"');
    assert.equal(res.headers.location, `${BASE}/Patient/${id}/_history/2`);
    assert.equal(res.body.meta.versionId, '2');
    assert.equal(res.body.name[0].family, 'Nyt');
    const read = await t.request('GET', `/fhir/Patient/${id}`);
    assert.equal(read.body.name[0].family, 'Nyt');
    assert.equal(read.headers.etag, 'W/"2"');
  });

  test('update needs the id of the URL in the body, and nothing is written otherwise', async () => {
    const { id } = await create(patient(uniq()));
    const before = await countRows(t.db);
    assertOutcome(await t.request('PUT', `/fhir/Patient/${id}`, patient(uniq())), 400);
    assertOutcome(await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(uniq()), id: 'some-other-id' }), 400);
    assertOutcome(await t.request('PUT', `/fhir/Patient/${id}`, { ...observation(id), id }), 400);
    assert.deepEqual(await countRows(t.db), before);
    const read = await t.request('GET', `/fhir/Patient/${id}`);
    assert.equal(read.headers.etag, 'W/"1"');
  });

  test('update-as-create: PUT with a new client id creates it (201)', async () => {
    const id = `client-${uniq()}`;
    const res = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(uniq()), id });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.id, id);
    assert.equal(res.headers.location, `${BASE}/Patient/${id}/_history/1`);
    assert.equal(res.headers.etag, 'W/"1"');
    const read = await t.request('GET', `/fhir/Patient/${id}`);
    assert.equal(read.status, 200);
    const again = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(uniq()), id });
    assert.equal(again.status, 200);
    assert.equal(again.headers.etag, 'W/"2"');
  });
});

describe('conditional create and update', () => {
  test('If-None-Exist: no match creates (201), one match returns it (200), several is 412', async () => {
    const value = uniq();
    const cond = { 'if-none-exist': `identifier=${SYS}|${value}` };
    const first = await t.request('POST', '/fhir/Patient', patient(value), cond);
    assert.equal(first.status, 201, first.text);
    const id = first.body.id as string;

    const before = await countRows(t.db);
    const second = await t.request('POST', '/fhir/Patient', patient(value, 'Anderledes'), cond);
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.id, id);
    assert.equal(second.body.name[0].family, 'Hansen');
    assert.equal(second.headers.etag, 'W/"1"');
    assert.deepEqual(await countRows(t.db), before);

    await create(patient(value)); // now two match
    const before2 = await countRows(t.db);
    assertOutcome(await t.request('POST', '/fhir/Patient', patient(value), cond), 412);
    assert.deepEqual(await countRows(t.db), before2);
  });

  test('conditional update: no match creates, one match updates it, several is 412', async () => {
    const value = uniq();
    const url = `/fhir/Patient?identifier=${encodeURIComponent(`${SYS}|${value}`)}`;
    const created = await t.request('PUT', url, patient(value, 'Ny'));
    assert.equal(created.status, 201, created.text);
    const id = created.body.id as string;
    assert.equal(created.headers.location, `${BASE}/Patient/${id}/_history/1`);

    const updated = await t.request('PUT', url, patient(value, 'Opdateret'));
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.id, id);
    assert.equal(updated.headers.etag, 'W/"2"');
    assert.equal((await t.request('GET', `/fhir/Patient/${id}`)).body.name[0].family, 'Opdateret');

    await create(patient(value));
    const before = await countRows(t.db);
    assertOutcome(await t.request('PUT', url, patient(value, 'Tvetydig')), 412);
    assert.deepEqual(await countRows(t.db), before);
    assert.equal((await t.request('GET', `/fhir/Patient/${id}`)).headers.etag, 'W/"2"');
  });
});

describe('delete', () => {
  test('delete: then read is 410, vread of the deletion is 410, older versions remain, history shows the delete', async () => {
    const { id } = await create(patient(uniq()));
    const del = await t.request('DELETE', `/fhir/Patient/${id}`);
    assert.ok(del.status === 200 || del.status === 204, del.text);
    assertOutcome(await t.request('GET', `/fhir/Patient/${id}`), 410);
    assertOutcome(await t.request('GET', `/fhir/Patient/${id}/_history/2`), 410);
    const v1 = await t.request('GET', `/fhir/Patient/${id}/_history/1`);
    assert.equal(v1.status, 200);
    const hist = await t.request('GET', `/fhir/Patient/${id}/_history`);
    assert.equal(hist.status, 200);
    assert.equal(hist.body.type, 'history');
    assert.equal(hist.body.entry.length, 2);
    const [deletion, original] = hist.body.entry as { request: { method: string }; response: { etag: string }; resource?: unknown }[];
    assert.equal(deletion!.request.method, 'DELETE');
    assert.equal(deletion!.resource, undefined);
    assert.equal(deletion!.response.etag, 'W/"2"');
    assert.equal(original!.request.method, 'POST');
    assert.equal(original!.response.etag, 'W/"1"');
    const search = await t.request('GET', `/fhir/Patient?_id=${id}`);
    assert.equal(search.body.total, 0);
    // Deleting again changes nothing.
    const before = await countRows(t.db);
    const again = await t.request('DELETE', `/fhir/Patient/${id}`);
    assert.ok(again.status === 200 || again.status === 204, again.text);
    assert.deepEqual(await countRows(t.db), before);
  });

  test('conditional delete removes every match and nothing else', async () => {
    const value = uniq();
    const a = await create(patient(value));
    const b = await create(patient(value));
    const other = await create(patient(uniq()));
    const del = await t.request('DELETE', `/fhir/Patient?identifier=${encodeURIComponent(`${SYS}|${value}`)}`);
    assert.ok(del.status === 200 || del.status === 204, del.text);
    assert.equal((await t.request('GET', `/fhir/Patient/${a.id}`)).status, 410);
    assert.equal((await t.request('GET', `/fhir/Patient/${b.id}`)).status, 410);
    assert.equal((await t.request('GET', `/fhir/Patient/${other.id}`)).status, 200);
    const before = await countRows(t.db);
    const none = await t.request('DELETE', `/fhir/Patient?identifier=${encodeURIComponent(`${SYS}|${uniq()}`)}`);
    assert.ok(none.status === 200 || none.status === 204 || none.status === 404, none.text);
    assert.deepEqual(await countRows(t.db), before);
    assertOutcome(await t.request('DELETE', '/fhir/Patient?not-a-param=1'), 400);
    assert.deepEqual(await countRows(t.db), before);
  });
});

describe('JSON Patch', () => {
  test('a patch applies and writes a new version', async () => {
    const { id } = await create(patient(uniq(), 'Før'));
    const res = await t.request('PATCH', `/fhir/Patient/${id}`, [{ op: 'test', path: '/name/0/family', value: 'Før' }, { op: 'replace', path: '/name/0/family', value: 'Efter' }, { op: 'add', path: '/active', value: true }], JSON_PATCH);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.etag, 'W/"2"');
    assert.equal(res.body.name[0].family, 'Efter');
    assert.equal(res.body.active, true);
    const read = await t.request('GET', `/fhir/Patient/${id}`);
    assert.equal(read.body.name[0].family, 'Efter');
    const hist = await t.request('GET', `/fhir/Patient/${id}/_history`);
    assert.equal(hist.body.entry[0].request.method, 'PATCH');
  });

  test('a failing test op is 412; changing the id is 400; a wrong Content-Type is 415; nothing is written', async () => {
    const { id } = await create(patient(uniq(), 'Uændret'));
    const before = await countRows(t.db);
    assertOutcome(await t.request('PATCH', `/fhir/Patient/${id}`, [{ op: 'test', path: '/name/0/family', value: 'Forkert' }, { op: 'replace', path: '/name/0/family', value: 'X' }], JSON_PATCH), 412);
    assertOutcome(await t.request('PATCH', `/fhir/Patient/${id}`, [{ op: 'replace', path: '/id', value: 'another-id' }], JSON_PATCH), 400);
    assertOutcome(await t.request('PATCH', `/fhir/Patient/${id}`, [{ op: 'replace', path: '/resourceType', value: 'Group' }], JSON_PATCH), 400);
    assertOutcome(await t.request('PATCH', `/fhir/Patient/${id}`, [{ op: 'replace', path: '/name/0/family', value: 'X' }]), 415);
    assertOutcome(await t.request('PATCH', `/fhir/Patient/${id}`, { op: 'replace', path: '/name/0/family', value: 'X' }, JSON_PATCH), 400);
    assertOutcome(await t.request('PATCH', `/fhir/Patient/${id}`, [{ op: 'remove', path: '/does/not/exist' }], JSON_PATCH), 400);
    assertOutcome(await t.request('PATCH', `/fhir/Patient/${id}`, [{ op: 'replace', path: '/birthDate', value: 'not a date' }], JSON_PATCH), 422);
    assertOutcome(await t.request('PATCH', `/fhir/Patient/${uniq()}`, [{ op: 'add', path: '/active', value: true }], JSON_PATCH), 404);
    assert.deepEqual(await countRows(t.db), before);
    const read = await t.request('GET', `/fhir/Patient/${id}`);
    assert.equal(read.headers.etag, 'W/"1"');
    assert.equal(read.body.name[0].family, 'Uændret');
  });
});

describe('versioning: If-Match and If-None-Match', () => {
  test('If-Match with the current version succeeds; a stale one is 412 and writes nothing', async () => {
    const { id } = await create(patient(uniq(), 'V1'));
    const ok = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(uniq(), 'V2'), id }, { 'if-match': 'W/"1"' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.etag, 'W/"2"');
    const before = await countRows(t.db);
    assertOutcome(await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(uniq(), 'Stale'), id }, { 'if-match': 'W/"1"' }), 412);
    assertOutcome(await t.request('PATCH', `/fhir/Patient/${id}`, [{ op: 'replace', path: '/name/0/family', value: 'Stale' }], { ...JSON_PATCH, 'if-match': 'W/"1"' }), 412);
    assertOutcome(await t.request('DELETE', `/fhir/Patient/${id}`, undefined, { 'if-match': 'W/"1"' }), 412);
    assertOutcome(await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(uniq(), 'Bad'), id }, { 'if-match': 'version one' }), 400);
    assert.deepEqual(await countRows(t.db), before);
    const read = await t.request('GET', `/fhir/Patient/${id}`);
    assert.equal(read.headers.etag, 'W/"2"');
    assert.equal(read.body.name[0].family, 'V2');
    const strong = await t.request('PATCH', `/fhir/Patient/${id}`, [{ op: 'replace', path: '/name/0/family', value: 'V3' }], { ...JSON_PATCH, 'if-match': '"2"' });
    assert.equal(strong.status, 200, strong.text);
    const del = await t.request('DELETE', `/fhir/Patient/${id}`, undefined, { 'if-match': 'W/"3"' });
    assert.ok(del.status === 200 || del.status === 204, del.text);
  });

  test('If-None-Match with the current ETag is 304 without a body; another ETag reads normally', async () => {
    const { id } = await create(patient(uniq()));
    const notModified = await t.request('GET', `/fhir/Patient/${id}`, undefined, { 'if-none-match': 'W/"1"' });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.text, '');
    assert.equal(notModified.headers.etag, 'W/"1"');
    const other = await t.request('GET', `/fhir/Patient/${id}`, undefined, { 'if-none-match': 'W/"7"' });
    assert.equal(other.status, 200);
    assert.equal(other.body.id, id);
  });
});

describe('Prefer return', () => {
  test('return=minimal answers with headers and an empty body; representation with the resource; OperationOutcome with an outcome', async () => {
    const minimal = await t.request('POST', '/fhir/Patient', patient(uniq()), { prefer: 'return=minimal' });
    assert.equal(minimal.status, 201);
    assert.equal(minimal.text, '');
    assert.match(String(minimal.headers.location), new RegExp(`^${BASE}/Patient/[^/]+/_history/1$`));
    assert.equal(minimal.headers.etag, 'W/"1"');
    const id = String(minimal.headers.location).split('/')[5]!;
    assert.equal((await t.request('GET', `/fhir/Patient/${id}`)).status, 200);

    const representation = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(uniq(), 'Repr'), id }, { prefer: 'return=representation' });
    assert.equal(representation.status, 200);
    assert.equal(representation.body.resourceType, 'Patient');
    assert.equal(representation.body.name[0].family, 'Repr');

    const oo = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(uniq(), 'OO'), id }, { prefer: 'return=OperationOutcome' });
    assert.equal(oo.status, 200);
    assert.equal(oo.body.resourceType, 'OperationOutcome');
    assert.equal(oo.body.issue[0].severity, 'information');
    assert.equal(oo.headers.etag, 'W/"3"');

    const minimalPut = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(uniq(), 'Min'), id }, { prefer: 'return=minimal' });
    assert.equal(minimalPut.status, 200);
    assert.equal(minimalPut.text, '');
    assert.equal(minimalPut.headers.location, `${BASE}/Patient/${id}/_history/4`);
  });
});

describe('content negotiation', () => {
  test('_format=json and JSON Accept headers are served; XML is 406', async () => {
    const { id } = await create(patient(uniq()));
    for (const format of ['json', 'application/fhir+json', 'application/json']) {
      const res = await t.request('GET', `/fhir/Patient/${id}?_format=${encodeURIComponent(format)}`);
      assert.equal(res.status, 200, `${format}: ${res.text}`);
      assert.equal(res.body.id, id);
    }
    for (const accept of ['application/fhir+json', 'application/json', '*/*', 'text/html,application/xhtml+xml,*/*;q=0.8']) {
      const res = await t.request('GET', `/fhir/Patient/${id}`, undefined, { accept });
      assert.equal(res.status, 200, `${accept}: ${res.text}`);
      assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
    }
    assertOutcome(await t.request('GET', `/fhir/Patient/${id}?_format=xml`), 406);
    assertOutcome(await t.request('GET', `/fhir/Patient/${id}?_format=application/fhir%2Bxml`), 406);
    assertOutcome(await t.request('GET', `/fhir/Patient/${id}`, undefined, { accept: 'application/fhir+xml' }), 406);
    assertOutcome(await t.request('GET', '/fhir/metadata', undefined, { accept: 'application/xml' }), 406);
  });

  test('an unsupported Content-Type is 415 and stores nothing', async () => {
    const before = await countRows(t.db);
    const body = JSON.stringify(patient(uniq()));
    for (const ct of ['text/plain', 'application/xml', 'application/fhir+xml', 'multipart/form-data; boundary=x']) {
      assertOutcome(await t.request('POST', '/fhir/Patient', body, { 'content-type': ct }), 415);
    }
    assert.deepEqual(await countRows(t.db), before);
    const ok = await t.request('POST', '/fhir/Patient', body, { 'content-type': 'application/json' });
    assert.equal(ok.status, 201, ok.text);
  });
});

describe('history', () => {
  test('instance history: newest first, every version once across pages', async () => {
    const { id } = await create(patient(uniq(), 'v1'));
    for (const family of ['v2', 'v3', 'v4']) {
      const res = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(uniq(), family), id });
      assert.equal(res.status, 200);
    }
    const full = await t.request('GET', `/fhir/Patient/${id}/_history`);
    assert.equal(full.body.resourceType, 'Bundle');
    assert.equal(full.body.type, 'history');
    assert.deepEqual(
      (full.body.entry as { resource: { meta: { versionId: string } } }[]).map((e) => e.resource.meta.versionId),
      ['4', '3', '2', '1'],
    );
    const pages = await allPages(`/fhir/Patient/${id}/_history?_count=1`);
    assert.equal(pages.length, 4);
    const versions = pages.flatMap((p) => (p.body.entry as { resource: { meta: { versionId: string } } }[]).map((e) => e.resource.meta.versionId));
    assert.deepEqual(versions, ['4', '3', '2', '1']);
    assertOutcome(await t.request('GET', `/fhir/Patient/${uniq()}/_history`), 404);
  });

  test('type history with _since and _count: exactly the versions since, each once, newest first', async () => {
    const since = await marker();
    const a = await create(patient(uniq(), 'a'));
    const b = await create(patient(uniq(), 'b'));
    await t.request('PUT', `/fhir/Patient/${a.id}`, { ...patient(uniq(), 'a2'), id: a.id });
    await t.request('PUT', `/fhir/Patient/${a.id}`, { ...patient(uniq(), 'a3'), id: a.id });
    await t.request('DELETE', `/fhir/Patient/${b.id}`);
    await create(observation(a.id)); // another type: not in Patient history
    const expected = [`${a.id}/1`, `${a.id}/2`, `${a.id}/3`, `${b.id}/1`, `${b.id}/2`].sort();

    const pages = await allPages(`/fhir/Patient/_history?_since=${encodeURIComponent(since)}&_count=2`);
    assert.equal(pages.length, 3);
    const entries = pages.flatMap((p) => p.body.entry as { fullUrl: string; request: { method: string; url: string }; response: { etag: string; lastModified: string } }[]);
    const seen = entries.map((e) => `${e.fullUrl.split('/').pop()!}/${/\d+/.exec(e.response.etag)![0]}`);
    assert.deepEqual([...seen].sort(), expected);
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(entries.every((e) => e.fullUrl.startsWith(`${BASE}/Patient/`)));
    const times = entries.map((e) => Date.parse(e.response.lastModified));
    assert.deepEqual(times, [...times].sort((x, y) => y - x));
    const deleteEntry = entries.find((e) => e.request.method === 'DELETE');
    assert.equal(deleteEntry?.request.url, `Patient/${b.id}`);

    const later = await t.request('GET', `/fhir/Patient/_history?_since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    assert.equal(later.status, 200);
    assert.equal(later.body.entry.length, 0);
    assertOutcome(await t.request('GET', '/fhir/Patient/_history?_since=yesterday'), 400);
    assertOutcome(await t.request('GET', '/fhir/Patient/_history?_count=many'), 400);
  });

  test('system history with _since spans types and pages through every version exactly once', async () => {
    const since = await marker();
    const p = await create(patient(uniq()));
    const o = await create(observation(p.id));
    const e = await create({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${p.id}` } });
    await t.request('PUT', `/fhir/Observation/${o.id}`, { ...observation(p.id), id: o.id, status: 'amended' });
    const expected = [`Patient/${p.id}/1`, `Observation/${o.id}/1`, `Observation/${o.id}/2`, `Encounter/${e.id}/1`].sort();
    const pages = await allPages(`/fhir/_history?_since=${encodeURIComponent(since)}&_count=3`);
    assert.equal(pages.length, 2);
    const seen = pages.flatMap((pg) => (pg.body.entry as { fullUrl: string; response: { etag: string } }[]).map((x) => `${x.fullUrl.slice(BASE.length + 1)}/${/\d+/.exec(x.response.etag)![0]}`));
    assert.deepEqual([...seen].sort(), expected);
  });
});

describe('CapabilityStatement', () => {
  test('metadata declares the REST interactions, and each declared interaction on Patient works', async () => {
    const res = await t.request('GET', '/fhir/metadata');
    assert.equal(res.status, 200);
    const cs = res.body;
    assert.equal(cs.resourceType, 'CapabilityStatement');
    assert.equal(cs.fhirVersion, '4.0.1');
    assert.ok((cs.format as string[]).includes('application/fhir+json'));
    assert.ok(!(cs.format as string[]).some((f) => f.includes('xml')));
    const rest = cs.rest[0];
    assert.equal(rest.mode, 'server');
    assert.deepEqual((rest.interaction as { code: string }[]).map((i) => i.code).sort(), ['batch', 'history-system', 'transaction']);
    const pat = (rest.resource as { type: string }[]).find((r) => r.type === 'Patient') as unknown as {
      interaction: { code: string }[];
      updateCreate: boolean;
      conditionalCreate: boolean;
      conditionalUpdate: boolean;
      conditionalDelete: string;
      operation: { name: string }[];
    };
    assert.ok(pat !== undefined);
    assert.equal(pat.updateCreate, true);
    assert.equal(pat.conditionalCreate, true);
    assert.equal(pat.conditionalUpdate, true);
    assert.equal(pat.conditionalDelete, 'multiple');

    const value = uniq();
    let id = '';
    const checks: Record<string, () => Promise<TestResponse>> = {
      create: async () => {
        const r = await t.request('POST', '/fhir/Patient', patient(value));
        id = r.body.id as string;
        return r;
      },
      read: () => t.request('GET', `/fhir/Patient/${id}`),
      vread: () => t.request('GET', `/fhir/Patient/${id}/_history/1`),
      update: () => t.request('PUT', `/fhir/Patient/${id}`, { ...patient(value), id, active: true }),
      patch: () => t.request('PATCH', `/fhir/Patient/${id}`, [{ op: 'replace', path: '/active', value: false }], JSON_PATCH),
      'search-type': () => t.request('GET', `/fhir/Patient?identifier=${encodeURIComponent(`${SYS}|${value}`)}`),
      'history-instance': () => t.request('GET', `/fhir/Patient/${id}/_history`),
      'history-type': () => t.request('GET', '/fhir/Patient/_history?_count=1'),
      delete: () => t.request('DELETE', `/fhir/Patient/${id}`),
    };
    const declared = pat.interaction.map((i) => i.code);
    assert.deepEqual([...declared].sort(), Object.keys(checks).sort());
    for (const code of Object.keys(checks)) {
      const r = await checks[code]!();
      assert.ok(r.status >= 200 && r.status < 300, `${code}: ${r.status} ${r.text}`);
      if (code === 'search-type') {
        assert.equal(r.body.total, 1);
      }
    }
    assert.equal((await t.request('GET', `/fhir/Patient/${id}`)).status, 410);
    const ops = pat.operation.map((o) => o.name).sort();
    assert.deepEqual(ops, ['everything', 'vaerdispring', 'validate']);
    const system = await t.request('GET', '/fhir/_history?_count=1');
    assert.equal(system.status, 200);
    const batch = await t.request('POST', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'metadata' } }] });
    assert.equal(batch.status, 200, batch.text);
    assert.equal(batch.body.type, 'batch-response');
  });

  test('declared search parameters are accepted; undeclared ones are rejected', async () => {
    const cs = (await t.request('GET', '/fhir/metadata')).body;
    const resources = cs.rest[0].resource as { type: string; searchParam?: { name: string; type: string }[] }[];
    const seed = Number(process.env.TEST_SEED ?? Date.now() % 100000);
    let state = seed;
    const random = (): number => {
      // mulberry32
      state = (state + 0x6d2b79f5) | 0;
      let x = Math.imul(state ^ (state >>> 15), 1 | state);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const sample: [string, { name: string; type: string }][] = [];
    for (const type of ['Patient', 'Observation', 'Encounter', 'AuditEvent']) {
      for (const p of resources.find((r) => r.type === type)?.searchParam ?? []) {
        sample.push([type, p]);
      }
    }
    const all = resources.flatMap((r) => (r.searchParam ?? []).map((p) => [r.type, p] as [string, { name: string; type: string }]));
    assert.ok(all.length > 500, `only ${all.length} search parameters declared`);
    for (let i = 0; i < 80; i++) {
      sample.push(all[Math.floor(random() * all.length)]!);
    }
    const valueFor: Record<string, string[]> = {
      string: ['abc', 'Søren'],
      token: ['abc', `${SYS}|abc`],
      date: ['2020-01-01', 'ge2020-01-01T10:00:00Z'],
      number: ['1', 'gt0.5'],
      quantity: ['5', 'le5.4|http://unitsofmeasure.org|mg'],
      reference: ['abc', 'Patient/abc'],
      uri: ['http://example.org/x'],
      composite: [],
    };
    for (const [type, p] of sample) {
      // AuditEvent is the audit trail, searched by plain patient, date and agent only (docs/audit.md).
      const modifiers = type === 'AuditEvent' ? [] : [[`${p.name}:missing`, 'true']];
      const values = [...(valueFor[p.type] ?? []).map((v) => [p.name, v]), ...modifiers];
      for (const [name, v] of values) {
        if (p.name === '_id' && v!.includes('|')) {
          continue; // an id is not a system|code token
        }
        const res = await t.request('GET', `/fhir/${type}?${encodeURIComponent(name!)}=${encodeURIComponent(v!)}`);
        assert.equal(res.status, 200, `seed ${seed}: ${type}?${name}=${v} (${p.type}) → ${res.status} ${res.text}`);
        assert.equal(res.body.type, 'searchset');
      }
    }
    const composite = await t.request('GET', `/fhir/Observation?code-value-quantity=${encodeURIComponent('http://loinc.org|8867-4$gt60')}`);
    assert.equal(composite.status, 200, composite.text);
    for (const [type, name] of [
      ['Patient', 'not-a-param'],
      ['Patient', 'value-quantity'],
      ['Observation', 'birthdate'],
      ['Encounter', 'nmae'],
    ] as const) {
      const res = await t.request('GET', `/fhir/${type}?${name}=1`);
      assertOutcome(res, 400);
      const declared = resources.find((r) => r.type === type)?.searchParam?.some((p) => p.name === name);
      assert.equal(declared, false, `${type}.${name} is declared after all`);
    }
  });
});

describe('Patient $everything', () => {
  test('returns the compartment; _type and _since filter; _count pages through all of it once', async () => {
    const p = await create(patient(uniq()));
    const other = await create(patient(uniq()));
    const enc = await create({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${p.id}` } });
    const obs: string[] = [];
    for (let i = 0; i < 5; i++) {
      obs.push((await create(observation(p.id, { encounter: { reference: `Encounter/${enc.id}` }, valueQuantity: { value: 60 + i, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' } }))).id);
    }
    const otherObs = await create(observation(other.id));
    const key = (e: { resource: { resourceType: string; id: string } }): string => `${e.resource.resourceType}/${e.resource.id}`;
    const everything = [`Patient/${p.id}`, `Encounter/${enc.id}`, ...obs.map((o) => `Observation/${o}`)].sort();

    const all = await t.request('GET', `/fhir/Patient/${p.id}/$everything`);
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.resourceType, 'Bundle');
    const allKeys = (all.body.entry as { resource: { resourceType: string; id: string } }[]).map(key);
    assert.deepEqual([...allKeys].sort(), everything);
    assert.ok(!allKeys.includes(`Observation/${otherObs.id}`));
    assert.ok(!allKeys.includes(`Patient/${other.id}`));

    const onlyObs = await t.request('GET', `/fhir/Patient/${p.id}/$everything?_type=Observation`);
    assert.equal(onlyObs.status, 200);
    assert.deepEqual((onlyObs.body.entry as { resource: { resourceType: string; id: string } }[]).map(key).sort(), obs.map((o) => `Observation/${o}`).sort());
    const two = await t.request('GET', `/fhir/Patient/${p.id}/$everything?_type=Observation,Encounter`);
    assert.equal(two.body.entry.length, 6);

    const since = await marker();
    await t.request('PUT', `/fhir/Observation/${obs[0]!}`, { ...observation(p.id), id: obs[0], status: 'amended' });
    const fresh = await create(observation(p.id));
    const recent = await t.request('GET', `/fhir/Patient/${p.id}/$everything?_since=${encodeURIComponent(since)}`);
    assert.equal(recent.status, 200, recent.text);
    assert.deepEqual((recent.body.entry as { resource: { resourceType: string; id: string } }[]).map(key).sort(), [`Observation/${obs[0]!}`, `Observation/${fresh.id}`].sort());

    const pages = await allPages(`/fhir/Patient/${p.id}/$everything?_count=3`);
    assert.equal(pages.length, 3);
    const paged = pages.flatMap((pg) => (pg.body.entry as { resource: { resourceType: string; id: string } }[]).map(key));
    assert.equal(new Set(paged).size, paged.length);
    assert.deepEqual([...paged].sort(), [...everything, `Observation/${fresh.id}`].sort());

    assertOutcome(await t.request('GET', `/fhir/Patient/${uniq()}/$everything`), 404);
    assertOutcome(await t.request('GET', `/fhir/Patient/${p.id}/$everything?_type=NotAType`), 400);
    assertOutcome(await t.request('GET', `/fhir/Patient/${p.id}/$everything?_count=lots`), 400);
    assertOutcome(await t.request('GET', `/fhir/Patient/${p.id}/$everything?_since=yesterday`), 400);
  });
});

describe('$validate', () => {
  test('a valid resource gets an information outcome; an invalid one error issues with 200; nothing is stored', async () => {
    const before = await countRows(t.db);
    const valid = await t.request('POST', '/fhir/Patient/$validate', patient(uniq()));
    assert.equal(valid.status, 200, valid.text);
    assert.equal(valid.body.resourceType, 'OperationOutcome');
    assert.ok((valid.body.issue as { severity: string }[]).length > 0);
    assert.ok((valid.body.issue as { severity: string }[]).every((i) => i.severity === 'information' || i.severity === 'warning'), valid.text);
    assert.ok((valid.body.issue as { severity: string }[]).some((i) => i.severity === 'information'), valid.text);

    const bad = { ...patient(uniq()), birthDate: '1970-13-45', gender: 'bogus' };
    const invalid = await t.request('POST', '/fhir/Patient/$validate', bad);
    assert.equal(invalid.status, 200, invalid.text);
    assert.equal(invalid.body.resourceType, 'OperationOutcome');
    const errors = (invalid.body.issue as { severity: string; expression?: string[] }[]).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    assert.ok(errors.length >= 2, invalid.text);
    assert.ok(errors.some((e) => e.expression?.some((x) => x.includes('birthDate'))), invalid.text);

    const viaParameters = await t.request('POST', '/fhir/Patient/$validate', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: bad }] });
    assert.equal(viaParameters.status, 200, viaParameters.text);
    assert.ok((viaParameters.body.issue as { severity: string }[]).some((i) => i.severity === 'error'));

    const mismatch = await t.request('POST', '/fhir/Patient/$validate', observation('x'));
    assert.ok(mismatch.status === 400 || (mismatch.status === 200 && (mismatch.body.issue as { severity: string }[]).some((i) => i.severity === 'error')), mismatch.text);
    assert.deepEqual(await countRows(t.db), before);
  });
});

describe('decimal precision', () => {
  test('0.10 and 1.50 in valueQuantity stay exactly as sent through create, read, vread, search, history, update and $everything', async () => {
    const p = await create(patient(uniq()));
    const value = uniq();
    const raw = (status: string): string =>
      `{"resourceType":"Observation","identifier":[{"system":"${SYS}","value":"${value}"}],"status":"${status}","code":{"text":"Koncentration"},"subject":{"reference":"Patient/${p.id}"},` +
      `"valueQuantity":{"value":0.10,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"},` +
      `"component":[{"code":{"text":"B"},"valueQuantity":{"value":1.50,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}},{"code":{"text":"C"},"valueQuantity":{"value":2.000}}]}`;
    const exact = (res: TestResponse, what: string): void => {
      assert.ok(res.status === 200 || res.status === 201, `${what}: ${res.status} ${res.text}`);
      assert.ok(res.text.includes('"value":0.10,'), `${what} lost 0.10: ${res.text}`);
      assert.ok(res.text.includes('"value":1.50,'), `${what} lost 1.50: ${res.text}`);
      assert.ok(res.text.includes('"value":2.000}'), `${what} lost 2.000: ${res.text}`);
    };
    const created = await t.request('POST', '/fhir/Observation', raw('final'));
    exact(created, 'create');
    const id = created.body.id as string;
    exact(await t.request('GET', `/fhir/Observation/${id}`), 'read');
    exact(await t.request('GET', `/fhir/Observation/${id}/_history/1`), 'vread');
    exact(await t.request('GET', `/fhir/Observation?_id=${id}`), 'search by id');
    exact(await t.request('GET', `/fhir/Observation?value-quantity=0.10&subject=Patient/${p.id}`), 'search by value');
    exact(await t.request('GET', `/fhir/Observation/${id}/_history`), 'history');
    exact(await t.request('GET', `/fhir/Patient/${p.id}/$everything`), '$everything');
    const updated = await t.request('PUT', `/fhir/Observation/${id}`, raw('amended').replace('{"resourceType":"Observation",', `{"resourceType":"Observation","id":"${id}",`));
    exact(updated, 'update');
    const cond = await t.request('PUT', `/fhir/Observation?identifier=${encodeURIComponent(`${SYS}|${value}`)}`, raw('corrected'));
    exact(cond, 'conditional update');
    assert.equal(cond.body.id, id);
    exact(await t.request('GET', `/fhir/Observation/${id}`), 'read after conditional update');
    const match = await t.request('POST', '/fhir/Observation', raw('final'), { 'if-none-exist': `identifier=${SYS}|${value}` });
    assert.equal(match.status, 200);
    exact(match, 'conditional create match');
    const patched = await t.request('PATCH', `/fhir/Observation/${id}`, [{ op: 'replace', path: '/status', value: 'final' }], JSON_PATCH);
    exact(patched, 'patch');
    const notFound = await t.request('GET', `/fhir/Observation?value-quantity=0.2&subject=Patient/${p.id}`);
    assert.equal(notFound.body.total, 0);
  });
});
