import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { TestApp, TestResponse } from './support.ts';
import { countRows, createTestApp } from './support.ts';

/**
 * Bad inputs (docs: security-and-reliability.md §6): every one gets a 4xx OperationOutcome with an
 * error issue, nothing is stored, and the server never answers 5xx.
 */

let t: TestApp;
let patientId = '';
before(async () => {
  t = await createTestApp();
  const res = await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', identifier: [{ system: 'urn:dsd:test:bad', value: 'p1' }], name: [{ family: 'Berg' }] });
  assert.equal(res.status, 201, res.text);
  patientId = res.body.id as string;
});
after(async () => {
  await t.close();
});

const LIMIT = 16 * 1024 * 1024;
const FHIR_JSON = { 'content-type': 'application/fhir+json' };

/** What the checks need of a response (from t.request or a raw inject). */
interface Answer {
  readonly status: number;
  readonly headers: Record<string, unknown>;
  readonly text: string;
  readonly body: unknown;
}

/** Checks the universal acceptance criteria on one response. */
function assertBadInputResponse(answer: Answer, label: string, statuses?: readonly number[]): void {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const res = answer as Answer & { body: any };
  assert.ok(res.status >= 400 && res.status < 500, `${label}: expected 4xx, got ${res.status}: ${res.text.slice(0, 500)}`);
  if (statuses !== undefined) {
    assert.ok(statuses.includes(res.status), `${label}: expected ${statuses.join('/')}, got ${res.status}: ${res.text.slice(0, 500)}`);
  }
  assert.match(String(res.headers['content-type']), /^application\/fhir\+json/, label);
  assert.equal(res.body?.resourceType, 'OperationOutcome', `${label}: ${res.text.slice(0, 500)}`);
  const issue = res.body.issue?.[0] as { severity?: string; code?: string } | undefined;
  assert.ok(issue?.severity === 'error' || issue?.severity === 'fatal', `${label}: ${res.text.slice(0, 500)}`);
  assert.equal(typeof issue.code, 'string', label);
  // No stack traces, SQL state or file paths in what the client sees.
  assert.doesNotMatch(res.text, /\n\s+at |node_modules|\.ts:\d+|sqlState|"stack"/, label);
}

/** Sends a request that must be rejected and must change nothing. */
async function rejects(label: string, method: string, url: string, body?: unknown, headers?: Record<string, string>, statuses?: readonly number[]): Promise<TestResponse> {
  const before = await countRows(t.db);
  const res = await t.request(method, url, body, headers);
  assertBadInputResponse(res, `${method} ${url.slice(0, 120)} (${label})`, statuses);
  assert.deepEqual(await countRows(t.db), before, `${label}: something was stored`);
  return res;
}

/** Like rejects, with a raw payload (bytes) and exactly the headers given. */
async function rejectsRaw(label: string, payload: Buffer | string, headers: Record<string, string>, statuses?: readonly number[], url = '/fhir/Patient'): Promise<void> {
  const before = await countRows(t.db);
  const res = await t.app.inject({ method: 'POST', url, payload, headers });
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = undefined;
  }
  assertBadInputResponse({ status: res.statusCode, headers: res.headers, text: res.body, body }, label, statuses);
  assert.deepEqual(await countRows(t.db), before, `${label}: something was stored`);
}

const patient = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ resourceType: 'Patient', name: [{ family: 'Holm' }], ...extra });

describe('transport and encoding', () => {
  test('T1: a body with a non-JSON or missing Content-Type is 415', async () => {
    const body = JSON.stringify(patient());
    for (const ct of ['text/plain', 'application/xml', 'application/fhir+xml', 'application/octet-stream', 'text/html; charset=utf-8']) {
      await rejectsRaw(`Content-Type ${ct}`, body, { 'content-type': ct }, [415]);
    }
    await rejectsRaw('no Content-Type', body, {}, [415]);
    await rejectsRaw('XML with an external entity', '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><name><family value="&x;"/></name></Patient>', { 'content-type': 'application/fhir+xml' }, [415]);
  });

  test('T2: a body over the configured limit (16 MiB) is 413; a large one under it is accepted', async () => {
    const head = '{"resourceType":"Binary","contentType":"application/octet-stream","data":"';
    const over = `${head}${'QUJD'.repeat(Math.ceil(LIMIT / 4))}"}`;
    assert.ok(Buffer.byteLength(over) > LIMIT);
    await rejects('over the limit', 'POST', '/fhir/Binary', over, undefined, [413]);
    await rejects('over the limit in a Bundle', 'POST', '/fhir', `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":${over.slice(0, -2)}"},"request":{"method":"POST","url":"Binary"}}]}`, undefined, [413]);

    const before = await countRows(t.db);
    const data = 'QUJD'.repeat((8 * 1024 * 1024) / 4);
    const res = await t.request('POST', '/fhir/Binary', `${head}${data}"}`);
    assert.equal(res.status, 201, res.text.slice(0, 300));
    const read = await t.request('GET', `/fhir/Binary/${res.body.id as string}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.data.length, data.length);
    assert.equal((await countRows(t.db)).resources, before.resources + 1);
  });

  test('T4: invalid UTF-8, non-UTF-8 charsets and a BOM are rejected, not silently mangled', async () => {
    const pre = Buffer.from('{"resourceType":"Patient","name":[{"family":"');
    const post = Buffer.from('"}]}');
    await rejectsRaw('invalid UTF-8 bytes', Buffer.concat([pre, Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), post]), FHIR_JSON, [400]);
    await rejectsRaw('a truncated multi-byte sequence', Buffer.concat([pre, Buffer.from([0xe2, 0x82]), post]), FHIR_JSON, [400]);
    await rejectsRaw('an overlong encoding', Buffer.concat([pre, Buffer.from([0xc0, 0xaf]), post]), FHIR_JSON, [400]);
    await rejectsRaw('an encoded surrogate', Buffer.concat([pre, Buffer.from([0xed, 0xa0, 0x80]), post]), FHIR_JSON, [400]);
    await rejectsRaw('charset=iso-8859-1', Buffer.concat([pre, Buffer.from('Søren', 'latin1'), post]), { 'content-type': 'application/fhir+json; charset=iso-8859-1' }, [400, 415]);
    await rejectsRaw('charset=utf-16', Buffer.from(JSON.stringify(patient()), 'utf16le'), { 'content-type': 'application/fhir+json; charset=utf-16' }, [400, 415]);
    await rejectsRaw('UTF-16 without a charset', Buffer.from(JSON.stringify(patient()), 'utf16le'), FHIR_JSON, [400]);
    await rejectsRaw('a UTF-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(patient()))]), FHIR_JSON, [400]);
    await rejectsRaw('gzip that the server does not inflate', Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03]), { ...FHIR_JSON, 'content-encoding': 'gzip' }, [400, 415]);

    // Proper UTF-8, with or without an explicit charset, keeps Danish letters exactly.
    for (const ct of ['application/fhir+json; charset=utf-8', 'application/fhir+json;charset=UTF-8', 'application/json']) {
      const res = await t.app.inject({ method: 'POST', url: '/fhir/Patient', payload: Buffer.from(JSON.stringify(patient({ name: [{ family: 'Ærø-Øster Ålund' }] }))), headers: { 'content-type': ct } });
      assert.equal(res.statusCode, 201, `${ct}: ${res.body}`);
      assert.equal(JSON.parse(res.body).name[0].family, 'Ærø-Øster Ålund');
    }
  });
});

describe('JSON structure', () => {
  test('J1: malformed JSON is 400', async () => {
    const cases = [
      '{"resourceType":"Patient"',
      '{"resourceType":"Patient"} trailing',
      '{"resourceType":"Patient"}{}',
      '// comment\n{"resourceType":"Patient"}',
      '{"resourceType":"Patient", /* c */ "active":true}',
      '{"resourceType":"Patient","multipleBirthInteger":NaN}',
      '{"resourceType":"Patient","multipleBirthInteger":Infinity}',
      '{"resourceType":"Patient","multipleBirthInteger":1e999}',
      '{"resourceType":"Patient","multipleBirthInteger":01}',
      '{"resourceType":"Patient","multipleBirthInteger":+1}',
      "{'resourceType':'Patient'}",
      '{resourceType:"Patient"}',
      '{"resourceType":"Patient",}',
      '{"resourceType":"Patient","name":[{"family":"x"},]}',
      '{"resourceType":"Patient","active":tru}',
      '{"resourceType":"Patient","name":[{"family":"tab\there"}]}',
      '{"resourceType":"Patient","name":[{"family":"bad \\x escape"}]}',
      '{"resourceType":"Patient","name":[{"family":"bad \\u12 escape"}]}',
      '{"resourceType":"Pat',
      '',
      '   ',
    ];
    for (const body of cases) {
      await rejects(JSON.stringify(body).slice(0, 60), 'POST', '/fhir/Patient', body, FHIR_JSON, [400]);
    }
  });

  test('J1: an empty body on POST, PUT and PATCH is 400', async () => {
    await rejectsRaw('empty POST', '', FHIR_JSON, [400]);
    const before = await countRows(t.db);
    for (const [method, url, ct] of [
      ['PUT', `/fhir/Patient/${patientId}`, 'application/fhir+json'],
      ['PATCH', `/fhir/Patient/${patientId}`, 'application/json-patch+json'],
      ['POST', '/fhir', 'application/fhir+json'],
    ] as const) {
      const res = await t.app.inject({ method, url, payload: '', headers: { 'content-type': ct } });
      assertBadInputResponse({ status: res.statusCode, headers: res.headers, text: res.body, body: JSON.parse(res.body) }, `empty ${method}`, [400]);
      const none = await t.app.inject({ method, url });
      assertBadInputResponse({ status: none.statusCode, headers: none.headers, text: none.body, body: JSON.parse(none.body) }, `no body ${method}`, [400, 415]);
    }
    assert.deepEqual(await countRows(t.db), before);
  });

  test('J2: a body that is not an object is 400', async () => {
    for (const body of ['[]', '[{"resourceType":"Patient"}]', '"Patient"', '42', '-1.5', 'null', 'true', 'false']) {
      await rejects(body, 'POST', '/fhir/Patient', body, FHIR_JSON, [400]);
      await rejects(body, 'PUT', `/fhir/Patient/${patientId}`, body, FHIR_JSON, [400]);
      await rejects(body, 'POST', '/fhir', body, FHIR_JSON, [400]);
      await rejects(body, 'POST', '/fhir/Patient/$validate', body, FHIR_JSON, [400]);
    }
  });

  test('J3: deeply nested bodies (10,000 levels) are 400 quickly, also inside a Bundle', async () => {
    const depth = 10_000;
    const started = Date.now();
    const objects = `{"resourceType":"Patient","extension":[${'{"url":"http://x","extension":['.repeat(depth / 2)}${']}'.repeat(depth / 2)}]}`;
    await rejects('nested objects', 'POST', '/fhir/Patient', objects, FHIR_JSON, [400]);
    const arrays = `{"resourceType":"Patient","name":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    await rejects('nested arrays', 'POST', '/fhir/Patient', arrays, FHIR_JSON, [400]);
    const unclosed = `{"resourceType":"Patient","name":${'['.repeat(depth * 10)}`;
    await rejects('unclosed nesting', 'POST', '/fhir/Patient', unclosed, FHIR_JSON, [400]);
    const inBundle = `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":${objects},"request":{"method":"POST","url":"Patient"}}]}`;
    await rejects('nested in a Bundle', 'POST', '/fhir', inBundle, FHIR_JSON, [400]);
    const patch = `[{"op":"add","path":"/extension","value":${'['.repeat(depth)}${']'.repeat(depth)}}]`;
    await rejects('nested in a JSON Patch', 'PATCH', `/fhir/Patient/${patientId}`, patch, { 'content-type': 'application/json-patch+json' }, [400]);
    const nestedValidate = `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":${objects}}]}`;
    await rejects('nested in $validate', 'POST', '/fhir/Patient/$validate', nestedValidate, FHIR_JSON, [400]);
    // 70 levels of legal FHIR nesting is still refused before any recursive validation.
    const moderate = `{"resourceType":"Patient","extension":[${'{"url":"http://x","extension":['.repeat(35)}{"url":"http://x","valueString":"x"}${']}'.repeat(35)}]}`;
    await rejects('70 levels', 'POST', '/fhir/Patient', moderate, FHIR_JSON, [400, 422]);
    assert.ok(Date.now() - started < 10_000, `deep nesting took ${Date.now() - started} ms`);
  });

  test('J4: duplicate keys are 400', async () => {
    for (const body of [
      '{"resourceType":"Patient","id":"a","id":"b"}',
      '{"resourceType":"Patient","resourceType":"Observation"}',
      '{"resourceType":"Patient","name":[{"family":"A","family":"B"}]}',
      '{"resourceType":"Patient","active":true,"active":false}',
      '{"resourceType":"Patient","gender":"male","gend\\u0065r":"female"}',
    ]) {
      await rejects(body, 'POST', '/fhir/Patient', body, FHIR_JSON, [400]);
    }
    await rejects('in a PUT', 'PUT', `/fhir/Patient/${patientId}`, `{"resourceType":"Patient","id":"${patientId}","id":"${patientId}"}`, FHIR_JSON, [400]);
    await rejects('in a Bundle', 'POST', '/fhir', '{"resourceType":"Bundle","type":"batch","type":"transaction","entry":[]}', FHIR_JSON, [400]);
  });

  test('J5: __proto__, constructor and prototype keys are rejected and pollute nothing', async () => {
    for (const body of [
      '{"resourceType":"Patient","__proto__":{"polluted":"yes"}}',
      '{"resourceType":"Patient","constructor":{"prototype":{"polluted":"yes"}}}',
      '{"resourceType":"Patient","prototype":{"polluted":"yes"}}',
      '{"resourceType":"Patient","name":[{"__proto__":{"polluted":"yes"},"family":"x"}]}',
      '{"resourceType":"Patient","meta":{"constructor":{"polluted":"yes"}}}',
      '{"__proto__":{"resourceType":"Patient"}}',
    ]) {
      await rejects(body, 'POST', '/fhir/Patient', body, FHIR_JSON);
    }
    await rejects('in a Bundle entry', 'POST', '/fhir', '{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","__proto__":{"polluted":"yes"}},"request":{"method":"POST","url":"Patient"}}]}', FHIR_JSON);
    await rejects('a Bundle entry with __proto__ instead of request', 'POST', '/fhir', '{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},"__proto__":{"request":{"method":"POST","url":"Patient"}}}]}', FHIR_JSON);
    await rejects('a JSON Patch into __proto__', 'PATCH', `/fhir/Patient/${patientId}`, [{ op: 'add', path: '/__proto__/polluted', value: 'yes' }], { 'content-type': 'application/json-patch+json' });
    await rejects('a JSON Patch into constructor', 'PATCH', `/fhir/Patient/${patientId}`, [{ op: 'add', path: '/constructor/prototype/polluted', value: 'yes' }], { 'content-type': 'application/json-patch+json' });
    await rejects('a search parameter named __proto__', 'GET', '/fhir/Patient?__proto__=x', undefined, undefined, [400]);
    await rejects('a search parameter named constructor', 'GET', '/fhir/Patient?constructor=x', undefined, undefined, [400]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  });

  test('J6: null, empty strings, empty objects and empty arrays are rejected', async () => {
    for (const extra of [{ gender: null }, { gender: '' }, { maritalStatus: {} }, { name: [] }, { name: [{}] }, { name: [null] }, { name: [{ given: [''] }] }]) {
      await rejects(JSON.stringify(extra), 'POST', '/fhir/Patient', { resourceType: 'Patient', ...extra });
    }
  });

  test('J8/J9: U+0000 and lone surrogates in strings are rejected before the database', async () => {
    for (const body of [
      '{"resourceType":"Patient","name":[{"family":"a\\u0000b"}]}',
      '{"resourceType":"Patient","name":[{"family":"\\u0000"}]}',
      '{"resourceType":"Patient","name":[{"family":"x"}],"extension":[{"url":"http://x","valueString":"a\\u0000"}]}',
      '{"resourceType":"Patient","a\\u0000b":"x"}',
      '{"resourceType":"Patient","name":[{"family":"a\\u0001b"}]}',
      '{"resourceType":"Patient","name":[{"family":"a\\ud800b"}]}',
      '{"resourceType":"Patient","name":[{"family":"a\\udc00"}]}',
      '{"resourceType":"Patient","name":[{"family":"\\ud83d"}]}',
      '{"resourceType":"Patient","name":[{"family":"\\ud83d\\u0041"}]}',
    ]) {
      await rejects(body, 'POST', '/fhir/Patient', body, FHIR_JSON);
    }
    await rejects('NUL in a PUT id', 'PUT', `/fhir/Patient/${patientId}`, `{"resourceType":"Patient","id":"${patientId}\\u0000"}`, FHIR_JSON);
    await rejects('NUL in a Bundle', 'POST', '/fhir', '{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","name":[{"family":"\\u0000"}]},"request":{"method":"POST","url":"Patient"}}]}', FHIR_JSON);
    await rejects('NUL in a Bundle request url', 'POST', '/fhir', '{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},"request":{"method":"PUT","url":"Patient/a\\u0000b"}}]}', FHIR_JSON);
    await rejects('NUL in ifNoneExist', 'POST', '/fhir', '{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneExist":"name=a\\u0000"}}]}', FHIR_JSON);
    await rejects('NUL in a conditional reference', 'POST', '/fhir', '{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?name=a\\u0000"}},"request":{"method":"POST","url":"Observation"}}]}', FHIR_JSON);
    await rejects('NUL in a patch value', 'PATCH', `/fhir/Patient/${patientId}`, '[{"op":"replace","path":"/name/0/family","value":"a\\u0000"}]', { 'content-type': 'application/json-patch+json' });
    await rejects('NUL in If-None-Exist', 'POST', '/fhir/Patient', patient(), { 'if-none-exist': 'name=a%00b' });
    const emoji = await t.request('POST', '/fhir/Patient', '{"resourceType":"Patient","name":[{"family":"Glad \\ud83d\\ude00"}]}');
    assert.equal(emoji.status, 201, emoji.text);
    assert.equal(emoji.body.name[0].family, 'Glad 😀');
  });

  test('J8: U+0000 in the URL path or query is 400', async () => {
    for (const url of [
      `/fhir/Patient/${patientId}%00`,
      '/fhir/Patient%00',
      '/fhir/Patient?name=a%00b',
      '/fhir/Patient?na%00me=a',
      '/fhir/Patient?_sort=name%00',
      '/fhir/Patient?_id=a%00',
      `/fhir/Patient/${patientId}/_history?_since=2020-01-01%00`,
      `/fhir/Patient/${patientId}/$everything?_type=Observation%00`,
    ]) {
      await rejects(url, 'GET', url, undefined, undefined, [400, 404]);
    }
    await rejects('NUL in a conditional update', 'PUT', '/fhir/Patient?name=a%00', patient(), FHIR_JSON, [400]);
    await rejects('NUL in a conditional delete', 'DELETE', '/fhir/Patient?name=a%00', undefined, undefined, [400]);
  });
});

describe('FHIR structure', () => {
  test('F1/F2: missing, miscased, unknown or mismatched resourceType is 4xx', async () => {
    await rejects('missing resourceType', 'POST', '/fhir/Patient', { name: [{ family: 'x' }] }, undefined, [400]);
    await rejects('resourceType not a string', 'POST', '/fhir/Patient', { resourceType: 42 }, undefined, [400]);
    await rejects('lower case', 'POST', '/fhir/Patient', { resourceType: 'patient' }, undefined, [400]);
    await rejects('unknown type in the body', 'POST', '/fhir/Patient', { resourceType: 'Pasient' }, undefined, [400]);
    await rejects('unknown type in the URL', 'POST', '/fhir/Pasient', { resourceType: 'Pasient' }, undefined, [400, 404]);
    await rejects('lower-case type in the URL', 'POST', '/fhir/patient', { resourceType: 'patient' }, undefined, [400, 404]);
    await rejects('abstract type in the URL', 'POST', '/fhir/Resource', { resourceType: 'Resource' }, undefined, [400, 404]);
    await rejects('abstract type DomainResource', 'POST', '/fhir/DomainResource', { resourceType: 'DomainResource' }, undefined, [400, 404]);
    await rejects('mismatch on create', 'POST', '/fhir/Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }, undefined, [400]);
    await rejects('mismatch on update', 'PUT', `/fhir/Observation/${patientId}`, { resourceType: 'Patient', id: patientId }, undefined, [400]);
    await rejects('mismatch on conditional update', 'PUT', '/fhir/Observation?identifier=a|b', { resourceType: 'Patient' }, undefined, [400]);
    await rejects('non-resource datatype', 'POST', '/fhir/HumanName', { resourceType: 'HumanName', family: 'x' }, undefined, [400, 404]);
  });

  test('F3: an update whose body id differs from the URL, or has none, is 400', async () => {
    await rejects('other id', 'PUT', `/fhir/Patient/${patientId}`, { resourceType: 'Patient', id: 'someone-else' }, undefined, [400]);
    await rejects('no id', 'PUT', `/fhir/Patient/${patientId}`, { resourceType: 'Patient' }, undefined, [400]);
    await rejects('id not a string', 'PUT', `/fhir/Patient/${patientId}`, { resourceType: 'Patient', id: 7 }, undefined, [400]);
    await rejects('id differs by case', 'PUT', `/fhir/Patient/${patientId}`, { resourceType: 'Patient', id: patientId.toUpperCase() }, undefined, [400]);
    assert.equal((await t.request('GET', `/fhir/Patient/${patientId}`)).headers.etag, 'W/"1"');
  });

  test('F4: a client id on create is ignored and never overwrites an existing resource', async () => {
    const res = await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', id: patientId, name: [{ family: 'Overwriter' }] });
    assert.equal(res.status, 201, res.text);
    assert.notEqual(res.body.id, patientId);
    const original = await t.request('GET', `/fhir/Patient/${patientId}`);
    assert.equal(original.headers.etag, 'W/"1"');
    assert.equal(original.body.name[0].family, 'Berg');
  });

  test('F5/F6: unknown elements, wrong JSON types and invalid dates are 4xx', async () => {
    const cases: Record<string, unknown>[] = [
      { foo: 'bar' },
      { birthDate: 19800101 },
      { active: 'true' },
      { name: { family: 'not an array' } },
      { name: [{ family: ['x'] }] },
      { birthDate: '2023-02-29' },
      { birthDate: '2023-13-01' },
      { birthDate: '01-01-2020' },
      { birthDate: '2020-01-01T10:00:00Z' },
      { deceasedDateTime: '2020-01-01T10:00:00' },
      { multipleBirthInteger: 1.5 },
      { multipleBirthInteger: 99999999999 },
      { gender: 'unknown-code' },
      { identifier: [{ system: 'not a uri with spaces', value: 'x' }] },
      { text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></div>' } },
      { text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><a href="javascript:alert(1)">x</a></div>' } },
      { text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml" onclick="x()">x</div>' } },
    ];
    for (const extra of cases) {
      await rejects(JSON.stringify(extra), 'POST', '/fhir/Patient', { resourceType: 'Patient', ...extra }, undefined, [400, 422]);
    }
  });

  test('F8: a modifierExtension the server does not know is rejected, not silently ignored', async () => {
    await rejects('unknown modifierExtension', 'POST', '/fhir/Patient', { resourceType: 'Patient', modifierExtension: [{ url: 'http://example.org/unknown-modifier', valueBoolean: true }] }, undefined, [422]);
  });
});

describe('ids and paths', () => {
  test('P1: path traversal and odd encodings never reach anything', async () => {
    for (const url of ['/fhir/Patient/..%2F..%2Fetc%2Fpasswd', '/fhir/Patient/%2e%2e', '/fhir/Patient/%252e%252e', '/fhir/Patient/..', '/fhir/../etc/passwd', '/fhir/Patient/%E0%A4%A', '/fhir/Patient/%', '/fhir/Patient/%zz', '/fhir/%2e%2e/%2e%2e/etc/passwd', '/fhir/Patient/a/b/c/d/e']) {
      const res = await rejects(url, 'GET', url);
      assert.doesNotMatch(res.text, /root:/);
    }
  });

  test('P2: ids with bad characters or over 64 characters are 4xx for every interaction', async () => {
    const bad = ['a_b', 'a b', 'a%2Fb', 'søren', 'a;jsessionid=1', 'a'.repeat(65), '%00', "'; DROP TABLE resource;--", '1%20OR%201=1', 'a*', '<script>', '%F0%9F%98%80'];
    for (const raw of bad) {
      const id = raw.includes('%') ? raw : encodeURIComponent(raw);
      const decoded = (() => {
        try {
          return decodeURIComponent(id);
        } catch {
          return id;
        }
      })();
      await rejects(`GET ${raw}`, 'GET', `/fhir/Patient/${id}`, undefined, undefined, [400, 404]);
      // An encoded '/' splits the path, so nothing is there (404); any other bad id in a write is 400.
      await rejects(`PUT ${raw}`, 'PUT', `/fhir/Patient/${id}`, { resourceType: 'Patient', id: decoded }, undefined, decoded.includes('/') ? [400, 404] : [400]);
      await rejects(`DELETE ${raw}`, 'DELETE', `/fhir/Patient/${id}`, undefined, undefined, [400, 404]);
      await rejects(`PATCH ${raw}`, 'PATCH', `/fhir/Patient/${id}`, [{ op: 'add', path: '/active', value: true }], { 'content-type': 'application/json-patch+json' }, [400, 404]);
      await rejects(`history ${raw}`, 'GET', `/fhir/Patient/${id}/_history`, undefined, undefined, [400, 404]);
      await rejects(`$everything ${raw}`, 'GET', `/fhir/Patient/${id}/$everything`, undefined, undefined, [400, 404]);
      await rejects(`in a transaction ${raw}`, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient', id: decoded }, request: { method: 'PUT', url: `Patient/${id}` } }] }, undefined, [400, 404]);
    }
    const max = 'a'.repeat(64);
    const ok = await t.request('PUT', `/fhir/Patient/${max}`, { resourceType: 'Patient', id: max });
    assert.equal(ok.status, 201, ok.text);
  });

  test('P3: a version id that is not a number is 4xx', async () => {
    for (const v of ['abc', '-1', '1.5', '1%20OR%201=1', '99999999999999999999', '0x1']) {
      await rejects(v, 'GET', `/fhir/Patient/${patientId}/_history/${v}`, undefined, undefined, [400, 404]);
    }
  });

  test('unsupported methods and unknown endpoints are 4xx outcomes', async () => {
    await rejects('POST to an instance', 'POST', `/fhir/Patient/${patientId}`, patient(), undefined, [405]);
    await rejects('DELETE the base', 'DELETE', '/fhir', undefined, undefined, [400, 405]);
    await rejects('PUT the base', 'PUT', '/fhir', patient(), undefined, [400, 405]);
    await rejects('PUT metadata', 'PUT', '/fhir/metadata', patient(), undefined, [405]);
    await rejects('DELETE history', 'DELETE', `/fhir/Patient/${patientId}/_history/1`, undefined, undefined, [400, 405]);
    await rejects('unknown operation', 'POST', '/fhir/Patient/$does-not-exist', patient(), undefined, [400, 404]);
    await rejects('unknown operation on an instance', 'GET', `/fhir/Patient/${patientId}/$nope`, undefined, undefined, [400, 404]);
    await rejects('$everything on another type', 'GET', `/fhir/Observation/${patientId}/$everything`, undefined, undefined, [400, 404]);
    await rejects('search across all types without _type', 'GET', '/fhir?name=x', undefined, undefined, [400]);
    await rejects('unknown top-level path', 'GET', '/fhir/Patient/x/y/z/w/v');
    const options = await t.app.inject({ method: 'OPTIONS', url: '/fhir/Patient' });
    assert.ok(options.statusCode >= 400 && options.statusCode < 500, options.body);
  });
});

describe('references', () => {
  test('R1/R3/R5: missing, malformed, wrongly typed and dangling local references are 4xx', async () => {
    const obs = (reference: string): Record<string, unknown> => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference } });
    for (const ref of [`Patient/${randomUUID()}`, 'Patient/', 'Patient//x', 'Patient/a b', 'Patient/a/b/c/d', 'NotAType/123', 'patient/123', '/Patient/', 'Patient/a_b', `Patient/${'a'.repeat(65)}`, "Patient/1' OR '1'='1", '#missing']) {
      await rejects(`reference ${ref}`, 'POST', '/fhir/Observation', obs(ref), undefined, [400, 404, 422]);
    }
    await rejects('urn:uuid outside a transaction', 'POST', '/fhir/Observation', obs(`urn:uuid:${randomUUID()}`), undefined, [400, 422]);
    await rejects('urn:oid outside a transaction', 'POST', '/fhir/Observation', obs('urn:oid:1.2.3'), undefined, [400, 422]);
    await rejects('a conditional reference outside a transaction', 'POST', '/fhir/Observation', obs('Patient?identifier=urn:dsd:test:bad|p1'), undefined, [400, 422]);
    const med = await t.request('POST', '/fhir/Medication', { resourceType: 'Medication' });
    assert.equal(med.status, 201);
    await rejects('wrong target type', 'POST', '/fhir/Observation', obs(`Medication/${med.body.id as string}`), undefined, [400, 422]);
    const deleted = await t.request('POST', '/fhir/Patient', patient());
    await t.request('DELETE', `/fhir/Patient/${deleted.body.id as string}`);
    await rejects('a deleted target', 'POST', '/fhir/Observation', obs(`Patient/${deleted.body.id as string}`), undefined, [400, 404, 409, 422]);
    await rejects('reference in an update', 'PUT', `/fhir/Patient/${patientId}`, { resourceType: 'Patient', id: patientId, generalPractitioner: [{ reference: `Practitioner/${randomUUID()}` }] }, undefined, [400, 404, 422]);
    const ok = await t.request('POST', '/fhir/Observation', obs(`Patient/${patientId}`));
    assert.equal(ok.status, 201, ok.text);
  });
});

describe('Bundles', () => {
  test('B1: more entries than the cap is 4xx before anything runs', async () => {
    const entry = { resource: { resourceType: 'Basic', code: { text: 'x' } }, request: { method: 'POST', url: 'Basic' } };
    const body = JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: Array.from({ length: 10_001 }, () => entry) });
    await rejects('10,001 entries', 'POST', '/fhir', body, FHIR_JSON, [400, 413]);
  });

  test('B2/B3/B4/B6: bad transactions store nothing', async () => {
    const u = `urn:uuid:${randomUUID()}`;
    const tx = (entry: unknown[]): unknown => ({ resourceType: 'Bundle', type: 'transaction', entry });
    const twin = randomUUID();
    for (let i = 0; i < 2; i++) {
      assert.equal((await t.request('POST', '/fhir/Patient', patient({ identifier: [{ system: 'urn:dsd:test:bad', value: twin }] }))).status, 201);
    }
    await rejects('one invalid entry', 'POST', '/fhir', tx([{ resource: patient(), request: { method: 'POST', url: 'Patient' } }, { resource: { resourceType: 'Patient', birthDate: 'x' }, request: { method: 'POST', url: 'Patient' } }]));
    await rejects('duplicate fullUrl', 'POST', '/fhir', tx([{ fullUrl: u, resource: patient(), request: { method: 'POST', url: 'Patient' } }, { fullUrl: u, resource: patient(), request: { method: 'POST', url: 'Patient' } }]), undefined, [400]);
    await rejects('urn:uuid not in the Bundle', 'POST', '/fhir', tx([{ resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: u } }, request: { method: 'POST', url: 'Observation' } }]), undefined, [400, 404, 422]);
    await rejects('two PUTs of one resource', 'POST', '/fhir', tx([{ resource: { resourceType: 'Patient', id: patientId }, request: { method: 'PUT', url: `Patient/${patientId}` } }, { resource: { resourceType: 'Patient', id: patientId }, request: { method: 'PUT', url: `Patient/${patientId}` } }]), undefined, [400]);
    await rejects('ifNoneExist matching two', 'POST', '/fhir', tx([{ resource: patient(), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=urn:dsd:test:bad|${twin}` } }]), undefined, [412]);
    await rejects('a request url outside the server', 'POST', '/fhir', tx([{ resource: patient(), request: { method: 'POST', url: 'http://evil.example/Patient' } }]), undefined, [400, 404]);
    await rejects('a request url with traversal', 'POST', '/fhir', tx([{ resource: patient(), request: { method: 'POST', url: '../../Patient' } }]), undefined, [400, 404]);
    await rejects('a resource that is an array', 'POST', '/fhir', tx([{ resource: [], request: { method: 'PUT', url: 'Patient?identifier=a|b' } }]), undefined, [400]);
    await rejects('a resource that is a string', 'POST', '/fhir', tx([{ resource: 'Patient', request: { method: 'POST', url: 'Patient' } }]), undefined, [400]);
    await rejects('request.method not a string', 'POST', '/fhir', tx([{ resource: patient(), request: { method: ['POST'], url: 'Patient' } }]), undefined, [400]);
    await rejects('request.url missing', 'POST', '/fhir', tx([{ resource: patient(), request: { method: 'POST' } }]), undefined, [400]);
    await rejects('entry an array', 'POST', '/fhir', tx([[]]), undefined, [400]);
    await rejects('type missing', 'POST', '/fhir', { resourceType: 'Bundle', entry: [] }, undefined, [400]);
    await rejects('type searchset', 'POST', '/fhir', { resourceType: 'Bundle', type: 'searchset', entry: [] }, undefined, [400]);
  });
});

describe('search parameters', () => {
  test('S1: injection in search values is a literal: no match, no change', async () => {
    const before = await countRows(t.db);
    for (const v of ["' OR 1=1--", "'; DROP TABLE resource;--", "%'; DROP TABLE resource;--", '1 OR 1=1', '") OR ("1"="1', '\\', '$1', '%', '_', '*']) {
      for (const param of ['name', 'family', 'identifier', 'name:exact', 'name:contains', 'identifier:text', '_text', '_content', 'address-city']) {
        const res = await t.request('GET', `/fhir/Patient?${param}=${encodeURIComponent(v)}`);
        assert.ok(res.status === 200 || res.status === 400, `${param}=${v}: ${res.status} ${res.text}`);
        if (res.status === 200) {
          assert.equal(res.body.total, 0, `${param}=${v} matched: ${res.text.slice(0, 300)}`);
        } else {
          assertBadInputResponse(res, `${param}=${v}`);
        }
      }
    }
    assert.deepEqual(await countRows(t.db), before);
    const still = await t.request('GET', `/fhir/Patient?_id=${patientId}`);
    assert.equal(still.body.total, 1);
  });

  test('S2: injection in _sort, _count, _elements, _include, _summary, _total, _offset and _id is 400', async () => {
    const urls = [
      '_sort=(select pg_sleep(10))',
      '_sort=name;drop',
      "_sort=name'--",
      '_sort=-(name)',
      '_sort=name,1',
      '_sort=',
      '_count=1;',
      '_count=1 OR 1=1',
      '_count=-1',
      '_count=1e3',
      '_count=0x10',
      '_count=99999999999999999999',
      "_elements=name'); DROP TABLE resource;--",
      '_elements=name,(select 1)',
      '_elements=*',
      "_include=Patient:organization';--",
      '_include=Patient:*:NotAType',
      '_include=x',
      "_revinclude=Observation:subject'--",
      '_summary=1 OR 1=1',
      '_total=accurate;',
      '_offset=-1',
      '_offset=1;',
      '_id=1 OR 1=1',
      "_id=' OR ''='",
      '_lastUpdated=1 OR 1=1',
      'birthdate=1 OR 1=1',
      'birthdate=2020-13-45',
      'birthdate=gt',
      'birthdate=2020-02-30',
      'death-date=yesterday',
      'general-practitioner=Practitioner/1%27%20OR%20%271%27=%271',
      "_has:Observation';--:subject:code=x",
      'name:nonsense=x',
      'birthdate:contains=2020',
    ].map((q) => `/fhir/Patient?${q.replaceAll(' ', '%20').replaceAll(';', '%3B')}`);
    urls.push(
      `/fhir/Observation?value-quantity=${encodeURIComponent('1 OR 1=1')}`,
      '/fhir/Observation?value-quantity=abc',
      '/fhir/Observation?value-quantity=gt',
      '/fhir/RiskAssessment?probability=abc',
      `/fhir/RiskAssessment?probability=${encodeURIComponent('0.5; DROP TABLE resource')}`,
      '/fhir/RiskAssessment?probability=1e',
      '/fhir/RiskAssessment?probability=1.2.3',
      '/fhir/Observation?code-value-quantity=abc',
      `/fhir/Observation?code-value-quantity=${encodeURIComponent('x$abc')}`,
      '/fhir/Observation?subject:Patient.nope=x',
      '/fhir/Observation?subject:NotAType.name=x',
      '/fhir/_history?_count=1;',
      `/fhir/_history?_since=${encodeURIComponent("2020-01-01' OR '1'='1")}`,
      `/fhir/Patient/${patientId}/_history?_at=yesterday`,
      `/fhir/Patient/${patientId}/_history?foo=bar`,
      `/fhir/Patient/${patientId}/$everything?_type=${encodeURIComponent("Patient'--")}`,
      `/fhir/Patient/${patientId}/$everything?_since=${encodeURIComponent('1 OR 1=1')}`,
      `/fhir/Patient/${patientId}/$everything?_count=1;`,
      `/fhir/Patient/${patientId}/$everything?bogus=1`,
      `/fhir/Patient/${patientId}?_summary=bogus`,
      `/fhir/Patient/${patientId}?_elements=${encodeURIComponent("name')--")}`,
    );
    for (const url of urls) {
      await rejects(url, 'GET', url, undefined, undefined, [400]);
    }
  });

  test('S3: :contains treats %, _ and \\ literally', async () => {
    const marker = randomUUID().slice(0, 8);
    const special = await t.request('POST', '/fhir/Patient', patient({ name: [{ family: `Pro${marker}%_\\cent` }] }));
    assert.equal(special.status, 201);
    const plain = await t.request('POST', '/fhir/Patient', patient({ name: [{ family: `Pro${marker}xyzcent` }] }));
    assert.equal(plain.status, 201);
    const pct = await t.request('GET', `/fhir/Patient?name:contains=${encodeURIComponent(`${marker}%`)}`);
    assert.equal(pct.body.total, 1, pct.text.slice(0, 300));
    assert.equal(pct.body.entry[0].resource.id, special.body.id);
    const underscore = await t.request('GET', `/fhir/Patient?name:contains=${encodeURIComponent(`${marker}_`)}`);
    assert.equal(underscore.body.total, 0, 'an escaped _ is not a single-character wildcard');
    const all = await t.request('GET', `/fhir/Patient?name:contains=${encodeURIComponent(marker)}`);
    assert.equal(all.body.total, 2);
    const wildcard = await t.request('GET', `/fhir/Patient?name=${encodeURIComponent(`Pro${marker}%cent`)}`);
    assert.equal(wildcard.body.total, 0, '% is not a wildcard in a prefix search');
  });

  test('S4: full-text syntax characters never cause an error', async () => {
    for (const v of ['[x]', '"unbalanced', "'", '(', ')', '&', '|', '!', ':*', 'a & | b', '\\', '<->', '""', "''", '%', 'AND OR NOT', '💥']) {
      for (const param of ['_text', '_content', 'name', 'name:text', 'identifier:text']) {
        const res = await t.request('GET', `/fhir/Patient?${param}=${encodeURIComponent(v)}`);
        assert.ok(res.status === 200 || res.status === 400, `${param}=${v}: ${res.status} ${res.text.slice(0, 300)}`);
        if (res.status === 400) {
          assertBadInputResponse(res, `${param}=${v}`);
        }
      }
    }
  });

  test('S5: unknown and misspelled parameters are 400 by default; lenient handling ignores them with a warning', async () => {
    for (const url of ['/fhir/Patient?nmae=x', '/fhir/Observation?patiet=123', '/fhir/Patient?value-quantity=5', '/fhir/Patient?_unknown=1', '/fhir/Patient?name.family=x', '/fhir/Patient?=x', '/fhir/Patient?:missing=true']) {
      await rejects(url, 'GET', url, undefined, undefined, [400]);
    }
    await rejects('handling=strict', 'GET', '/fhir/Patient?nmae=x', undefined, { prefer: 'handling=strict' }, [400]);
    const lenient = await t.request('GET', '/fhir/Patient?nmae=x', undefined, { prefer: 'handling=lenient' });
    assert.equal(lenient.status, 200);
    const outcome = (lenient.body.entry as { search: { mode: string }; resource: { resourceType: string } }[]).find((e) => e.search.mode === 'outcome');
    assert.equal(outcome?.resource.resourceType, 'OperationOutcome');
  });

  test('S7: a huge _count is capped, not obeyed', async () => {
    const res = await t.request('GET', '/fhir/Patient?_count=99999999');
    assert.equal(res.status, 200);
    const self = (res.body.link as { relation: string; url: string }[]).find((l) => l.relation === 'self')!;
    const count = Number(new URL(self.url).searchParams.get('_count'));
    assert.ok(count <= 1000, `page size ${count}`);
    const history = await t.request('GET', '/fhir/_history?_count=999999');
    assert.equal(history.status, 200);
    assert.ok(history.body.entry.length <= 1000);
  });

  test('large query values and many parameters are bounded', async () => {
    await rejects('a 100 kB value', 'GET', `/fhir/Patient?name=${'a'.repeat(100_000)}`, undefined, undefined, [400, 414, 431]);
    await rejects('a 600-character id', 'GET', `/fhir/Patient/${'a'.repeat(600)}`, undefined, undefined, [400, 404, 414]);
    // Every parameter is a subquery whose planning cost grows steeply: their number is capped.
    let started = Date.now();
    const many = Array.from({ length: 2000 }, (_, i) => `name=x${i}`).join('&');
    const res = await rejects('2000 parameters', 'GET', `/fhir/Patient?${many}`, undefined, undefined, [400, 414, 431]);
    assert.equal(res.body.issue[0].code, 'too-costly');
    await rejects('2000 dates', 'GET', `/fhir/Patient?${Array.from({ length: 2000 }, () => 'birthdate=ge2000').join('&')}`, undefined, undefined, [400, 414, 431]);
    await rejects('2000 conditions', 'POST', '/fhir/Patient', patient(), { 'if-none-exist': Array.from({ length: 2000 }, (_, i) => `name=x${i}`).join('&') }, [400, 431]);
    assert.ok(Date.now() - started < 5000, `rejecting took ${Date.now() - started} ms`);
    started = Date.now();
    const ok = await t.request('GET', `/fhir/Patient?${Array.from({ length: 10 }, (_, i) => `name:contains=${i}`).join('&')}&_count=5`);
    assert.equal(ok.status, 200, ok.text.slice(0, 300));
    const ors = await t.request('GET', `/fhir/Patient?name=${Array.from({ length: 2000 }, (_, i) => `x${i}`).join(',')}`);
    assert.ok(ors.status === 200 || (ors.status >= 400 && ors.status < 500), `${ors.status} ${ors.text.slice(0, 200)}`);
    assert.ok(Date.now() - started < 10_000, `searching took ${Date.now() - started} ms`);
  });
});

describe('versioning', () => {
  test('V1: a stale If-Match is 412 and writes nothing; a malformed one is 400', async () => {
    const body = { resourceType: 'Patient', id: patientId, name: [{ family: 'Stale' }] };
    await rejects('stale', 'PUT', `/fhir/Patient/${patientId}`, body, { 'if-match': 'W/"0"' }, [412]);
    await rejects('future', 'PUT', `/fhir/Patient/${patientId}`, body, { 'if-match': 'W/"99"' }, [412]);
    for (const etag of ['W/1', '"abc"', "W/\"1' OR '1'='1\"", '*;', 'W/"-1"']) {
      await rejects(`If-Match ${etag}`, 'PUT', `/fhir/Patient/${patientId}`, body, { 'if-match': etag }, [400, 412]);
    }
    await rejects('If-Match on a new id', 'PUT', '/fhir/Patient/not-there-yet', { resourceType: 'Patient', id: 'not-there-yet' }, { 'if-match': 'W/"1"' }, [404, 409, 412]);
    assert.equal((await t.request('GET', `/fhir/Patient/${patientId}`)).body.name[0].family, 'Berg');
  });
});

describe('fuzzing', () => {
  const patientElements = ['id', 'meta', 'text', 'extension', 'identifier', 'active', 'name', 'telecom', 'gender', 'birthDate', 'deceasedBoolean', 'address', 'maritalStatus', 'multipleBirthInteger', 'contact', 'communication', 'generalPractitioner', 'managingOrganization', 'link', '__proto__', 'constructor', 'resourceType'];

  /** JSON-ish garbage: random text, random JSON, Patient-shaped objects with random members, and mutations of valid JSON text. */
  const garbage: fc.Arbitrary<string | Buffer> = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.json({ maxDepth: 4 }),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    fc.dictionary(fc.constantFrom(...patientElements), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }).map((d) => JSON.stringify({ resourceType: 'Patient', ...d })),
    fc.record({ key: fc.constantFrom(...patientElements), value: fc.jsonValue({ maxDepth: 3 }) }).map(({ key, value }) => `{"resourceType":"Patient",${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}}`),
    fc
      .tuple(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Fuzz', given: [JSON.stringify(v)] }] })), fc.nat(), fc.constantFrom('', '"', '{', '}', '[', ']', ',', ':', '\\', '\\u0000', '\\ud800', 'null', '0.10', '\u0000'))
      .map(([text, pos, insert]) => {
        const at = pos % (text.length + 1);
        return text.slice(0, at) + insert + text.slice(at);
      }),
  );

  test('random bodies POSTed to /fhir/Patient never get a 5xx and change nothing unless created (201)', async () => {
    await fc.assert(
      fc.asyncProperty(garbage, fc.constantFrom('application/fhir+json', 'application/json', 'application/fhir+json; charset=utf-8'), async (payload, contentType) => {
        const before = await countRows(t.db);
        const res = await t.app.inject({ method: 'POST', url: '/fhir/Patient', payload, headers: { 'content-type': contentType } });
        const after = await countRows(t.db);
        assert.ok(res.statusCode < 500, `${res.statusCode}: ${res.body.slice(0, 300)}`);
        const body = JSON.parse(res.body) as { resourceType: string; issue?: { severity: string }[] };
        if (res.statusCode === 201) {
          assert.equal(body.resourceType, 'Patient');
          assert.equal(after.resources, before.resources + 1);
          assert.equal(after.versions, before.versions + 1);
        } else {
          assert.ok(res.statusCode >= 400, `${res.statusCode}: ${res.body.slice(0, 300)}`);
          assert.equal(body.resourceType, 'OperationOutcome');
          assert.ok(body.issue?.[0]?.severity === 'error' || body.issue?.[0]?.severity === 'fatal');
          assert.deepEqual(after, before);
        }
      }),
      { numRuns: 400 },
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('random search queries never get a 5xx', async () => {
    const params = ['name', 'family', 'given', 'identifier', 'birthdate', 'gender', '_id', '_lastUpdated', '_sort', '_count', '_elements', '_summary', '_include', '_revinclude', '_has:Observation:subject:code', 'general-practitioner', 'organization', 'address', '_text', '_content', 'name:contains', 'name:exact', 'identifier:of-type', 'birthdate:missing', 'unknown'];
    const value = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('ge2020', 'lt2020-01-01T00:00:00Z', 'a|b', '|b', 'a|', 'Patient/x', '-name', '0', '1e3', 'true', 'eq1.50', 'ap2020', 'sa', 'x$y', '%', '\\,', ','));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...params), value), { minLength: 1, maxLength: 4 }), fc.constantFrom('Patient', 'Observation', 'Encounter'), async (pairs, type) => {
        const qs = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const res = await t.app.inject({ method: 'GET', url: `/fhir/${type}?${qs}` });
        assert.ok(res.statusCode === 200 || (res.statusCode >= 400 && res.statusCode < 500), `${type}?${qs} → ${res.statusCode}: ${res.body.slice(0, 300)}`);
        const body = JSON.parse(res.body) as { resourceType: string };
        assert.equal(body.resourceType, res.statusCode === 200 ? 'Bundle' : 'OperationOutcome');
      }),
      { numRuns: 400 },
    );
  });

  test('random transaction Bundles never get a 5xx and either store everything or nothing', async () => {
    const entry = fc.oneof(
      fc.record({ resource: fc.constant({ resourceType: 'Patient', name: [{ family: 'Fuzz' }] }), request: fc.record({ method: fc.constantFrom('POST', 'PUT', 'GET', 'DELETE', 'PATCH', 'HEAD', 'BOGUS'), url: fc.constantFrom('Patient', `Patient/${patientId}`, 'Patient?name=Fuzz', 'Patient/x', 'Observation', '', '/', '?', 'metadata', '_history', 'Patient/$everything') }) }),
      fc.record({ fullUrl: fc.constantFrom('urn:uuid:6c1a1a1e-0000-4000-8000-000000000001', 'urn:uuid:6c1a1a1e-0000-4000-8000-000000000002'), resource: fc.constant({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:6c1a1a1e-0000-4000-8000-000000000001' } }), request: fc.constant({ method: 'POST', url: 'Observation' }) }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { maxLength: 5 }), fc.constantFrom('transaction', 'batch'), async (entries, type) => {
        const before = await countRows(t.db);
        const res = await t.app.inject({ method: 'POST', url: '/fhir', payload: JSON.stringify({ resourceType: 'Bundle', type, entry: entries }), headers: FHIR_JSON });
        assert.ok(res.statusCode < 500, `${res.statusCode}: ${res.body.slice(0, 400)}`);
        const after = await countRows(t.db);
        if (res.statusCode >= 400) {
          assert.equal((JSON.parse(res.body) as { resourceType: string }).resourceType, 'OperationOutcome');
          assert.deepEqual(after, before);
        }
        if (res.statusCode === 200 && type === 'transaction') {
          const statuses = (JSON.parse(res.body) as { entry: { response: { status: string } }[] }).entry.map((e) => Number(e.response.status));
          assert.ok(statuses.every((s) => s < 400), res.body.slice(0, 400));
        }
        if (res.statusCode === 200 && type === 'batch') {
          const statuses = (JSON.parse(res.body) as { entry: { response: { status: string } }[] }).entry.map((e) => Number(e.response.status));
          assert.ok(statuses.every((s) => s < 500), res.body.slice(0, 400));
        }
      }),
      { numRuns: 200 },
    );
  });
});
