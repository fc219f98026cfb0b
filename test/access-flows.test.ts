import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle, Consent, Observation, Parameters } from '@medplum/fhirtypes';
import { citizenToken, professionalToken, systemToken } from './auth-support.ts';
import { AUTH_ID, CPR, as, block, createDemoApp, refsOf } from './access-support.ts';
import type { TestApp, TestResponse } from './support.ts';

/**
 * Spærring (the citizen's blocks), værdispring (break-the-glass) and the audit trail, end to end
 * over HTTP with real tokens: Louise Sørensen (demo citizen) and her GP.
 */

let t: TestApp;
let admin: string;
let louise: string;
let gp: string;
let doctor: string;
const CITIZEN_RW = 'openid fhirUser launch/patient patient/*.cruds';

async function visibleObservations(token: string): Promise<string[]> {
  const r = await as(t, token, 'GET', '/fhir/Observation?patient=Patient/demo-citizen&_count=500&_elements=id');
  assert.equal(r.status, 200, r.text);
  return refsOf(r.body as Bundle);
}

async function createBlock(body: ReturnType<typeof block>): Promise<string> {
  const r = await as(t, louise, 'POST', '/fhir/Consent', body);
  assert.equal(r.status, 201, r.text);
  return (r.body as Consent).id!;
}

async function removeBlock(id: string): Promise<void> {
  const r = await as(t, louise, 'DELETE', `/fhir/Consent/${id}`);
  assert.ok(r.status === 200 || r.status === 204, r.text);
}

/** POST Patient/demo-citizen/$vaerdispring with the given reason. */
function breakGlass(token: string, reason: string, reasonText: string, minutes?: number): Promise<TestResponse> {
  const parameter: NonNullable<Parameters['parameter']> = [
    { name: 'reason', valueCode: reason },
    { name: 'reasonText', valueString: reasonText },
    ...(minutes === undefined ? [] : [{ name: 'minutes', valueInteger: minutes }]),
  ];
  return as(t, token, 'POST', '/fhir/Patient/demo-citizen/$vaerdispring', { resourceType: 'Parameters', parameter });
}

/** Audit rows written for one response (by its x-request-id). */
async function auditRows(res: TestResponse): Promise<{ outcome: number; break_glass: boolean; patient_ids: string[]; agent_kind: string }[]> {
  const id = res.headers['x-request-id'];
  assert.equal(typeof id, 'string', 'every response names its request id');
  return t.db.query('SELECT outcome, break_glass, patient_ids, agent_kind FROM audit_event WHERE request_id = $1', [id]);
}

before(async () => {
  t = await createDemoApp();
  admin = await systemToken(t, 'system/*.cruds');
  louise = await citizenToken(t, CPR.louise, { scope: CITIZEN_RW });
  gp = await professionalToken(t, AUTH_ID.gp, { scope: 'openid fhirUser user/*.rs' });
  doctor = await professionalToken(t, AUTH_ID.hospitalDoctor, { scope: 'openid fhirUser user/*.rs' });
  // An admission at cardiology gives the hospital doctor a treatment relation to Louise.
  const enc = await as(t, admin, 'POST', '/fhir/Encounter', {
    resourceType: 'Encounter',
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: { reference: 'Patient/demo-citizen' },
    serviceProvider: { reference: 'Organization/hosp-auh-cardiology' },
    period: { start: new Date().toISOString() },
  });
  assert.equal(enc.status, 201, enc.text);
});

after(async () => {
  await t.close();
});

describe('spærring: the citizen blocks a period, a unit, a person', () => {
  it('a period block hides exactly the data from that period, and lifting it shows it again', async () => {
    const all = await as(t, admin, 'GET', '/fhir/Observation?patient=Patient/demo-citizen&_count=500');
    const obs = ((all.body as Bundle).entry ?? []).map((e) => e.resource as Observation).filter((o) => o.effectiveDateTime !== undefined);
    assert.ok(obs.length > 4);
    const first = obs.map((o) => o.effectiveDateTime!).sort()[0]!;
    const start = first.slice(0, 10);
    const end = new Date(Date.parse(first) + 30 * 86_400_000).toISOString().slice(0, 10);
    const inPeriod = obs.filter((o) => o.effectiveDateTime!.slice(0, 10) >= start && o.effectiveDateTime!.slice(0, 10) <= end).map((o) => `Observation/${o.id!}`);
    assert.ok(inPeriod.length > 0 && inPeriod.length < obs.length, 'the period holds some, not all, observations');

    const before = await visibleObservations(gp);
    for (const ref of inPeriod) {
      assert.ok(before.includes(ref), `the GP sees ${ref} before the block`);
    }
    const id = await createBlock(block('demo-citizen', 'period', { start, end }));
    const during = await visibleObservations(gp);
    assert.deepEqual(
      during.filter((r) => inPeriod.includes(r)),
      [],
      'no observation from the blocked period is visible',
    );
    assert.equal(during.length, before.length - inPeriod.length, 'everything outside the period stays visible');
    assert.equal((await as(t, gp, 'GET', `/fhir/${inPeriod[0]!}`)).status, 404);
    // The block binds health professionals, not the citizen herself.
    assert.equal((await as(t, louise, 'GET', `/fhir/${inPeriod[0]!}`)).status, 200);
    await removeBlock(id);
    assert.deepEqual((await visibleObservations(gp)).sort(), [...before].sort());
  });

  it('a unit block with sub-units hides the data from a department of a blocked hospital; a block of another unit does not', async () => {
    assert.ok((await visibleObservations(doctor)).length > 0, 'the admitted patient is visible to the cardiology doctor');
    const other = await createBlock(block('demo-citizen', 'unit-and-subunits', 'Organization/hosp-aau'));
    assert.ok((await visibleObservations(doctor)).length > 0, 'a block of another hospital changes nothing here');
    const narrow = await createBlock(block('demo-citizen', 'unit', 'Organization/hosp-auh'));
    assert.ok((await visibleObservations(doctor)).length > 0, 'a block of the hospital alone does not reach its departments');
    const wide = await createBlock(block('demo-citizen', 'unit-and-subunits', 'Organization/hosp-auh'));
    assert.deepEqual(await visibleObservations(doctor), []);
    const p = await as(t, doctor, 'GET', '/fhir/Patient/demo-citizen/$everything');
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(
      refsOf(p.body as Bundle).filter((r) => !r.startsWith('Patient/') && !r.startsWith('Organization/') && !r.startsWith('Practitioner')),
      [],
      '$everything holds no blocked clinical data',
    );
    for (const id of [other, narrow, wide]) {
      await removeBlock(id);
    }
    assert.ok((await visibleObservations(doctor)).length > 0);
  });

  it('only the citizen (or a proxy) manages blocks; a professional can neither create nor read them', async () => {
    const r = await as(t, gp, 'POST', '/fhir/Consent', block('demo-citizen', 'person', 'Practitioner/prac-demo-gp'));
    assert.equal(r.status, 403, r.text);
    const id = await createBlock(block('demo-citizen', 'person', 'Practitioner/prac-demo-hospital-doctor'));
    assert.equal((await as(t, gp, 'GET', `/fhir/Consent/${id}`)).status, 404);
    assert.deepEqual(refsOf((await as(t, gp, 'GET', '/fhir/Consent?patient=Patient/demo-citizen')).body as Bundle), []);
    await removeBlock(id);
  });
});

describe('værdispring: a blocked GP breaks the glass, and the citizen sees it', () => {
  let blockId: string;
  let hidden: string;

  it('the blocked GP meets the block: data answers 404, the check names the block', async () => {
    const visible = await visibleObservations(gp);
    hidden = visible[0]!;
    blockId = await createBlock(block('demo-citizen', 'person', 'Practitioner/prac-demo-gp'));
    assert.deepEqual(await visibleObservations(gp), []);
    assert.equal((await as(t, gp, 'GET', `/fhir/${hidden}`)).status, 404);
    const check = await as(t, gp, 'GET', '/fhir/Patient/demo-citizen/$vaerdispring');
    assert.equal(check.status, 200, check.text);
    const params = (check.body as Parameters).parameter ?? [];
    assert.equal(params.find((p) => p.name === 'blocked')?.valueBoolean, true);
    assert.deepEqual(params.filter((p) => p.name === 'kind').map((p) => p.valueCode), ['person']);
  });

  it('without a reason, with an unknown reason, for too long, or by a citizen, værdispring is refused and changes nothing', async () => {
    const noReason = await as(t, gp, 'POST', '/fhir/Patient/demo-citizen/$vaerdispring', { resourceType: 'Parameters', parameter: [{ name: 'reasonText', valueString: 'akut' }] });
    assert.equal(noReason.status, 400, noReason.text);
    const badReason = await breakGlass(gp, 'curiosity', 'x');
    assert.equal(badReason.status, 400, badReason.text);
    const tooLong = await breakGlass(gp, 'citizen-unreachable', 'x', 100_000);
    assert.equal(tooLong.status, 400, tooLong.text);
    const byCitizen = await breakGlass(louise, 'citizen-consent', 'x');
    assert.equal(byCitizen.status, 403, byCitizen.text);
    assert.deepEqual(await visibleObservations(gp), []);
  });

  it('with a reason the GP sees the blocked data for a limited time', async () => {
    const r = await breakGlass(gp, 'citizen-unreachable', 'Bevidstløs ved ankomst, skal kende medicin');
    assert.equal(r.status, 200, r.text);
    const params = (r.body as Parameters).parameter ?? [];
    const expires = Date.parse(params.find((p) => p.name === 'expires')?.valueInstant ?? '');
    assert.ok(expires > Date.now() && expires <= Date.now() + 4 * 60 * 60_000 + 1000, 'the access is time-limited (at most four hours)');
    const read = await as(t, gp, 'GET', `/fhir/${hidden}`);
    assert.equal(read.status, 200, read.text);
    const rows = await auditRows(read);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.break_glass, true, 'a read under værdispring carries the break-glass marker');
    assert.ok((await visibleObservations(gp)).length > 0);
  });

  it('Min Log shows the værdispring and the GP\'s look-ups, highlighted, and none of Louise\'s own', async () => {
    const log = await as(t, louise, 'GET', '/fhir/AuditEvent?patient=Patient/demo-citizen&_count=1000');
    assert.equal(log.status, 200, log.text);
    const events = ((log.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
    assert.ok(events.length > 0);
    const who = (e: AuditEvent): string => e.agent.find((a) => a.requestor)?.who?.reference ?? '';
    assert.deepEqual(
      events.filter((e) => who(e) === 'Patient/demo-citizen'),
      [],
      'the citizen\'s own look-ups are not in Min Log',
    );
    const btg = events.filter((e) => (e.purposeOfEvent ?? []).some((p) => (p.coding ?? []).some((c) => c.code === 'BTG')));
    assert.ok(btg.length >= 2, 'the værdispring itself and the reads under it are marked BTG');
    assert.ok(btg.every((e) => who(e) === 'Practitioner/prac-demo-gp'));
    assert.ok(events.some((e) => who(e) === 'Practitioner/prac-demo-hospital-doctor'), 'the hospital doctor\'s look-ups are listed too');
    const alerts = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM security_alert WHERE kind = 'break-glass' AND patient_id = 'demo-citizen'");
    assert.equal(Number(alerts[0]!.n), 1, 'the værdispring is raised to monitoring once');
  });

  it('when Louise removes the block, the check no longer names it', async () => {
    await removeBlock(blockId);
    const check = await as(t, gp, 'GET', '/fhir/Patient/demo-citizen/$vaerdispring');
    assert.equal(check.status, 200, check.text);
    assert.equal((check.body as Parameters).parameter?.find((p) => p.name === 'blocked')?.valueBoolean, false);
    assert.ok((await visibleObservations(gp)).length > 0);
  });

  it('another citizen cannot read Louise\'s log, and Louise cannot read the whole trail', async () => {
    const poul = await citizenToken(t, CPR.poul);
    assert.equal((await as(t, poul, 'GET', '/fhir/AuditEvent?patient=Patient/demo-citizen')).status, 403);
    assert.equal((await as(t, louise, 'GET', '/fhir/AuditEvent')).status, 403);
    assert.equal((await as(t, gp, 'GET', '/fhir/AuditEvent?patient=Patient/demo-citizen')).status, 403);
    assert.equal((await as(t, louise, 'POST', '/fhir/AuditEvent', { resourceType: 'AuditEvent' })).status, 405);
  });
});

describe('audit completeness: one record for every access to patient data, refused ones included', () => {
  it('success, not found, forbidden, bad request, no token and a bad token each leave exactly one record', async () => {
    const cases: [string, () => Promise<TestResponse>, number, string][] = [
      ['read', () => as(t, gp, 'GET', '/fhir/Patient/demo-citizen'), 200, 'professional'],
      ['search', () => as(t, gp, 'GET', '/fhir/Observation?patient=Patient/demo-citizen'), 200, 'professional'],
      ['hidden read', () => as(t, doctor, 'GET', '/fhir/Patient/demo-child'), 404, 'professional'],
      ['scope refusal', () => as(t, gp, 'POST', '/fhir/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/demo-citizen' } }), 403, 'professional'],
      ['bad parameter', () => as(t, gp, 'GET', '/fhir/Observation?patient=Patient/demo-citizen&nonsense=1'), 400, 'professional'],
      ['citizen write', () => as(t, louise, 'POST', '/fhir/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'Vægt' }, subject: { reference: 'Patient/demo-citizen' }, valueQuantity: { value: 70, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } }), 201, 'citizen'],
      ['no token', () => as(t, undefined, 'GET', '/fhir/Patient/demo-citizen'), 401, 'anonymous'],
      ['bad token', () => as(t, 'not-a-token', 'GET', '/fhir/Observation?patient=Patient/demo-citizen'), 401, 'anonymous'],
      ['Min Log', () => as(t, louise, 'GET', '/fhir/AuditEvent?patient=Patient/demo-citizen&_count=5'), 200, 'citizen'],
      ['someone else\'s log', () => as(t, gp, 'GET', '/fhir/AuditEvent?patient=Patient/demo-citizen'), 403, 'professional'],
      ['log review', () => as(t, admin, 'GET', '/fhir/AuditEvent?patient=Patient/demo-citizen&_count=5'), 200, 'system'],
      ['transaction', () => as(t, admin, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'GET', url: 'Patient/demo-citizen' } }, { request: { method: 'GET', url: 'Observation?patient=Patient/demo-citizen&_count=1' } }] }), 200, 'system'],
    ];
    for (const [name, run, status, kind] of cases) {
      const res = await run();
      assert.equal(res.status, status, `${name}: ${res.text.slice(0, 300)}`);
      assert.equal(typeof res.headers['x-request-id'], 'string', `${name}: the response names its request id`);
      const rows = await auditRows(res);
      assert.equal(rows.length, 1, `${name}: exactly one audit record`);
      assert.equal(rows[0]!.agent_kind, kind, name);
      assert.equal(rows[0]!.outcome === 0, status < 400, `${name}: the outcome is recorded`);
      if (kind !== 'anonymous' && name !== 'bad parameter') {
        assert.ok(rows[0]!.patient_ids.length > 0, `${name}: the record names the patient`);
      }
    }
    const unauth = await as(t, undefined, 'GET', '/fhir/Patient/demo-citizen');
    assert.match(String(unauth.headers['www-authenticate']), /^Bearer /);
  });

  it('reading the trail is recorded with the patients it showed, and a citizen\'s own look-up stays out of Min Log', async () => {
    const review = await as(t, admin, 'GET', '/fhir/AuditEvent?patient=Patient/demo-citizen&_count=3');
    assert.equal(review.status, 200, review.text);
    const shown = ((review.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
    assert.ok(shown.length > 0);
    const rows = await t.db.query<{ resource_refs: string[]; patient_ids: string[]; interaction: string }>('SELECT resource_refs, patient_ids, interaction FROM audit_event WHERE request_id = $1', [review.headers['x-request-id']]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.interaction, 'search-type');
    assert.ok(rows[0]!.patient_ids.includes('demo-citizen'));
    for (const ev of shown) {
      assert.ok(rows[0]!.resource_refs.includes(`AuditEvent/${ev.id!}`), `the record lists AuditEvent/${ev.id!}`);
    }
    const mine = await as(t, louise, 'GET', '/fhir/AuditEvent?patient=Patient/demo-citizen&_count=1000');
    assert.equal(mine.status, 200, mine.text);
    const own = await t.db.query<{ id: string }>('SELECT id FROM audit_event WHERE request_id = $1', [mine.headers['x-request-id']]);
    assert.equal(own.length, 1, 'Louise\'s look-up is recorded');
    const again = await as(t, louise, 'GET', '/fhir/AuditEvent?patient=Patient/demo-citizen&_count=1000');
    const ids = ((again.body as Bundle).entry ?? []).map((e) => e.resource?.id);
    assert.ok(!ids.includes(own[0]!.id), 'but not shown to her in Min Log');
    assert.ok(ids.length > 0);
  });
});
