import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Encounter, MessageHeader, OperationOutcome, Patient, Provenance } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { messagingCommand } from '../../src/cli/messaging.ts';
import type { FhirPlatform } from '../../src/platform/fhir/platform.ts';
import { initFhirPlatform } from '../../src/platform/fhir/platform.ts';
import { FhirRepository } from '../../src/platform/fhir/repo.ts';
import { IdentifierSystem } from '../../src/platform/identifiers/systems.ts';
import { MessageDispatcher, listUnroutableNotifications, notificationFor, resendWorkflowNotification } from '../../src/platform/messaging/index.ts';
import { seedPopulation } from '../../src/platform/population/index.ts';
import { loadReferenceData } from '../../src/platform/registers/index.ts';
import { buildApp } from '../../src/server/app.ts';
import { systemToken } from '../auth-support.ts';
import type { TestDatabase } from '../support.ts';
import { createTestDatabase, loadTestConfig, sharedValidator } from '../support.ts';

/**
 * Workflow events: Encounter changes of a hospital stay send MedCom's HospitalNotification from
 * the department (Encounter.serviceProvider) to the citizen's home municipality, written in the
 * Encounter's own transaction, delivered by a real dispatcher and acknowledged. On the full
 * reference data, so routing finds the municipality and its receiving unit as in production.
 */

const HOSPITAL = 'hosp-auh-cardiology';
const AARHUS = '0751';
const AARHUS_UNIT = 'hjemmepleje-0751';
const COPENHAGEN_UNIT = 'hjemmepleje-0101';
const ACTIVITY_SYSTEM = 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes';
const LEAVE_URL = 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalnotifiation-leave-period-extension';

let tdb: TestDatabase;
let platform: FhirPlatform;
let app: FastifyInstance;
let token: string;
let dispatcher: MessageDispatcher;

before(async () => {
  tdb = await createTestDatabase();
  const config = loadTestConfig();
  platform = await initFhirPlatform({ db: tdb.db, baseUrl: `${config.baseUrl}/fhir`, defaultPageSize: config.defaultPageSize, maxPageSize: config.maxPageSize, validator: await sharedValidator() });
  app = await buildApp(config, tdb.db, { platform });
  await app.ready();
  await loadReferenceData(new FhirRepository(platform));
  token = await systemToken({ app, db: tdb.db } as Parameters<typeof systemToken>[0], 'system/*.cruds');
  dispatcher = new MessageDispatcher(tdb.db, { leaseMs: 5_000 });
});
after(async () => {
  await app.close();
  await tdb.close();
});

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await app.inject({
    method: method as 'GET',
    url,
    payload: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? { authorization: `Bearer ${token}` } : { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
  });
  return { status: res.statusCode, body: res.body === '' ? {} : (JSON.parse(res.body) as Record<string, unknown>) };
}

let cprSerial = 0;
async function citizen(municipality: string | undefined, family = 'Jensen'): Promise<string> {
  cprSerial++;
  const patient: Patient = {
    resourceType: 'Patient',
    identifier: [{ system: IdentifierSystem.cpr, value: `25094799${String(cprSerial).padStart(2, '0')}` }],
    name: [{ use: 'official', family, given: ['Test'] }],
    address: [
      {
        use: 'home',
        line: ['Testvej 1'],
        postalCode: municipality === '0101' ? '1550' : '8000',
        city: municipality === '0101' ? 'København V' : 'Aarhus C',
        ...(municipality === undefined
          ? {}
          : { extension: [{ url: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-municipalityCodes', valueCodeableConcept: { coding: [{ system: 'http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes', code: municipality }] } }] }),
      },
    ],
  };
  const res = await call('POST', '/fhir/Patient', patient);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
}

function encounter(patientId: string, status: Encounter['status'], cls = 'IMP', extra: Partial<Encounter> = {}): Encounter {
  return {
    resourceType: 'Encounter',
    status,
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: cls },
    subject: { reference: `Patient/${patientId}` },
    serviceProvider: { reference: `Organization/${HOSPITAL}` },
    period: { start: '2026-11-20T08:00:00+01:00' },
    ...extra,
  };
}

/** Counts of what a write can leave behind. */
async function counts(): Promise<{ messages: number; outbox: number; notifications: number; encounters: number }> {
  const rows = await tdb.db.query<{ m: number; o: number; n: number; e: number }>(
    `SELECT (SELECT count(*) FROM message)::int AS m, (SELECT count(*) FROM message_outbox)::int AS o,
            (SELECT count(*) FROM workflow_notification)::int AS n, (SELECT count(*) FROM resource_history WHERE resource_type = 'Encounter')::int AS e`,
  );
  const r = rows[0]!;
  return { messages: Number(r.m), outbox: Number(r.o), notifications: Number(r.n), encounters: Number(r.e) };
}

/** HospitalNotifications queued for an Encounter, oldest first, with their receivers. */
async function notificationsOf(encounterId: string): Promise<{ bundle: Bundle; receiver: string; activity: string }[]> {
  const rows = await tdb.db.query<{ content: string; receiver_org: string }>(
    `SELECT m.content, o.receiver_org FROM workflow_notification w JOIN message m ON m.seq = w.message_seq JOIN message_outbox o ON o.message_seq = m.seq
      WHERE w.encounter_id = $1 ORDER BY w.id`,
    [encounterId],
  );
  return rows.map((r) => {
    const bundle = JSON.parse(r.content) as Bundle;
    return { bundle, receiver: r.receiver_org, activity: newActivity(bundle) };
  });
}

/** The activity of the message's own Provenance (the one targeting its MessageHeader). */
function newActivity(b: Bundle): string {
  const header = b.entry![0]!.resource as MessageHeader;
  const own = b.entry!.map((e) => e.resource).find((r): r is Provenance => r?.resourceType === 'Provenance' && r.target[0]?.reference === `MessageHeader/${header.id!}`);
  assert.equal(own?.activity?.coding?.[0]?.system, ACTIVITY_SYSTEM);
  return own.activity.coding[0].code!;
}

async function profileErrors(b: Bundle): Promise<string[]> {
  return (await sharedValidator())
    .validate(b)
    .filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) => `${i.expression?.[0] ?? ''}: ${i.details?.text ?? ''}`);
}

async function update(id: string, e: Encounter): Promise<{ status: number; body: Record<string, unknown> }> {
  return call('PUT', `/fhir/Encounter/${id}`, { ...e, id });
}

describe('the transitions (pure)', () => {
  const e = (status: Encounter['status'], cls = 'IMP'): Encounter => ({ resourceType: 'Encounter', status, class: { code: cls } });
  it('maps old → new status to MedCom activity codes, or to nothing', () => {
    const cases: [Encounter | undefined, Encounter | undefined, string | undefined, unknown][] = [
      [undefined, e('in-progress'), undefined, 'admit-inpatient'],
      [e('planned'), e('in-progress'), undefined, 'admit-inpatient'],
      [e('arrived', 'EMER'), e('in-progress', 'EMER'), undefined, 'admit-emergency'],
      [e('in-progress', 'EMER'), e('in-progress'), 'admit-emergency', 'admit-inpatient'],
      [e('in-progress', 'AMB'), e('in-progress'), undefined, 'admit-inpatient'],
      [e('in-progress'), e('onleave'), 'admit-inpatient', 'start-leave-inpatient'],
      [e('onleave'), e('in-progress'), 'start-leave-inpatient', 'end-leave-inpatient'],
      [e('in-progress'), e('finished'), 'end-leave-inpatient', 'discharge-inpatient-home'],
      [e('onleave'), e('finished'), 'start-leave-inpatient', 'discharge-inpatient-home'],
      [e('in-progress', 'EMER'), e('finished', 'EMER'), 'admit-emergency', 'discharge-emergency-home'],
      [e('finished'), e('in-progress'), 'discharge-inpatient-home', 'cancel-discharge-inpatient-home'],
      [e('in-progress'), e('entered-in-error'), 'admit-inpatient', 'cancel-admit-inpatient'],
      [e('onleave'), e('entered-in-error'), 'start-leave-inpatient', 'cancel-start-leave-inpatient'],
      [e('in-progress'), undefined, 'admit-inpatient', 'cancel-admit-inpatient'],
      [e('in-progress'), e('in-progress'), 'admit-inpatient', undefined],
      [undefined, e('finished'), undefined, undefined],
      [e('planned'), e('finished'), undefined, undefined],
      [undefined, e('in-progress', 'AMB'), undefined, undefined],
      [e('planned'), e('entered-in-error'), undefined, undefined],
      [e('entered-in-error'), e('entered-in-error'), 'cancel-admit-inpatient', undefined],
    ];
    for (const [b, a, last, expected] of cases) {
      const got = notificationFor(b, a, last);
      assert.deepEqual(got === undefined ? undefined : 'activity' in got ? got.activity : 'refused', expected, `${b?.status ?? 'none'} → ${a?.status ?? 'deleted'} (${a?.class.code ?? ''})`);
    }
    assert.ok(notificationFor(e('in-progress', 'EMER'), e('onleave', 'EMER'), 'admit-emergency') && 'refused' in notificationFor(e('in-progress', 'EMER'), e('onleave', 'EMER'), 'admit-emergency')!);
    assert.ok('refused' in notificationFor(undefined, e('onleave'), undefined)!);
    assert.ok('refused' in notificationFor(e('in-progress'), e('planned'), 'admit-inpatient')!);
  });
});

describe('workflow events', () => {
  let stay: string;
  let aarhusPatient: string;

  it('an admission sends one HospitalNotification (admit-inpatient) to the home municipality, valid against the profile', async () => {
    aarhusPatient = await citizen(AARHUS);
    const before = await counts();
    const res = await call('POST', '/fhir/Encounter', encounter(aarhusPatient, 'in-progress'));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    stay = res.body.id as string;
    assert.deepEqual(await counts(), { messages: before.messages + 1, outbox: before.outbox + 1, notifications: before.notifications + 1, encounters: before.encounters + 1 });
    const [n] = await notificationsOf(stay);
    assert.equal(n!.activity, 'admit-inpatient');
    assert.equal(n!.receiver, AARHUS_UNIT, 'the home care unit of Aarhus, from the address municipality code');
    const header = n!.bundle.entry![0]!.resource as MessageHeader;
    assert.equal(header.sender?.reference, `Organization/${HOSPITAL}`);
    assert.equal(header.destination?.[0]?.receiver?.reference, `Organization/${AARHUS_UNIT}`);
    assert.equal(header.focus?.[0]?.reference, `Encounter/${stay}`);
    assert.deepEqual(await profileErrors(n!.bundle), []);
    // The check has teeth: MedCom's Encounter profile forbids Encounter.priority.
    const tampered = structuredClone(n!.bundle);
    (tampered.entry!.find((e) => e.resource?.resourceType === 'Encounter')!.resource as Encounter).priority = { text: 'akut' };
    assert.notDeepEqual(await profileErrors(tampered), []);
  });

  it('an update that does not change the status sends nothing', async () => {
    const before = await counts();
    const current = (await call('GET', `/fhir/Encounter/${stay}`)).body as unknown as Encounter;
    const res = await update(stay, { ...current, period: { start: '2026-11-20T08:05:00+01:00' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(await counts(), { ...before, encounters: before.encounters + 1 });
  });

  it('leave, return and discharge each send exactly one notification, chained to the previous ones', async () => {
    const steps: [Encounter, string][] = [
      [encounter(aarhusPatient, 'onleave', 'IMP', { extension: [{ url: LEAVE_URL, valuePeriod: { start: '2026-11-22T10:00:00+01:00' } }] }), 'start-leave-inpatient'],
      [encounter(aarhusPatient, 'in-progress', 'IMP', { extension: [{ url: LEAVE_URL, valuePeriod: { start: '2026-11-22T10:00:00+01:00', end: '2026-11-23T18:00:00+01:00' } }] }), 'end-leave-inpatient'],
      [encounter(aarhusPatient, 'finished', 'IMP', { period: { start: '2026-11-20T08:00:00+01:00', end: '2026-11-25T11:00:00+01:00' } }), 'discharge-inpatient-home'],
    ];
    for (const [e, activity] of steps) {
      const before = await counts();
      const res = await update(stay, e);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(await counts(), { messages: before.messages + 1, outbox: before.outbox + 1, notifications: before.notifications + 1, encounters: before.encounters + 1 }, activity);
    }
    const all = await notificationsOf(stay);
    assert.deepEqual(all.map((n) => n.activity), ['admit-inpatient', 'start-leave-inpatient', 'end-leave-inpatient', 'discharge-inpatient-home']);
    assert.ok(all.every((n) => n.receiver === AARHUS_UNIT));
    for (const [i, n] of all.entries()) {
      assert.deepEqual(await profileErrors(n.bundle), [], n.activity);
      // Each message carries the Provenances of the earlier ones, and its own refers to the previous message.
      const provenances = n.bundle.entry!.map((e) => e.resource).filter((r): r is Provenance => r?.resourceType === 'Provenance');
      assert.equal(provenances.length, i + 1);
      if (i > 0) {
        const previousHeader = all[i - 1]!.bundle.entry![0]!.resource!.id!;
        assert.equal(provenances[i]!.entity?.[0]?.what?.reference, `MessageHeader/${previousHeader}`);
      }
    }
    const leave = all[1]!.bundle.entry!.find((e) => e.resource?.resourceType === 'Encounter')!.resource as Encounter;
    assert.equal(leave.status, 'onleave');
    assert.equal(leave.extension?.[0]?.valuePeriod?.start, '2026-11-22T10:00:00+01:00');
    const discharged = all[3]!.bundle.entry!.find((e) => e.resource?.resourceType === 'Encounter')!.resource as Encounter;
    assert.equal(discharged.period?.end, '2026-11-25T11:00:00+01:00');
  });

  it('entered-in-error cancels the last notification; an acute ambulant stay uses the emergency codes', async () => {
    const res = await call('POST', '/fhir/Encounter', encounter(aarhusPatient, 'in-progress', 'EMER'));
    assert.equal(res.status, 201);
    const id = res.body.id as string;
    assert.equal((await update(id, encounter(aarhusPatient, 'entered-in-error', 'EMER'))).status, 200);
    const all = await notificationsOf(id);
    assert.deepEqual(all.map((n) => n.activity), ['admit-emergency', 'cancel-admit-emergency']);
    assert.deepEqual(await profileErrors(all[1]!.bundle), []);
  });

  it('a citizen of another municipality is notified to that municipality', async () => {
    const patient = await citizen('0101', 'Hansen');
    const res = await call('POST', '/fhir/Encounter', encounter(patient, 'in-progress'));
    assert.equal(res.status, 201);
    const all = await notificationsOf(res.body.id as string);
    assert.deepEqual(all.map((n) => [n.activity, n.receiver]), [['admit-inpatient', COPENHAGEN_UNIT]]);
  });

  it("the writer's mistakes are refused with a Danish 422 and nothing is stored", async () => {
    const before = await counts();
    const noProvider = encounter(aarhusPatient, 'in-progress');
    delete noProvider.serviceProvider;
    const refused = await call('POST', '/fhir/Encounter', noProvider);
    assert.equal(refused.status, 422);
    assert.match(JSON.stringify(refused.body), /serviceProvider/);
    assert.match((refused.body as unknown as OperationOutcome).issue[0]!.details!.text!, /afdeling/);
    const emergencyLeave = await call('POST', '/fhir/Encounter', encounter(aarhusPatient, 'onleave', 'EMER', { extension: [{ url: LEAVE_URL, valuePeriod: { start: '2026-11-22T10:00:00+01:00' } }] }));
    assert.equal(emergencyLeave.status, 422);
    assert.match(JSON.stringify(emergencyLeave.body), /Orlov/);
    assert.deepEqual(await counts(), before);
  });

  it('a transaction Bundle that fails rolls back both the Encounters and the message already written', async () => {
    const before = await counts();
    const res = await call('POST', '/fhir', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: encounter(aarhusPatient, 'in-progress'), request: { method: 'POST', url: 'Encounter' } },
        { resource: encounter(aarhusPatient, 'onleave', 'EMER'), request: { method: 'POST', url: 'Encounter' } },
      ],
    });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.deepEqual(await counts(), before, 'the first admission was notified in the transaction, and rolled back with it');
    const ok = await call('POST', '/fhir', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: encounter(aarhusPatient, 'in-progress'), request: { method: 'POST', url: 'Encounter' } }],
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(await counts(), { messages: before.messages + 1, outbox: before.outbox + 1, notifications: before.notifications + 1, encounters: before.encounters + 1 });
  });

  it('a citizen without a municipality code: the Encounter is stored, the notification waits as a dead letter, and is sent once the address is fixed', async () => {
    const patient = await citizen(undefined, 'Udenkommune');
    const before = await counts();
    const res = await app.inject({
      method: 'POST',
      url: '/fhir/Encounter',
      payload: JSON.stringify(encounter(patient, 'in-progress')),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', prefer: 'return=OperationOutcome' },
    });
    assert.equal(res.statusCode, 201, res.body);
    // The writer is told: the Encounter is stored, its notification waits for the operators.
    const warning = (JSON.parse(res.body) as OperationOutcome).issue.find((i) => i.severity === 'warning');
    assert.match(warning?.details?.text ?? '', /er gemt, men sygehusadvisen \(admit-inpatient\) kan ikke sendes til borgerens kommune: .*kommunekode.*dead-letters/);
    assert.deepEqual(await counts(), { ...before, notifications: before.notifications + 1, encounters: before.encounters + 1 }, 'no message can be addressed');
    const waiting = (await listUnroutableNotifications(tdb.db)).filter((u) => u.patient === `Patient/${patient}`);
    assert.equal(waiting.length, 1);
    assert.equal(waiting[0]!.activity, 'admit-inpatient');
    assert.match(waiting[0]!.reason, /kommunekode/);
    let out = '';
    assert.equal(await messagingCommand(['dead-letters'], tdb.db, { stdout: (s) => (out += s), stderr: (s) => (out += s) }), 0);
    assert.match(out, new RegExp(`${waiting[0]!.encounter.replace(/\//g, '\\/')}.*kommunekode`));

    await assert.rejects(resendWorkflowNotification(platform, waiting[0]!.id), /stadig ikke/);
    const current = (await call('GET', `/fhir/Patient/${patient}`)).body as unknown as Patient;
    current.address![0]!.extension = [{ url: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-municipalityCodes', valueCodeableConcept: { coding: [{ system: 'http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes', code: AARHUS }] } }];
    assert.equal((await call('PUT', `/fhir/Patient/${patient}`, current)).status, 200);
    let resent = '';
    const code = await messagingCommand(['resend', '--notification', String(waiting[0]!.id)], tdb.db, { stdout: (s) => (resent += s), stderr: (s) => (resent += s) }, { platform: () => Promise.resolve(platform) });
    assert.equal(code, 0, resent);
    assert.match(resent, new RegExp(`Organization/${AARHUS_UNIT}`));
    assert.equal((await listUnroutableNotifications(tdb.db)).filter((u) => u.patient === `Patient/${patient}`).length, 0);
    const sent = await notificationsOf(waiting[0]!.encounter.split('/')[1]!);
    assert.deepEqual(sent.map((n) => [n.activity, n.receiver]), [['admit-inpatient', AARHUS_UNIT]]);
    assert.deepEqual(await profileErrors(sent[0]!.bundle), []);
    await assert.rejects(resendWorkflowNotification(platform, waiting[0]!.id), /venter ikke/);
  });

  it("a real dispatcher delivers the notifications to the municipality's inbox in order, and the acknowledgements to the department", async () => {
    const expected = await tdb.db.query<{ bundle_id: string; header_id: string; receiver_org: string }>(
      `SELECT m.bundle_id, m.header_id, m.receiver_org FROM message m WHERE m.event_code = 'hospital-notification-message' ORDER BY m.seq`,
    );
    const pass = await dispatcher.drain();
    assert.equal(pass.delivered, expected.length * 2, 'each notification, then its acknowledgement');
    assert.equal(pass.dead + pass.failed, 0);
    const inbox = await tdb.db.query<{ organization_id: string; content: string }>(
      `SELECT i.organization_id, m.content FROM message_inbox i JOIN message m ON m.seq = i.message_seq ORDER BY i.id`,
    );
    for (const unit of [AARHUS_UNIT, COPENHAGEN_UNIT]) {
      const got = inbox.filter((r) => r.organization_id === unit).map((r) => (JSON.parse(r.content) as Bundle).id);
      assert.deepEqual(got, expected.filter((e) => e.receiver_org === unit).map((e) => e.bundle_id), unit);
    }
    const acks = inbox.filter((r) => r.organization_id === HOSPITAL).map((r) => (JSON.parse(r.content) as Bundle).entry![0]!.resource as MessageHeader);
    assert.deepEqual(acks.map((h) => h.response?.identifier).sort(), expected.map((e) => e.header_id).sort());
    assert.ok(acks.every((h) => h.response?.code === 'ok'));
  });

  it('seeding the synthetic population (past stays, trusted bulk writes) notifies no one', async () => {
    const before = await counts();
    await seedPopulation(new FhirRepository(platform), { seed: 7, citizens: 60 });
    const after = await counts();
    const stays = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource WHERE resource_type = 'Encounter' AND content LIKE '%"code":"IMP"%'`);
    assert.ok(Number(stays[0]!.n) > 0, 'the population has hospital stays');
    assert.ok(after.encounters > before.encounters);
    assert.deepEqual([after.messages, after.outbox, after.notifications], [before.messages, before.outbox, before.notifications]);
  });
});
