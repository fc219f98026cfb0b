import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Bundle, OperationOutcome, Organization, Provenance } from '@medplum/fhirtypes';
import { IdentifierSystem } from '../../src/platform/identifiers/systems.ts';
import { MessageDispatcher } from '../../src/platform/messaging/index.ts';
import { referenceData } from '../../src/platform/registers/index.ts';
import { professionalToken } from '../auth-support.ts';
import type { TestApp, TestResponse } from '../support.ts';
import { createTestApp, sharedValidator } from '../support.ts';
import type { Sender } from './messaging-support.ts';
import { PACKAGES, ackErrorCodes, addressOf, copy, createSender, headerOf, inboxBundles, messagingCounts, putReferenceUnits, putResources, readdress, renew } from './messaging-support.ts';

/**
 * POST /fhir/$process-message on the reference data: a hospital department sends a
 * HospitalNotification to a municipal home nursing unit. Accepted messages are stored with their
 * outbox rows and answered with an `ok` acknowledgement; tampered copies are refused with a
 * fatal-error OperationOutcome and leave no row behind; duplicates get the first answer.
 */

const HOSPITAL = 'hosp-auh-cardiology';
const OTHER_HOSPITAL = 'hosp-rh-cardiology';
const HOME_NURSING = 'hjemmesygepleje-0751';
const PHARMACY = 'apotek-0751-1';

/** The MedCom admission example (STIN), readdressed from a platform hospital department to a platform home nursing unit. */
function admission(orgs: Map<string, Organization>, from = HOSPITAL, to = HOME_NURSING): Bundle {
  const b = JSON.parse(readFileSync(`${PACKAGES}/medcom.fhir.dk.hospitalnotification#3.0.2/package/Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json`, 'utf8')) as Bundle;
  const h = headerOf(b);
  readdress(b, h.sender!.reference!, addressOf(orgs.get(from)!));
  readdress(b, h.destination![0]!.receiver!.reference!, addressOf(orgs.get(to)!));
  return renew(b);
}

describe('$process-message', () => {
  let t: TestApp;
  let sender: Sender;
  let orgs: Map<string, Organization>;
  let dispatcher: MessageDispatcher;

  before(async () => {
    t = await createTestApp();
    orgs = await putReferenceUnits(t, [HOSPITAL, OTHER_HOSPITAL, HOME_NURSING, PHARMACY]);
    sender = await createSender(t);
    await sender.bind(HOSPITAL);
    dispatcher = new MessageDispatcher(t.db, { leaseMs: 5_000 });
  });
  after(async () => {
    await t.close();
  });

  it('accepts a HospitalNotification, answers ok, delivers it once and acknowledges it to the sender', async () => {
    const msg = admission(orgs);
    const before = await messagingCounts(t);
    const res = await sender.post(msg);
    assert.equal(res.status, 200, res.text);
    const ack = res.body as Bundle;
    const ackHeader = headerOf(ack);
    assert.equal(ackHeader.eventCoding?.code, 'acknowledgement-message');
    assert.deepEqual(ackHeader.response, { identifier: headerOf(msg).id, code: 'ok' });
    assert.equal(ackHeader.sender?.reference, `Organization/${HOME_NURSING}`);
    assert.equal(ackHeader.destination?.[0]?.receiver?.reference, `Organization/${HOSPITAL}`);
    // The acknowledgement the platform writes conforms to MedCom's Acknowledgement profile.
    const issues = (await sharedValidator()).validate(ack).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    assert.deepEqual(issues, []);
    const prov = ack.entry!.find((e) => e.resource?.resourceType === 'Provenance')!.resource as Provenance;
    assert.equal(prov.entity?.[0]?.what?.reference, `MessageHeader/${headerOf(msg).id!}`);

    const stored = await messagingCounts(t);
    assert.deepEqual(stored, { ...before, messages: before.messages + 1, outbox: before.outbox + 1 }, 'message and its outbox row, no FHIR resources');
    assert.equal((await inboxBundles(t, HOME_NURSING)).length, 0, 'nothing is delivered before a dispatcher runs');

    const pass = await dispatcher.drain();
    assert.equal(pass.delivered, 2, 'the message, then its acknowledgement');
    const inbox = await inboxBundles(t, HOME_NURSING);
    assert.deepEqual(inbox.map((b) => b.id), [msg.id]);
    assert.deepEqual(inbox[0], msg, 'delivered exactly as sent');
    const acks = await inboxBundles(t, HOSPITAL);
    assert.deepEqual(acks, [ack], 'the sender gets the same acknowledgement it was answered with');
    // An acknowledgement is never acknowledged: nothing more is queued.
    assert.equal((await dispatcher.drain()).claimed, 0);
    const after = await messagingCounts(t);
    assert.deepEqual(after, { ...before, messages: before.messages + 2, outbox: before.outbox + 2, inbox: before.inbox + 2 });
  });

  it('answers a duplicate with the same acknowledgement and never delivers it twice', async () => {
    const msg = admission(orgs);
    const first = await sender.post(msg);
    assert.equal(first.status, 200, first.text);
    await dispatcher.drain();
    const counts = await messagingCounts(t);
    const again = await sender.post(copy(msg));
    assert.equal(again.status, 200);
    assert.equal(again.text, first.text, 'byte for byte the first answer');
    // A resend with a new envelope (new Bundle.id, same MessageHeader.id) is the same message.
    const resent = copy(msg);
    resent.id = crypto.randomUUID();
    const third = await sender.post(resent);
    assert.equal(third.status, 200);
    assert.equal(third.text, first.text);
    await dispatcher.drain();
    assert.deepEqual(await messagingCounts(t), counts, 'nothing stored, queued or delivered');
    assert.equal((await inboxBundles(t, HOME_NURSING)).filter((b) => headerOf(b).id === headerOf(msg).id).length, 1);
  });

  it('refuses a Bundle.id used before for another message (409) and stores nothing', async () => {
    const msg = admission(orgs);
    assert.equal((await sender.post(msg)).status, 200);
    const reuse = renew(msg);
    reuse.id = msg.id;
    const before = await messagingCounts(t);
    const res = await sender.post(reuse);
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.deepEqual(await messagingCounts(t), before);
  });

  describe('tampered copies get a fatal error and leave nothing behind', () => {
    const cases: { name: string; status: number; code?: string; text?: RegExp; tamper: (b: Bundle) => void }[] = [
      {
        name: 'unknown receiver (SOR code not in the register)',
        status: 422,
        code: 'MSG_Receiver_Identifier_UNKNOWN',
        tamper: (b) => readdress(b, headerOf(b).destination![0]!.receiver!.reference!, { sor: '999999999999999', gln: '5790000000005' }),
      },
      {
        name: 'receiver whose SOR code and GLN name different units',
        status: 422,
        code: 'MSG_Receiver_Identifier_UNKNOWN',
        tamper: (b) => readdress(b, headerOf(b).destination![0]!.receiver!.reference!, { sor: addressOf(orgs.get(HOME_NURSING)!).sor, gln: addressOf(orgs.get(HOSPITAL)!).gln }),
      },
      {
        name: 'receiver that does not accept HospitalNotification (a hospital department)',
        status: 422,
        code: 'MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE',
        tamper: (b) => readdress(b, headerOf(b).destination![0]!.receiver!.reference!, addressOf(orgs.get(OTHER_HOSPITAL)!)),
      },
      {
        name: 'receiver without any Endpoint (a pharmacy)',
        status: 422,
        code: 'MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE',
        tamper: (b) => readdress(b, headerOf(b).destination![0]!.receiver!.reference!, addressOf(orgs.get(PHARMACY)!)),
      },
      {
        name: 'sender the client may not send for',
        status: 403,
        text: /kan ikke sende som/,
        tamper: (b) => readdress(b, headerOf(b).sender!.reference!, addressOf(orgs.get(OTHER_HOSPITAL)!)),
      },
      {
        name: 'sender not in the register',
        status: 422,
        text: /Afsenderen/,
        tamper: (b) => readdress(b, headerOf(b).sender!.reference!, { sor: '888888888888888', gln: '5790000000012' }),
      },
      {
        name: 'missing Provenance',
        status: 400,
        text: /Provenance/,
        tamper: (b) => {
          b.entry = b.entry!.filter((e) => e.resource?.resourceType !== 'Provenance');
        },
      },
      {
        name: 'Provenance not about this MessageHeader',
        status: 400,
        text: /Provenance/,
        tamper: (b) => {
          for (const e of b.entry!) {
            if (e.resource?.resourceType === 'Provenance') {
              e.resource.target = [{ reference: 'MessageHeader/00000000-0000-4000-8000-000000000000' }];
            }
          }
        },
      },
      {
        name: 'MessageHeader not first',
        status: 400,
        text: /Første entry/,
        tamper: (b) => {
          b.entry!.push(b.entry!.shift()!);
        },
      },
      {
        name: 'focus not in the message',
        status: 400,
        text: /focus/,
        tamper: (b) => {
          b.entry = b.entry!.filter((e) => e.resource?.resourceType !== 'Encounter');
        },
      },
      {
        name: 'wrong profile (a HospitalNotification claiming the CareCommunication profile)',
        status: 422,
        text: /medcom-hospitalNotification-message/,
        tamper: (b) => {
          b.meta = { profile: ['http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-message'] };
        },
      },
      {
        name: 'no profile at all',
        status: 422,
        text: /Bundle\.meta\.profile/,
        tamper: (b) => {
          delete b.meta;
        },
      },
      {
        name: 'profile violation (Encounter.status outside the HospitalNotification value set)',
        status: 422,
        text: /entry\[2\]\.resource\.status|Encounter\.status/,
        tamper: (b) => {
          const enc = b.entry!.find((e) => e.resource?.resourceType === 'Encounter')!.resource as { status: string };
          enc.status = 'planned';
        },
      },
      {
        name: 'unknown message type',
        status: 400,
        code: 'MSG_VALUESET_VALUE_UNKNOWN',
        tamper: (b) => {
          (headerOf(b)).eventCoding = { system: 'http://example.org/events', code: 'hospital-notification-message' };
        },
      },
      {
        name: 'not a message Bundle',
        status: 400,
        text: /message/,
        tamper: (b) => {
          b.type = 'collection';
        },
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const good = admission(orgs);
        const bad = copy(good);
        c.tamper(bad);
        await dispatcher.drain();
        const before = await messagingCounts(t);
        const res = await sender.post(bad);
        assert.equal(res.status, c.status, res.text);
        const outcome = res.body as OperationOutcome;
        assert.equal(outcome.resourceType, 'OperationOutcome');
        assert.ok((outcome.issue ?? []).length > 0 && (outcome.issue ?? []).every((i) => i.severity === 'error' || i.severity === 'fatal'));
        if (c.code !== undefined) {
          assert.ok(ackErrorCodes(outcome).includes(c.code), `expected ${c.code} in ${res.text}`);
        }
        if (c.text !== undefined) {
          assert.match(res.text, c.text);
        }
        assert.deepEqual(await messagingCounts(t), before, 'nothing stored or queued');
        assert.equal((await dispatcher.drain()).claimed, 0, 'nothing to deliver');
        // The untampered message is accepted: the refusal was for the tampering.
        assert.equal((await sender.post(good)).status, 200);
      });
    }
  });

  it('serves an inbox to the organisation\'s own systems only, each message once, in delivery order, with paging', async () => {
    const a = admission(orgs);
    const b = admission(orgs);
    assert.equal((await sender.post(a)).status, 200);
    assert.equal((await sender.post(b)).status, 200);
    assert.equal((await sender.post(copy(a))).status, 200, 'a duplicate');
    await dispatcher.drain();
    const nursing = await createSender(t);
    await nursing.bind(HOME_NURSING);
    const get = (url: string, token: string): Promise<TestResponse> => t.request('GET', url, undefined, { authorization: `Bearer ${token}` });
    const all = await get(`/fhir/Organization/${HOME_NURSING}/$inbox?_count=500`, nursing.token);
    assert.equal(all.status, 200, all.text);
    const ids = (all.body as Bundle).entry!.map((e) => e.resource!.id);
    assert.deepEqual(ids.slice(-2), [a.id, b.id]);
    assert.equal(new Set(ids).size, ids.length, 'no message twice');
    assert.deepEqual((all.body as Bundle).entry!.find((e) => e.resource!.id === a.id)!.resource, a, 'as sent');
    // Paging: one entry per page, following next links, gives the same list.
    const paged: string[] = [];
    let url: string | undefined = `/fhir/Organization/${HOME_NURSING}/$inbox?_count=1`;
    while (url !== undefined) {
      const page = await get(url, nursing.token);
      assert.equal(page.status, 200, page.text);
      const bundle = page.body as Bundle;
      assert.ok((bundle.entry ?? []).length <= 1);
      paged.push(...(bundle.entry ?? []).map((e) => e.resource!.id!));
      const next = bundle.link?.find((l) => l.relation === 'next')?.url;
      url = next === undefined ? undefined : next.replace('http://localhost', '');
    }
    assert.deepEqual(paged, ids);
    // The sender's client does not read the receiver's inbox, and no client reads one it is not bound to.
    assert.equal((await get(`/fhir/Organization/${HOME_NURSING}/$inbox`, sender.token)).status, 403);
    const acks = await get(`/fhir/Organization/${HOSPITAL}/$inbox?_count=500`, sender.token);
    assert.equal(acks.status, 200);
    assert.ok((acks.body as Bundle).entry!.some((e) => headerOf(e.resource as Bundle).response?.identifier === headerOf(a).id), 'the sender reads its acknowledgements');
    assert.equal((await get(`/fhir/Organization/${HOSPITAL}/$inbox`, nursing.token)).status, 403);
  });

  it('lets a health professional send only as the unit they logged in at, and read only its inbox', async () => {
    const ref = referenceData();
    const practitioner = ref.practitioners.find((p) => p.id === 'prac-demo-hospital-doctor')!;
    const role = ref.roles.find((r) => r.practitioner?.reference === `Practitioner/${practitioner.id!}`)!;
    assert.equal(role.organization?.reference, `Organization/${HOSPITAL}`);
    await putResources(t, [practitioner, role]);
    const authorisationId = practitioner.identifier!.find((i) => i.system === IdentifierSystem.authorization)!.value!;
    const token = await professionalToken(t, authorisationId, { roleId: role.id!, scope: 'openid fhirUser user/Bundle.cr' });
    const post = (b: Bundle): Promise<TestResponse> => t.request('POST', '/fhir/$process-message', b, { authorization: `Bearer ${token}` });
    const own = await post(admission(orgs));
    assert.equal(own.status, 200, own.text);
    assert.equal(headerOf(own.body as Bundle).response?.code, 'ok');
    const before = await messagingCounts(t);
    const foreign = await post(admission(orgs, OTHER_HOSPITAL));
    assert.equal(foreign.status, 403, foreign.text);
    assert.deepEqual(await messagingCounts(t), before);
    assert.equal((await t.request('GET', `/fhir/Organization/${HOSPITAL}/$inbox`, undefined, { authorization: `Bearer ${token}` })).status, 200);
    assert.equal((await t.request('GET', `/fhir/Organization/${HOME_NURSING}/$inbox`, undefined, { authorization: `Bearer ${token}` })).status, 403);
  });

  it('refuses callers without a valid token (401) and stores nothing', async () => {
    const before = await messagingCounts(t);
    const res = await t.request('POST', '/fhir/$process-message', admission(orgs), { authorization: 'Bearer not-a-token' });
    assert.equal(res.status, 401);
    assert.deepEqual(await messagingCounts(t), before);
  });

  it('lets a client send only for the organisations it is registered for', async () => {
    const other = await createSender(t);
    const res = await other.post(admission(orgs));
    assert.equal(res.status, 403, res.text);
    await other.bind(OTHER_HOSPITAL);
    assert.equal((await other.post(admission(orgs))).status, 403, 'bound to another unit than the sender');
    assert.equal((await other.post(admission(orgs, OTHER_HOSPITAL))).status, 200);
  });
});
