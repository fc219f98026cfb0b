import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Endpoint, MessageHeader, OperationOutcome, Organization, Provenance } from '@medplum/fhirtypes';
import type { DispatchResult, Party } from '../../src/platform/messaging/index.ts';
import { MEDCOM_EVENT_SYSTEM, MessageDispatcher, allowDeliveryHost, buildAcknowledgement, listDeadLetters, parseMessage, registerDeliveryUrl } from '../../src/platform/messaging/index.ts';
import { referenceData } from '../../src/platform/registers/index.ts';
import type { TestApp } from '../support.ts';
import { ConfigError } from '../../src/config/load.ts';
import { createTestApp, loadTestConfig, sharedValidator } from '../support.ts';
import type { Sender } from './messaging-support.ts';
import { PACKAGES, addressOf, copy, createSender, headerOf, inboxBundles, messagingCounts, putReferenceUnits, putResources, readdress, renew, HttpTestServer } from './messaging-support.ts';

/**
 * Acknowledgements from the receiving systems (MedCom Acknowledgement 2.0.3 and reliable
 * messaging). A hospital department sends HospitalNotifications to a municipal home nursing unit
 * whose own system takes its messages by HTTP: a real `node:http` server on 127.0.0.1. That
 * system acknowledges through $process-message as a backend client bound to the unit; the
 * acknowledgement is linked to the delivery and forwarded to the hospital, whose own system (the
 * same server, another path) takes it. Without an acknowledgement, the platform resends after the
 * (here short) time limit, at most twice, with a new Bundle.id, then makes a dead letter.
 */

const HOSPITAL = 'hosp-auh-cardiology';
const NURSING = 'hjemmesygepleje-0751';
const HOME_CARE = 'hjemmepleje-0751';
const ACK_TIMEOUT_MS = 400;
const ACK_ERROR_SYSTEM = 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-acknowledgement-error-codes';

/** The receiving systems of both units: one HTTP server, a path per unit; answers 200 to every POST. */
class Systems extends HttpTestServer {
  readonly received: { path: string; body: Bundle }[] = [];

  protected handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    this.received.push({ path: req.url ?? '', body: JSON.parse(body.toString('utf8')) as Bundle });
    res.writeHead(200).end();
  }

  url(unit: string): string {
    return `http://127.0.0.1:${this.port}/${unit}`;
  }

  /** @returns the copies of a message (by MessageHeader.id) the unit's system received */
  copies(unit: string, headerId: string): Bundle[] {
    return this.received.filter((r) => r.path === `/${unit}` && headerOf(r.body).id === headerId).map((r) => r.body);
  }

  /** @returns the acknowledgements of a message the unit's system received */
  acks(unit: string, headerId: string): Bundle[] {
    return this.received.filter((r) => r.path === `/${unit}` && headerOf(r.body).response?.identifier === headerId).map((r) => r.body);
  }
}

describe('acknowledgements from the receiving systems', () => {
  let t: TestApp;
  let hospital: Sender;
  let nursingSystem: Sender;
  let homeCareSystem: Sender;
  let orgs: Map<string, Organization>;
  let d: MessageDispatcher;
  const systems = new Systems();

  const party = (id: string): Party => ({ organization: orgs.get(id)! as Organization & { id: string }, endpoint: undefined });

  /** Sends a new HospitalNotification from the hospital to the home nursing unit; checks the answer. */
  const send = async (): Promise<Bundle> => {
    const b = JSON.parse(readFileSync(`${PACKAGES}/medcom.fhir.dk.hospitalnotification#3.0.2/package/Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json`, 'utf8')) as Bundle;
    const h = headerOf(b);
    readdress(b, h.sender!.reference!, addressOf(orgs.get(HOSPITAL)!));
    readdress(b, h.destination![0]!.receiver!.reference!, addressOf(orgs.get(NURSING)!));
    const msg = renew(b);
    const res = await hospital.post(msg);
    assert.equal(res.status, 200, res.text);
    const outcome = res.body as OperationOutcome;
    assert.equal(outcome.resourceType, 'OperationOutcome', 'not an acknowledgement: the receiving system acknowledges');
    assert.equal(outcome.issue?.[0]?.severity, 'information');
    assert.match(outcome.issue?.[0]?.details?.text ?? '', /sendes til modtagerens eget system, som selv kvitterer/);
    return msg;
  };

  /**
   * The acknowledgement the home nursing unit's system writes for a copy it received.
   * @param received - the copy
   * @param code - ok, transient-error or fatal-error (with an OperationOutcome)
   * @returns the acknowledgement message
   */
  const ackFor = (received: Bundle, code: 'ok' | 'transient-error' | 'fatal-error', from = NURSING): Bundle => {
    const parsed = parseMessage(received).message!;
    const ack = buildAcknowledgement(parsed, party(from), party(HOSPITAL), 'https://nursing-system.example/fhir', new Date());
    const header = ack.entry![0]!.resource as MessageHeader;
    header.response = { identifier: parsed.headerId, code };
    if (code !== 'ok') {
      const id = crypto.randomUUID();
      header.response.details = { reference: `OperationOutcome/${id}` };
      const errorCode = code === 'transient-error' ? 'MSG_Mailbox_Out_Of_Operation' : 'MSG_Receiver_Identifier_UNKNOWN';
      ack.entry!.push({
        fullUrl: `https://nursing-system.example/fhir/OperationOutcome/${id}`,
        resource: {
          resourceType: 'OperationOutcome',
          id,
          meta: { profile: ['http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-acknowledgement-operationoutcome'] },
          issue: [{ severity: 'error', code: 'value', details: { coding: [{ system: ACK_ERROR_SYSTEM, code: errorCode }], text: code === 'transient-error' ? 'postkassen er lukket for vedligeholdelse' : 'borgeren er ukendt i kommunen' } }],
        },
      });
    }
    return ack;
  };

  const outboxOf = async (msg: Bundle): Promise<{ status: string; ackCode: string | null; acknowledged: boolean; resends: number; awaiting: boolean; lastError: string | null }> => {
    const rows = await t.db.query<{ status: string; ack_code: string | null; acknowledged: boolean; resends: number; awaiting: boolean; last_error: string | null }>(
      `SELECT o.status, o.ack_code, o.acknowledged_at IS NOT NULL AS acknowledged, o.resends, o.resend_due IS NOT NULL AS awaiting, o.last_error
         FROM message_outbox o JOIN message m ON m.seq = o.message_seq WHERE m.bundle_id = $1 AND o.receiver_org = $2`,
      [msg.id, NURSING],
    );
    assert.equal(rows.length, 1);
    const r = rows[0]!;
    return { status: r.status, ackCode: r.ack_code, acknowledged: r.acknowledged, resends: Number(r.resends), awaiting: r.awaiting, lastError: r.last_error };
  };

  /**
   * Lets the time limit pass, sweeps and delivers. The test sweeps itself (the dispatcher's own
   * sweeps are off), so a slow machine cannot make a drain outlast the time limit and resend twice.
   */
  const afterTimeout = async (): Promise<DispatchResult> => {
    await sleep(ACK_TIMEOUT_MS + 100);
    const swept = await d.sweep();
    const pass = await d.drain();
    return { ...pass, resent: swept.resent, dead: pass.dead + swept.dead };
  };
  /** Sweeps and delivers at once (a transient-error acknowledgement makes its delivery due at once). */
  const cycle = async (): Promise<void> => {
    await d.sweep();
    await d.drain();
  };

  const withoutEnvelope = (b: Bundle): Bundle => {
    const c = copy(b);
    delete c.id;
    delete c.timestamp;
    return c;
  };

  before(async () => {
    t = await createTestApp();
    orgs = await putReferenceUnits(t, [HOSPITAL, NURSING, HOME_CARE]);
    hospital = await createSender(t);
    await hospital.bind(HOSPITAL);
    nursingSystem = await createSender(t);
    await nursingSystem.bind(NURSING);
    homeCareSystem = await createSender(t);
    await homeCareSystem.bind(HOME_CARE);
    await systems.start();
    await allowDeliveryHost(t.db, '127.0.0.1');
    await registerDeliveryUrl(t.db, NURSING, systems.url(NURSING));
    await registerDeliveryUrl(t.db, HOSPITAL, systems.url(HOSPITAL));
    d = new MessageDispatcher(t.db, { ackTimeoutMs: ACK_TIMEOUT_MS, sweepMs: Number.MAX_SAFE_INTEGER, backoffMs: 10 });
  });
  after(async () => {
    await systems.stop();
    await t.close();
  });

  it('forwards the receiving system\'s ok acknowledgement to the sender, once; the acknowledgement is never acknowledged', async () => {
    const msg = await send();
    const id = headerOf(msg).id!;
    await d.drain();
    assert.deepEqual(systems.copies(NURSING, id), [msg], 'delivered once, as sent');
    assert.deepEqual(await outboxOf(msg), { status: 'delivered', ackCode: null, acknowledged: false, resends: 0, awaiting: true, lastError: null });
    assert.equal(systems.acks(HOSPITAL, id).length, 0, 'the platform writes no acknowledgement on the receiving system\'s behalf');

    const ack = ackFor(msg, 'ok');
    assert.deepEqual((await sharedValidator()).validate(ack).filter((i) => i.severity === 'error' || i.severity === 'fatal'), [], 'a valid MedCom acknowledgement');
    const res = await nursingSystem.post(ack);
    assert.equal(res.status, 200, res.text);
    assert.equal((res.body as OperationOutcome).issue?.[0]?.code, 'informational', 'an acknowledgement is answered with an outcome, not acknowledged');
    await d.drain();
    assert.deepEqual(systems.acks(HOSPITAL, id), [ack], 'the sender gets the receiving system\'s acknowledgement, as it sent it');
    assert.deepEqual(await outboxOf(msg), { status: 'delivered', ackCode: 'ok', acknowledged: true, resends: 0, awaiting: false, lastError: null });

    // The same acknowledgement again, and again with a new Bundle.id: the same answer, forwarded once.
    const before = await messagingCounts(t);
    assert.equal((await nursingSystem.post(ack)).text, res.text);
    assert.equal((await nursingSystem.post({ ...copy(ack), id: crypto.randomUUID() })).text, res.text);
    assert.deepEqual(await messagingCounts(t), before, 'nothing stored for the duplicates');

    // Time passes: nothing is resent, and the forwarded acknowledgement is not awaited or acknowledged.
    await afterTimeout();
    assert.equal(systems.copies(NURSING, id).length, 1, 'not resent');
    assert.equal(systems.acks(HOSPITAL, id).length, 1, 'forwarded once');
    assert.equal(systems.acks(NURSING, headerOf(ack).id!).length, 0, 'nobody acknowledges the acknowledgement');
    const ackRows = await t.db.query<{ awaiting: boolean }>(
      `SELECT o.resend_due IS NOT NULL AS awaiting FROM message_outbox o JOIN message m ON m.seq = o.message_seq WHERE m.header_id = $1`,
      [headerOf(ack).id],
    );
    assert.deepEqual(ackRows.map((r) => r.awaiting), [false]);

    // The hospital's system trying to acknowledge the acknowledgement is refused, and nothing is stored.
    const ackOfAck = buildAcknowledgement(parseMessage(systems.acks(HOSPITAL, id)[0]!).message!, party(HOSPITAL), party(NURSING), 'https://hospital-system.example/fhir', new Date());
    const refused = await hospital.post(ackOfAck);
    assert.equal(refused.status, 422, refused.text);
    assert.match(refused.text, /er selv en kvittering, og en kvittering kvitteres aldrig/);
    assert.deepEqual(await messagingCounts(t), before);
  });

  it('refuses a second, different acknowledgement for a message already acknowledged', async () => {
    const msg = await send();
    await d.drain();
    assert.equal((await nursingSystem.post(ackFor(msg, 'ok'))).status, 200);
    const before = await messagingCounts(t);
    const second = await nursingSystem.post(ackFor(msg, 'fatal-error'));
    assert.equal(second.status, 409, second.text);
    assert.match(second.text, /er allerede kvitteret \(ok\); en anden kvittering for samme meddelelse afvises/);
    assert.deepEqual(await messagingCounts(t), before, 'nothing stored');
    assert.equal((await outboxOf(msg)).ackCode, 'ok');
  });

  it('resends a message without acknowledgement after the time limit, twice, with a new Bundle.id, then makes a dead letter', async () => {
    const msg = await send();
    const id = headerOf(msg).id!;
    await d.drain();
    for (let i = 0; i < 2; i++) {
      const pass = await afterTimeout();
      assert.deepEqual({ resent: pass.resent, delivered: pass.delivered, dead: pass.dead }, { resent: 1, delivered: 1, dead: 0 }, `resend ${i + 1}`);
    }
    const copies = systems.copies(NURSING, id);
    assert.equal(copies.length, 3, 'sent, then resent twice');
    assert.equal(copies[0]!.id, msg.id, 'first as sent');
    const envelopes = new Set(copies.map((c) => c.id));
    assert.equal(envelopes.size, 3, 'each resend has a new Bundle.id');
    for (const c of copies.slice(1)) {
      assert.notEqual(c.timestamp, msg.timestamp, 'and a new timestamp');
      assert.deepEqual(withoutEnvelope(c), withoutEnvelope(msg), 'the same MessageHeader.id and content');
    }
    assert.deepEqual(await outboxOf(msg), { status: 'delivered', ackCode: null, acknowledged: false, resends: 2, awaiting: true, lastError: null });

    // No acknowledgement after the second resend: a dead letter with the reason, and no third resend.
    // Here the dispatcher's pass runs the sweep itself, as in the server.
    await sleep(ACK_TIMEOUT_MS + 100);
    const last = await new MessageDispatcher(t.db, { ackTimeoutMs: ACK_TIMEOUT_MS, sweepMs: 0 }).runOnce();
    assert.deepEqual({ resent: last.resent, dead: last.dead, claimed: last.claimed }, { resent: 0, dead: 1, claimed: 0 });
    assert.equal(systems.copies(NURSING, id).length, 3, 'at most two resends');
    const row = await outboxOf(msg);
    assert.equal(row.status, 'dead');
    const dead = (await listDeadLetters(t.db)).find((x) => x.headerId === id);
    assert.match(dead?.lastError ?? '', /^ingen kvittering fra modtagerens system efter 2 genforsendelser \(kvitteringsfrist 400 ms\)$/);
    assert.equal(systems.acks(HOSPITAL, id).length, 0, 'the platform invents no acknowledgement');
  });

  it('stops resending when the acknowledgement arrives after the first resend', async () => {
    const msg = await send();
    const id = headerOf(msg).id!;
    await d.drain();
    await afterTimeout();
    const copies = systems.copies(NURSING, id);
    assert.equal(copies.length, 2, 'resent once');
    // The receiving system acknowledges the copy it got (its own Bundle.id; the MessageHeader.id is the same).
    const ack = ackFor(copies[1]!, 'ok');
    assert.equal((await nursingSystem.post(ack)).status, 200);
    await afterTimeout();
    await afterTimeout();
    assert.equal(systems.copies(NURSING, id).length, 2, 'no further resend');
    assert.deepEqual(systems.acks(HOSPITAL, id), [ack], 'the sender gets it once');
    assert.deepEqual(await outboxOf(msg), { status: 'delivered', ackCode: 'ok', acknowledged: true, resends: 1, awaiting: false, lastError: null });
  });

  it('resends at once on a transient-error acknowledgement; the sender gets only the final acknowledgement', async () => {
    const msg = await send();
    const id = headerOf(msg).id!;
    await d.drain();
    const transient = ackFor(msg, 'transient-error');
    const res = await nursingSystem.post(transient);
    assert.equal(res.status, 200, res.text);
    await cycle();
    const copies = systems.copies(NURSING, id);
    assert.equal(copies.length, 2, 'resent without waiting for the time limit');
    assert.notEqual(copies[1]!.id, msg.id, 'with a new Bundle.id');
    assert.equal(headerOf(copies[1]!).id, id);
    assert.equal(systems.acks(HOSPITAL, id).length, 0, 'the transient error is not forwarded while the platform resends');
    const ok = ackFor(copies[1]!, 'ok');
    assert.equal((await nursingSystem.post(ok)).status, 200);
    await d.drain();
    assert.deepEqual(systems.acks(HOSPITAL, id), [ok], 'only the final acknowledgement');
    assert.equal((await outboxOf(msg)).ackCode, 'ok');
  });

  it('after transient errors to the last resend, makes a dead letter and forwards the last transient-error acknowledgement', async () => {
    const msg = await send();
    const id = headerOf(msg).id!;
    await d.drain();
    const sent: Bundle[] = [];
    for (let i = 0; i < 3; i++) {
      const copies = systems.copies(NURSING, id);
      assert.equal(copies.length, i + 1);
      const transient = ackFor(copies[i]!, 'transient-error');
      sent.push(transient);
      assert.equal((await nursingSystem.post(transient)).status, 200);
      await cycle();
    }
    assert.equal(systems.copies(NURSING, id).length, 3, 'two resends, not more');
    assert.deepEqual(systems.acks(HOSPITAL, id), [sent[2]], 'the sender gets the last answer of the receiving system');
    const row = await outboxOf(msg);
    assert.equal(row.status, 'dead');
    assert.match(row.lastError ?? '', /transient-error også efter 2 genforsendelser/);
  });

  it('a fatal-error acknowledgement is final: forwarded to the sender, no resend, a dead letter for operators', async () => {
    const msg = await send();
    const id = headerOf(msg).id!;
    await d.drain();
    const fatal = ackFor(msg, 'fatal-error');
    assert.equal((await nursingSystem.post(fatal)).status, 200);
    await afterTimeout();
    assert.deepEqual(systems.acks(HOSPITAL, id), [fatal], 'the sender gets it');
    assert.equal(systems.copies(NURSING, id).length, 1, 'not resent');
    const dead = (await listDeadLetters(t.db)).find((x) => x.headerId === id);
    assert.equal(dead?.lastError, 'modtagerens system afviste meddelelsen (fatal-error): MSG_Receiver_Identifier_UNKNOWN: borgeren er ukendt i kommunen');
    const later = await nursingSystem.post(ackFor(msg, 'ok'));
    assert.equal(later.status, 409, 'never positive after negative');
  });

  it('refuses an acknowledgement of an unknown message with a clear reason, and stores nothing', async () => {
    const msg = await send();
    await d.drain();
    const unknown = ackFor(msg, 'ok');
    (unknown.entry![0]!.resource as MessageHeader).response!.identifier = crypto.randomUUID();
    const before = await messagingCounts(t);
    const res = await nursingSystem.post(unknown);
    assert.equal(res.status, 422, res.text);
    assert.match((res.body as OperationOutcome).issue?.[0]?.details?.text ?? '', /^Kvitteringen gælder en ukendt meddelelse: .* har ikke fået en meddelelse med MessageHeader.id [0-9a-f-]{36} fra modtageren af kvitteringen gennem platformen$/);
    assert.deepEqual((res.body as OperationOutcome).issue?.[0]?.expression, ['Bundle.entry[0].resource.response.identifier']);
    assert.deepEqual(await messagingCounts(t), before, 'nothing stored or queued');
    await d.drain();
    assert.equal(systems.acks(HOSPITAL, headerOf(unknown).response!.identifier).length, 0);
    // A system may acknowledge only what was delivered to its own unit: the hospital cannot acknowledge for the nursing unit.
    const forOther = await hospital.post(ackFor(msg, 'ok'));
    assert.equal(forOther.status, 403, forOther.text);
    assert.deepEqual(await messagingCounts(t), before);
  });

  it('a receiver reading its platform inbox is acknowledged by the platform; its own acknowledgement is refused', async () => {
    const b = JSON.parse(readFileSync(`${PACKAGES}/medcom.fhir.dk.hospitalnotification#3.0.2/package/Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json`, 'utf8')) as Bundle;
    const h = headerOf(b);
    readdress(b, h.sender!.reference!, addressOf(orgs.get(HOSPITAL)!));
    readdress(b, h.destination![0]!.receiver!.reference!, addressOf(orgs.get(HOME_CARE)!));
    const msg = renew(b);
    const res = await hospital.post(msg);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(headerOf(res.body as Bundle).response, { identifier: headerOf(msg).id, code: 'ok' }, 'the platform acknowledges as the receiving system');
    await d.drain();
    assert.equal((await inboxBundles(t, HOME_CARE)).filter((x) => x.id === msg.id).length, 1);
    const before = await messagingCounts(t);
    const own = await homeCareSystem.post(ackFor(msg, 'ok', HOME_CARE));
    assert.equal(own.status, 409, own.text);
    assert.match(own.text, /Platformen har allerede kvitteret/);
    assert.deepEqual(await messagingCounts(t), before, 'nothing stored');
    await afterTimeout();
    assert.equal(systems.acks(HOSPITAL, headerOf(msg).id!).length, 1, 'the sender has the platform\'s acknowledgement only');
  });

  it('a copy (cc) receiver with its own system acknowledges its own delivery, and only it is resent', async () => {
    // The empty message is the routed type that allows cc: let both units' Endpoints take it.
    const ref = referenceData();
    const endpoints = ref.endpoints.filter((e) => [NURSING, HOME_CARE].some((o) => e.managingOrganization?.reference === `Organization/${o}`));
    assert.equal(endpoints.length, 2);
    await putResources(t, endpoints.map((e): Endpoint => ({ ...e, payloadType: [...(e.payloadType ?? []), { coding: [{ system: MEDCOM_EVENT_SYSTEM, code: 'empty-message' }] }] })));
    await registerDeliveryUrl(t.db, HOME_CARE, systems.url(HOME_CARE));

    const b = JSON.parse(readFileSync(`${PACKAGES}/medcom.fhir.dk.messaging#4.0.1/package/Bundle-eb26be85-fdb7-454d-a980-95cba6d1745b.json`, 'utf8')) as Bundle;
    const h = headerOf(b);
    // The example's Provenance targets another MessageHeader (medcom-examples.test.ts): point it at its own.
    (b.entry!.find((e) => e.resource?.resourceType === 'Provenance')!.resource as Provenance).target = [{ reference: `MessageHeader/${h.id!}` }];
    const primaryRef = h.destination![0]!.receiver!.reference!;
    const primaryEntry = b.entry!.find((e) => e.fullUrl?.endsWith(`/${primaryRef}`) === true)!;
    b.entry!.push({ fullUrl: primaryEntry.fullUrl!.replace(primaryRef, 'Organization/cc-home-care'), resource: { ...copy(primaryEntry.resource as Organization), id: 'cc-home-care' } });
    h.destination!.push({ ...copy(h.destination![0]!), receiver: { reference: 'Organization/cc-home-care' } });
    h.destination![1]!.extension![0]!.valueCoding!.code = 'cc';
    readdress(b, h.sender!.reference!, addressOf(orgs.get(HOSPITAL)!));
    readdress(b, primaryRef, addressOf(orgs.get(NURSING)!));
    readdress(b, 'Organization/cc-home-care', addressOf(orgs.get(HOME_CARE)!));
    const msg = renew(b);
    const id = headerOf(msg).id!;
    const res = await hospital.post(msg);
    assert.equal(res.status, 200, res.text);
    assert.equal((res.body as OperationOutcome).resourceType, 'OperationOutcome', 'the receiving systems acknowledge');

    await d.drain();
    assert.equal(systems.copies(NURSING, id).length, 1);
    assert.equal(systems.copies(HOME_CARE, id).length, 1, 'the copy receiver gets it too');
    const fromNursing = ackFor(msg, 'ok');
    assert.equal((await nursingSystem.post(fromNursing)).status, 200);
    await afterTimeout();
    assert.equal(systems.copies(NURSING, id).length, 1, 'the primary receiver acknowledged: not resent');
    const copies = systems.copies(HOME_CARE, id);
    assert.equal(copies.length, 2, 'the copy receiver did not: resent to it alone');
    const fromHomeCare = ackFor(copies[1]!, 'ok', HOME_CARE);
    assert.equal((await homeCareSystem.post(fromHomeCare)).status, 200, 'its acknowledgement is linked to its own delivery');
    await afterTimeout();
    assert.equal(systems.copies(HOME_CARE, id).length, 2, 'no further resend');
    assert.deepEqual(systems.acks(HOSPITAL, id), [fromNursing, fromHomeCare], 'the sender gets each receiving system\'s acknowledgement once');
  });

  it('takes the time limit from DSD_MESSAGING_ACK_TIMEOUT_MS (MedCom\'s 30 minutes by default)', () => {
    assert.equal(loadTestConfig().messagingAckTimeoutMs, 30 * 60_000);
    assert.equal(loadTestConfig({ DSD_MESSAGING_ACK_TIMEOUT_MS: '120000' }).messagingAckTimeoutMs, 120_000);
    for (const bad of ['0', '-5', 'tredive', '1.5']) {
      assert.throws(() => loadTestConfig({ DSD_MESSAGING_ACK_TIMEOUT_MS: bad }), (err: unknown) => err instanceof ConfigError && /DSD_MESSAGING_ACK_TIMEOUT_MS/.test(err.message), bad);
    }
  });
});
