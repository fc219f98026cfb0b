import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Bundle, OperationOutcome, Organization } from '@medplum/fhirtypes';
import { GLN_HTTPS_MISSPELLING, IdentifierSystem } from '../../src/platform/identifiers/systems.ts';
import { MessageDispatcher, allowDeliveryHost, registerDeliveryUrl } from '../../src/platform/messaging/index.ts';
import type { TestApp } from '../support.ts';
import { createTestApp } from '../support.ts';
import type { Example, Sender } from './messaging-support.ts';
import { ALL_EVENTS, HttpTestServer, bundledOrganization, copy, createSender, headerOf, inboxBundles, makeUnit, medcomExamples, messagingCounts, putResources, renew } from './messaging-support.ts';

/**
 * The three example acknowledgements of MedCom Acknowledgement 2.0.3 (ok, transient-error,
 * fatal-error), each sent as published, as the answer of a receiving system to the message it
 * acknowledges. They answer messages from SOR 265161000016000 to SOR 953741000016009: the ok
 * example the CareCommunication example Bundle add5e7e2 (MessageHeader 42cb9200), and the two
 * error examples a message with MessageHeader 53128d9b, which no package has. So that message is
 * sent first as a copy of another CareCommunication example between the same units, with that
 * MessageHeader.id. The receiving unit has its own system (a real HTTP server), so it, not the
 * platform, acknowledges.
 */

const OK_ACK = 'Bundle-a8c041b8-c65a-4fde-a90f-962076918834.json';
const TRANSIENT_ACK = 'Bundle-c9c2b2f6-0807-11ed-861d-0242ac120002.json';
const FATAL_ACK = 'Bundle-bc9535ef-ed94-4060-a928-7baddec7ee71.json';
const ACKNOWLEDGED_CC = 'Bundle-add5e7e2-0c0f-4a4a-bfff-f6f984fa7e3c.json';
const OTHER_CC = 'Bundle-0d5b3c18-fab6-4d93-9d88-c9c8abf1f18c.json';
const ERROR_ACKNOWLEDGED_HEADER = '53128d9b-cede-4c7f-8904-809eab322d7d';

/** The receiving unit's system: takes every POST with 200 and keeps what it got. */
class ReceivingSystem extends HttpTestServer {
  readonly received: Bundle[] = [];

  protected handle(_req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    this.received.push(JSON.parse(body.toString('utf8')) as Bundle);
    res.writeHead(200).end();
  }

  copies(headerId: string): Bundle[] {
    return this.received.filter((b) => headerOf(b).id === headerId);
  }
}

function sorOf(o: Organization): string {
  return o.identifier!.find((i) => i.system === IdentifierSystem.sor)!.value!;
}

function glnOf(o: Organization): string {
  return o.identifier!.find((i) => i.system === GLN_HTTPS_MISSPELLING || i.system === IdentifierSystem.gln)!.value!;
}

describe('the MedCom acknowledgement examples, as answers to the messages they acknowledge', () => {
  let t: TestApp;
  let writer: Sender;
  let receiverSystem: Sender;
  let d: MessageDispatcher;
  const system = new ReceivingSystem();
  const examples = medcomExamples();
  const example = (file: string): Example => {
    const found = examples.find((e) => e.file === file);
    assert.ok(found, file);
    return found;
  };
  const acknowledged = example(ACKNOWLEDGED_CC).bundle;
  const writerUnit = `ex-${sorOf(bundledOrganization(acknowledged, headerOf(acknowledged).sender!.reference!))}`;
  const receiverUnit = `ex-${sorOf(bundledOrganization(acknowledged, headerOf(acknowledged).destination![0]!.receiver!.reference!))}`;

  before(async () => {
    t = await createTestApp();
    const h = headerOf(acknowledged);
    const units = [h.sender!.reference!, h.destination![0]!.receiver!.reference!].map((ref) => bundledOrganization(acknowledged, ref));
    await putResources(t, units.flatMap((o) => makeUnit(`ex-${sorOf(o)}`, sorOf(o), glnOf(o), o.name ?? sorOf(o), ALL_EVENTS)));
    writer = await createSender(t);
    await writer.bind(writerUnit);
    receiverSystem = await createSender(t);
    await receiverSystem.bind(receiverUnit);
    await system.start();
    await allowDeliveryHost(t.db, '127.0.0.1');
    await registerDeliveryUrl(t.db, receiverUnit, `http://127.0.0.1:${system.port}/`);
    d = new MessageDispatcher(t.db, { sweepMs: Number.MAX_SAFE_INTEGER, backoffMs: 10 });
  });
  after(async () => {
    await system.stop();
    await t.close();
  });

  it('names the units and messages this test assumes', () => {
    for (const file of [OK_ACK, TRANSIENT_ACK, FATAL_ACK]) {
      const ack = example(file).bundle;
      const h = headerOf(ack);
      assert.equal(h.eventCoding?.code, 'acknowledgement-message', file);
      assert.equal(`ex-${sorOf(bundledOrganization(ack, h.sender!.reference!))}`, receiverUnit, `${file}: from the receiving unit`);
      assert.equal(`ex-${sorOf(bundledOrganization(ack, h.destination![0]!.receiver!.reference!))}`, writerUnit, `${file}: to the writing unit`);
    }
    assert.equal(headerOf(example(OK_ACK).bundle).response?.identifier, headerOf(acknowledged).id);
    assert.equal(headerOf(example(TRANSIENT_ACK).bundle).response?.identifier, ERROR_ACKNOWLEDGED_HEADER);
    assert.equal(headerOf(example(FATAL_ACK).bundle).response?.identifier, ERROR_ACKNOWLEDGED_HEADER);
    assert.ok(!examples.some((e) => headerOf(e.bundle).id === ERROR_ACKNOWLEDGED_HEADER), 'no package has the message the error examples acknowledge');
  });

  it('accepts each acknowledgement example as published and routes it: ok and fatal-error to the writer, transient-error to a resend', async () => {
    // The two messages the examples acknowledge, delivered to the receiving unit's system.
    const first = await writer.post(acknowledged);
    assert.equal(first.status, 200, first.text);
    assert.match((first.body as OperationOutcome).issue?.[0]?.details?.text ?? '', /sendes til modtagerens eget system, som selv kvitterer/);
    const second = renew(example(OTHER_CC).bundle);
    headerOf(second).id = ERROR_ACKNOWLEDGED_HEADER;
    second.entry![0]!.fullUrl = second.entry![0]!.fullUrl!.replace(/[^/]+$/, ERROR_ACKNOWLEDGED_HEADER);
    for (const e of second.entry!) {
      if (e.resource?.resourceType === 'Provenance') {
        e.resource.target = [{ reference: `MessageHeader/${ERROR_ACKNOWLEDGED_HEADER}` }];
      }
    }
    const sent = await writer.post(second);
    assert.equal(sent.status, 200, sent.text);
    await d.drain();
    assert.deepEqual(system.copies(headerOf(acknowledged).id!), [acknowledged], 'delivered once, as sent');
    assert.deepEqual(system.copies(ERROR_ACKNOWLEDGED_HEADER), [second]);

    const answers = new Map<string, string>();
    const answer = async (file: string): Promise<Bundle> => {
      const ack = example(file).bundle;
      const res = await receiverSystem.post(ack);
      answers.set(ack.id!, res.text);
      assert.equal(res.status, 200, `${file}: ${res.text.slice(0, 500)}`);
      assert.equal((res.body as OperationOutcome).issue?.[0]?.code, 'informational', `${file}: an acknowledgement is answered with an outcome, never acknowledged`);
      return ack;
    };
    const ackedByWriter = async (headerId: string): Promise<Bundle[]> => (await inboxBundles(t, writerUnit)).filter((b) => headerOf(b).response?.identifier === headerId);

    // ok: forwarded to the writer as the receiving system sent it.
    const ok = await answer(OK_ACK);
    await d.drain();
    assert.deepEqual(await ackedByWriter(headerOf(acknowledged).id!), [ok]);

    // transient-error: the platform resends (new Bundle.id, same MessageHeader.id) and holds the answer back.
    const transient = await answer(TRANSIENT_ACK);
    await d.sweep();
    await d.drain();
    const copies = system.copies(ERROR_ACKNOWLEDGED_HEADER);
    assert.equal(copies.length, 2, 'resent at once');
    assert.notEqual(copies[1]!.id, second.id);
    assert.deepEqual(await ackedByWriter(ERROR_ACKNOWLEDGED_HEADER), [], 'not forwarded while the platform resends');

    // fatal-error: final; forwarded, and the delivery is a dead letter for the operators.
    const fatal = await answer(FATAL_ACK);
    await d.drain();
    assert.deepEqual(await ackedByWriter(ERROR_ACKNOWLEDGED_HEADER), [fatal]);
    assert.ok(!JSON.stringify(await ackedByWriter(ERROR_ACKNOWLEDGED_HEADER)).includes(transient.id!), 'the transient answer never reaches the writer');
    const rows = await t.db.query<{ status: string; ack_code: string | null }>(
      'SELECT o.status, o.ack_code FROM message_outbox o JOIN message m ON m.seq = o.message_seq WHERE m.header_id = $1 AND o.receiver_org = $2',
      [ERROR_ACKNOWLEDGED_HEADER, receiverUnit],
    );
    assert.deepEqual(rows.map((r) => [r.status, r.ack_code]), [['dead', 'fatal-error']]);

    // Nobody acknowledges the acknowledgements, and each sent again changes nothing.
    for (const ack of [ok, transient, fatal]) {
      assert.equal(system.received.filter((b) => headerOf(b).response?.identifier === headerOf(ack).id).length, 0);
    }
    const counts = await messagingCounts(t);
    for (const ack of [ok, transient, fatal]) {
      assert.equal((await receiverSystem.post(copy(ack))).text, answers.get(ack.id!), 'a duplicate gets the same answer');
    }
    assert.deepEqual(await messagingCounts(t), counts, 'nothing stored for the duplicates');
  });
});
