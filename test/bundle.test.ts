import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestApp, TestResponse } from './support.ts';
import { countRows, createTestApp } from './support.ts';

/**
 * Batch and transaction Bundles (https://hl7.org/fhir/R4/http.html#transaction): urn:uuid
 * references, processing order, atomicity, conditional references and per-entry batch outcomes.
 */

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => {
  await t.close();
});

const BASE = 'http://localhost/fhir';
const SYS = 'urn:dsd:test:bundle';

interface Entry {
  fullUrl?: string;
  resource?: Record<string, unknown>;
  request: { method: string; url: string; ifNoneExist?: string; ifMatch?: string };
}

interface ResponseEntry {
  resource?: Record<string, unknown> & { id?: string; resourceType: string };
  response: { status: string; location?: string; etag?: string; outcome?: { resourceType: string; issue: { severity: string; details?: { text?: string }; diagnostics?: string; expression?: string[] }[] } };
}

function urn(): string {
  return `urn:uuid:${randomUUID()}`;
}

function patient(value: string, family = 'Madsen'): Record<string, unknown> {
  return { resourceType: 'Patient', identifier: [{ system: SYS, value }], name: [{ family }], gender: 'female' };
}

function encounter(subject: string): Record<string, unknown> {
  return { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: subject } };
}

function observation(subject: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: subject }, ...extra };
}

async function post(type: 'transaction' | 'batch', entry: Entry[], headers?: Record<string, string>): Promise<TestResponse> {
  return t.request('POST', '/fhir', { resourceType: 'Bundle', type, entry }, headers);
}

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await t.request('POST', `/fhir/${String(body.resourceType)}`, body);
  assert.equal(res.status, 201, res.text);
  return res.body.id as string;
}

/** The id from a response location `…/Type/id/_history/n`. */
function idOf(location: string | undefined): string {
  const m = /\/([A-Za-z]+)\/([A-Za-z0-9\-.]+)\/_history\/\d+$/.exec(location ?? '');
  assert.ok(m !== null, `not a version location: ${String(location)}`);
  return m[2]!;
}

/** The response is a 4xx OperationOutcome that names entry `index`, and nothing was stored. */
async function assertRejected(res: TestResponse, before: Awaited<ReturnType<typeof countRows>>, index: number | undefined, statuses: number[] = [], text?: RegExp): Promise<void> {
  assert.ok(res.status >= 400 && res.status < 500, `expected 4xx, got ${res.status}: ${res.text}`);
  if (statuses.length > 0) {
    assert.ok(statuses.includes(res.status), `expected one of ${statuses.join(', ')}, got ${res.status}: ${res.text}`);
  }
  assert.equal(res.body?.resourceType, 'OperationOutcome', res.text);
  const issue = res.body.issue[0] as { severity: string; details?: { text?: string }; diagnostics?: string; expression?: string[] };
  assert.ok(issue.severity === 'error' || issue.severity === 'fatal', res.text);
  if (text !== undefined) {
    assert.match(res.text, text);
  }
  if (index !== undefined) {
    const named = `Bundle.entry[${index}]`;
    const where = [issue.details?.text ?? '', issue.diagnostics ?? '', ...(issue.expression ?? [])].join(' ');
    assert.ok(where.includes(named), `the outcome does not name ${named}: ${res.text}`);
  }
  assert.deepEqual(await countRows(t.db), before, 'a rejected transaction stored something');
}

describe('transaction', () => {
  test('urn:uuid references between entries are rewritten to Type/id and everything is created', async () => {
    const before = await countRows(t.db);
    const [p, e, o1, o2] = [urn(), urn(), urn(), urn()];
    const value = randomUUID();
    const res = await post('transaction', [
      { fullUrl: o1, resource: observation(p, { encounter: { reference: e }, valueQuantity: { value: 72, unit: '/min' } }), request: { method: 'POST', url: 'Observation' } },
      { fullUrl: p, resource: patient(value), request: { method: 'POST', url: 'Patient' } },
      { fullUrl: e, resource: encounter(p), request: { method: 'POST', url: 'Encounter' } },
      { fullUrl: o2, resource: observation(p, { encounter: { reference: e }, hasMember: [{ reference: o1 }] }), request: { method: 'POST', url: 'Observation' } },
    ]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.resourceType, 'Bundle');
    assert.equal(res.body.type, 'transaction-response');
    const entries = res.body.entry as ResponseEntry[];
    assert.equal(entries.length, 4);
    const types = ['Observation', 'Patient', 'Encounter', 'Observation'];
    entries.forEach((x, i) => {
      assert.equal(x.response.status, '201', JSON.stringify(x));
      assert.match(x.response.location ?? '', new RegExp(`^${BASE}/${types[i]!}/[A-Za-z0-9\\-.]+/_history/1$`));
      assert.equal(x.response.etag, 'W/"1"');
      assert.equal(x.resource?.resourceType, types[i]);
      assert.equal(x.resource?.id, idOf(x.response.location));
    });
    const [obs1Id, patId, encId, obs2Id] = entries.map((x) => idOf(x.response.location));
    assert.ok(!res.text.includes('urn:uuid:'), 'a urn:uuid reference survived');

    const enc = await t.request('GET', `/fhir/Encounter/${encId!}`);
    assert.equal(enc.body.subject.reference, `Patient/${patId!}`);
    const obs2 = await t.request('GET', `/fhir/Observation/${obs2Id!}`);
    assert.equal(obs2.body.subject.reference, `Patient/${patId!}`);
    assert.equal(obs2.body.encounter.reference, `Encounter/${encId!}`);
    assert.equal(obs2.body.hasMember[0].reference, `Observation/${obs1Id!}`);
    const obs1 = await t.request('GET', `/fhir/Observation/${obs1Id!}`);
    assert.equal(obs1.body.subject.reference, `Patient/${patId!}`);

    // The references are indexed: search and the patient compartment find them.
    const bySubject = await t.request('GET', `/fhir/Observation?subject=Patient/${patId!}`);
    assert.equal(bySubject.body.total, 2);
    const everything = await t.request('GET', `/fhir/Patient/${patId!}/$everything`);
    assert.equal(everything.body.entry.length, 4);

    const after = await countRows(t.db);
    assert.equal(after.resources, before.resources + 4);
    assert.equal(after.versions, before.versions + 4);
  });

  test('PUT entries (plain and conditional) give their fullUrl a reference too', async () => {
    const value = randomUUID();
    const [p, e] = [urn(), urn()];
    const clientId = `tx-${randomUUID()}`;
    const res = await post('transaction', [
      { fullUrl: p, resource: patient(value), request: { method: 'PUT', url: `Patient?identifier=${encodeURIComponent(`${SYS}|${value}`)}` } },
      { fullUrl: e, resource: { ...encounter(p), id: clientId }, request: { method: 'PUT', url: `Encounter/${clientId}` } },
      { resource: observation(p, { encounter: { reference: e } }), request: { method: 'POST', url: 'Observation' } },
    ]);
    assert.equal(res.status, 200, res.text);
    const entries = res.body.entry as ResponseEntry[];
    assert.deepEqual(entries.map((x) => x.response.status), ['201', '201', '201']);
    const patId = idOf(entries[0]!.response.location);
    assert.equal(idOf(entries[1]!.response.location), clientId);
    const obs = await t.request('GET', `/fhir/Observation/${idOf(entries[2]!.response.location)}`);
    assert.equal(obs.body.subject.reference, `Patient/${patId}`);
    assert.equal(obs.body.encounter.reference, `Encounter/${clientId}`);
    // The conditional PUT now matches and updates.
    const again = await post('transaction', [{ resource: patient(value, 'Opdateret'), request: { method: 'PUT', url: `Patient?identifier=${encodeURIComponent(`${SYS}|${value}`)}` } }]);
    assert.equal(again.status, 200, again.text);
    assert.equal((again.body.entry as ResponseEntry[])[0]!.response.status, '200');
    assert.equal(idOf((again.body.entry as ResponseEntry[])[0]!.response.location), patId);
  });

  test('entries run in the order DELETE, POST, PUT, GET whatever their order in the Bundle', async () => {
    const newValue = randomUUID();
    const oldValue = randomUUID();
    const oldId = await create(patient(oldValue));
    const putId = await create(patient(randomUUID(), 'Før'));
    const res = await post('transaction', [
      { request: { method: 'GET', url: `Patient?identifier=${encodeURIComponent(`${SYS}|${newValue}`)}` } },
      { request: { method: 'GET', url: `Patient?identifier=${encodeURIComponent(`${SYS}|${oldValue}`)}` } },
      { request: { method: 'GET', url: `Patient/${putId}` } },
      { resource: { ...patient(randomUUID(), 'Efter'), id: putId }, request: { method: 'PUT', url: `Patient/${putId}` } },
      { resource: patient(newValue), request: { method: 'POST', url: 'Patient' } },
      { request: { method: 'DELETE', url: `Patient/${oldId}` } },
    ]);
    assert.equal(res.status, 200, res.text);
    const entries = res.body.entry as ResponseEntry[];
    assert.deepEqual(entries.map((x) => x.response.status.slice(0, 1)), ['2', '2', '2', '2', '2', '2']);
    assert.equal(entries[4]!.response.status, '201');
    const createdId = idOf(entries[4]!.response.location);
    // GET (listed first) sees what the POST (listed later) created.
    const found = entries[0]!.resource as unknown as { type: string; total: number; entry: { resource: { id: string } }[] };
    assert.equal(found.type, 'searchset');
    assert.equal(found.total, 1);
    assert.equal(found.entry[0]!.resource.id, createdId);
    // GET does not see what the DELETE (listed last) removed.
    assert.equal((entries[1]!.resource as unknown as { total: number }).total, 0);
    // GET reads the version the PUT (listed later) wrote.
    const read = entries[2]!.resource as unknown as { meta: { versionId: string }; name: { family: string }[] };
    assert.equal(read.meta.versionId, '2');
    assert.equal(read.name[0]!.family, 'Efter');
    assert.equal((await t.request('GET', `/fhir/Patient/${oldId}`)).status, 410);
  });

  test('one invalid entry fails the whole transaction: 4xx naming the entry, nothing stored', async () => {
    const existing = await create(patient(randomUUID()));
    const before = await countRows(t.db);
    const p = urn();
    const cases: [string, Entry[], number][] = [
      [
        'invalid resource',
        [
          { fullUrl: p, resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
          { resource: encounter(p), request: { method: 'POST', url: 'Encounter' } },
          { resource: observation(p), request: { method: 'POST', url: 'Observation' } },
          { resource: observation(p, { status: 'not-a-status' }), request: { method: 'POST', url: 'Observation' } },
        ],
        3,
      ],
      [
        'reference to a missing resource',
        [
          { resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
          { resource: observation(`Patient/${randomUUID()}`), request: { method: 'POST', url: 'Observation' } },
        ],
        1,
      ],
      [
        'urn:uuid not in the Bundle',
        [
          { fullUrl: p, resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
          { resource: observation(urn()), request: { method: 'POST', url: 'Observation' } },
        ],
        1,
      ],
      [
        'a failing read',
        [
          { resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
          { request: { method: 'GET', url: `Patient/${randomUUID()}` } },
        ],
        1,
      ],
      [
        'a stale If-Match',
        [
          { resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
          { resource: { ...patient(randomUUID()), id: existing }, request: { method: 'PUT', url: `Patient/${existing}`, ifMatch: 'W/"9"' } },
        ],
        1,
      ],
      [
        'resource type not matching the URL',
        [
          { resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
          { resource: patient(randomUUID()), request: { method: 'POST', url: 'Observation' } },
        ],
        1,
      ],
      [
        'an unknown search parameter in ifNoneExist',
        [
          { resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
          { resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient', ifNoneExist: 'not-a-param=1' } },
        ],
        1,
      ],
      [
        'an invalid entry listed first but processed after the valid ones',
        [
          { resource: observation(p, { status: 'nope' }), request: { method: 'POST', url: 'Observation' } },
          { fullUrl: p, resource: patient(randomUUID()), request: { method: 'PUT', url: `Patient/tx-${randomUUID()}` } },
        ],
        0,
      ],
    ];
    for (const [name, entries, index] of cases) {
      if (name.startsWith('an invalid entry listed first')) {
        // make the PUT's body id match its URL
        const put = entries[1]!;
        put.resource = { ...put.resource, id: put.request.url.split('/')[1] };
      }
      const res = await post('transaction', entries);
      await assertRejected(res, before, index).catch((err: unknown) => {
        throw new Error(`${name}: ${(err as Error).message}`);
      });
    }
    assert.equal((await t.request('GET', `/fhir/Patient/${existing}`)).headers.etag, 'W/"1"');
  });

  test('conditional references resolve when exactly one resource matches; zero or several are 4xx and nothing is stored', async () => {
    const one = randomUUID();
    const pid = await create(patient(one));
    const ok = await post('transaction', [{ resource: observation(`Patient?identifier=${encodeURIComponent(`${SYS}|${one}`)}`), request: { method: 'POST', url: 'Observation' } }]);
    assert.equal(ok.status, 200, ok.text);
    const obsId = idOf((ok.body.entry as ResponseEntry[])[0]!.response.location);
    const obs = await t.request('GET', `/fhir/Observation/${obsId}`);
    assert.equal(obs.body.subject.reference, `Patient/${pid}`);
    // Unencoded form as commonly sent.
    const plain = await post('transaction', [{ resource: observation(`Patient?identifier=${SYS}|${one}`), request: { method: 'POST', url: 'Observation' } }]);
    assert.equal(plain.status, 200, plain.text);

    const twice = randomUUID();
    await create(patient(twice));
    await create(patient(twice));
    const before = await countRows(t.db);
    const none = await post('transaction', [
      { resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
      { resource: observation(`Patient?identifier=${SYS}|${randomUUID()}`), request: { method: 'POST', url: 'Observation' } },
    ]);
    await assertRejected(none, before, 1);
    const several = await post('transaction', [
      { resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
      { resource: observation(`Patient?identifier=${SYS}|${twice}`), request: { method: 'POST', url: 'Observation' } },
    ]);
    await assertRejected(several, before, 1);
    const badParam = await post('transaction', [
      { resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
      { resource: observation('Patient?not-a-param=1'), request: { method: 'POST', url: 'Observation' } },
    ]);
    await assertRejected(badParam, before, 1);
  });

  test('ifNoneExist inside a transaction: a match is returned (200) and references to it point at the existing resource', async () => {
    const value = randomUUID();
    const existing = await create(patient(value));
    const before = await countRows(t.db);
    const p = urn();
    const res = await post('transaction', [
      { fullUrl: p, resource: patient(value, 'Dublet'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYS}|${value}` } },
      { resource: observation(p), request: { method: 'POST', url: 'Observation' } },
    ]);
    assert.equal(res.status, 200, res.text);
    const entries = res.body.entry as ResponseEntry[];
    assert.equal(entries[0]!.response.status, '200');
    assert.equal(idOf(entries[0]!.response.location), existing);
    assert.equal(entries[1]!.response.status, '201');
    const obs = await t.request('GET', `/fhir/Observation/${idOf(entries[1]!.response.location)}`);
    assert.equal(obs.body.subject.reference, `Patient/${existing}`);
    const after = await countRows(t.db);
    assert.equal(after.resources, before.resources + 1);
    assert.equal((await t.request('GET', `/fhir/Patient/${existing}`)).body.name[0].family, 'Madsen');

    const fresh = randomUUID();
    const created = await post('transaction', [{ resource: patient(fresh), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYS}|${fresh}` } }]);
    assert.equal((created.body.entry as ResponseEntry[])[0]!.response.status, '201');

    await create(patient(value));
    const before2 = await countRows(t.db);
    const several = await post('transaction', [
      { resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
      { resource: patient(value), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYS}|${value}` } },
    ]);
    await assertRejected(several, before2, 1, [412]);
  });

  test('the same resource twice in a transaction is 400 and nothing is stored', async () => {
    const existing = await create(patient(randomUUID()));
    const before = await countRows(t.db);
    const id = `dup-${randomUUID()}`;
    const p = urn();
    const cases: [string, Entry[]][] = [
      [
        'two PUTs',
        [
          { resource: { ...patient(randomUUID()), id }, request: { method: 'PUT', url: `Patient/${id}` } },
          { resource: { ...patient(randomUUID()), id }, request: { method: 'PUT', url: `Patient/${id}` } },
        ],
      ],
      [
        'PUT and DELETE',
        [
          { resource: { ...patient(randomUUID()), id: existing }, request: { method: 'PUT', url: `Patient/${existing}` } },
          { request: { method: 'DELETE', url: `Patient/${existing}` } },
        ],
      ],
      [
        'PUT and PATCH',
        [
          { resource: { ...patient(randomUUID()), id: existing }, request: { method: 'PUT', url: `Patient/${existing}` } },
          { resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from('[]').toString('base64') }, request: { method: 'PATCH', url: `Patient/${existing}` } },
        ],
      ],
      [
        'two DELETEs',
        [
          { request: { method: 'DELETE', url: `Patient/${existing}` } },
          { request: { method: 'DELETE', url: `Patient/${existing}` } },
        ],
      ],
      [
        'the same fullUrl twice',
        [
          { fullUrl: p, resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
          { fullUrl: p, resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } },
        ],
      ],
    ];
    for (const [name, entries] of cases) {
      const res = await post('transaction', entries);
      await assertRejected(res, before, 1, [400], /more than once/).catch((err: unknown) => {
        throw new Error(`${name}: ${(err as Error).message}`);
      });
    }
    assert.equal((await t.request('GET', `/fhir/Patient/${existing}`)).headers.etag, 'W/"1"');
    assert.equal((await t.request('GET', `/fhir/Patient/${id}`)).status, 404);
  });

  test('Prefer return=minimal leaves resources out of the response; decimals survive a transaction', async () => {
    const minimal = await post('transaction', [{ resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } }], { prefer: 'return=minimal' });
    assert.equal(minimal.status, 200, minimal.text);
    const entry = (minimal.body.entry as ResponseEntry[])[0]!;
    assert.equal(entry.resource, undefined);
    assert.equal(entry.response.status, '201');
    const pid = idOf(entry.response.location);

    const raw = `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/${pid}"},"valueQuantity":{"value":0.10,"unit":"mg"},"component":[{"code":{"text":"y"},"valueQuantity":{"value":1.50,"unit":"mg"}}]},"request":{"method":"POST","url":"Observation"}}]}`;
    const res = await t.request('POST', '/fhir', raw);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.text.includes('"value":0.10,') && res.text.includes('"value":1.50,'), res.text);
    const read = await t.request('GET', `/fhir/Observation/${idOf((res.body.entry as ResponseEntry[])[0]!.response.location)}`);
    assert.ok(read.text.includes('"value":0.10,') && read.text.includes('"value":1.50,'), read.text);
  });

  test('a Bundle inside a transaction is stored as data, never executed', async () => {
    const value = randomUUID();
    const res = await post('transaction', [
      {
        resource: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient(value), request: { method: 'POST', url: 'Patient' } }] },
        request: { method: 'POST', url: 'Bundle' },
      },
    ]);
    assert.ok(res.status === 200 || (res.status >= 400 && res.status < 500), res.text);
    const found = await t.request('GET', `/fhir/Patient?identifier=${encodeURIComponent(`${SYS}|${value}`)}`);
    assert.equal(found.body.total, 0);
  });
});

describe('batch', () => {
  test('one bad entry gets its own 4xx with an outcome; the others succeed', async () => {
    const before = await countRows(t.db);
    const existing = await create(patient(randomUUID()));
    const res = await post('batch', [
      { resource: patient(randomUUID(), 'Første'), request: { method: 'POST', url: 'Patient' } },
      { resource: observation(`Patient/${existing}`, { status: 'not-a-status' }), request: { method: 'POST', url: 'Observation' } },
      { request: { method: 'GET', url: `Patient/${randomUUID()}` } },
      { request: { method: 'GET', url: 'Patient?not-a-param=1' } },
      { resource: observation(urn()), request: { method: 'POST', url: 'Observation' } },
      { resource: observation(`Patient/${existing}`), request: { method: 'POST', url: 'Observation' } },
      { request: { method: 'GET', url: `Patient/${existing}` } },
    ]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.type, 'batch-response');
    const entries = res.body.entry as ResponseEntry[];
    assert.equal(entries.length, 7);
    assert.equal(entries[0]!.response.status, '201');
    for (const [i, status] of [
      [1, 422],
      [2, 404],
      [3, 400],
      [4, 400],
    ] as const) {
      const e = entries[i]!;
      assert.equal(Number(e.response.status), status, `entry ${i}: ${JSON.stringify(e)}`);
      assert.equal(e.response.outcome?.resourceType, 'OperationOutcome', `entry ${i}`);
      assert.equal(e.response.outcome?.issue[0]?.severity, 'error');
      assert.equal(e.resource, undefined);
    }
    assert.equal(entries[5]!.response.status, '201');
    assert.equal(entries[6]!.response.status, '200');
    assert.equal(entries[6]!.resource?.id, existing);
    const first = await t.request('GET', `/fhir/Patient/${idOf(entries[0]!.response.location)}`);
    assert.equal(first.body.name[0].family, 'Første');
    const after = await countRows(t.db);
    assert.equal(after.resources, before.resources + 3);
    assert.equal(after.versions, before.versions + 3);
  });

  test('Bundle-level problems are 400 and run nothing', async () => {
    const before = await countRows(t.db);
    const cases: unknown[] = [
      { resourceType: 'Bundle', type: 'collection', entry: [{ resource: patient(randomUUID()) }] },
      { resourceType: 'Bundle', type: 'transaction', entry: { resource: patient(randomUUID()) } },
      { resourceType: 'Bundle', type: 'batch', entry: [{ resource: patient(randomUUID()) }] },
      { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient(randomUUID()), request: { method: 'POST', url: 'Patient' } }, { request: { method: 'TRACE', url: 'Patient' } }] },
      { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Patient' } }] },
      { resourceType: 'Bundle', type: 'transaction', entry: [null] },
      { resourceType: 'Patient' },
      [],
    ];
    for (const body of cases) {
      const res = await t.request('POST', '/fhir', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    }
    assert.deepEqual(await countRows(t.db), before);
  });
});

describe('reads inside Bundles', () => {
  test('history, vread, $everything and $validate entries read inside the Bundle\'s own transaction', async () => {
    const p = await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Historik' }] });
    assert.equal(p.status, 201, p.text);
    const id = p.body.id as string;
    const urls = ['_history?_count=1', 'Patient/_history?_count=1', `Patient/${id}/_history`, `Patient/${id}/_history/1`, `Patient/${id}/$everything`, `Patient/${id}/$validate`];
    for (const type of ['transaction', 'batch']) {
      const res = await t.request('POST', '/fhir', { resourceType: 'Bundle', type, entry: urls.map((url) => ({ request: { method: 'GET', url } })) });
      assert.equal(res.status, 200, `${type}: ${res.text.slice(0, 300)}`);
      const statuses = (res.body.entry as { response: { status: string } }[]).map((e) => e.response.status.slice(0, 3));
      assert.deepEqual(statuses, urls.map(() => '200'), type);
    }
  });
});
