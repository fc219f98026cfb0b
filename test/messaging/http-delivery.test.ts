import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Organization } from '@medplum/fhirtypes';
import { OperationOutcomeError } from '../../src/platform/fhir/outcome.ts';
import {
  MessageDispatcher,
  allowDeliveryHost,
  disallowDeliveryHost,
  listDeadLetters,
  registerDeliveryUrl,
  retryDeadLetter,
  unregisterDeliveryUrl,
} from '../../src/platform/messaging/index.ts';
import type { TestApp } from '../support.ts';
import { createTestApp } from '../support.ts';
import type { Sender } from './messaging-support.ts';
import { PACKAGES, addressOf, createSender, headerOf, inboxBundles, putReferenceUnits, readdress, renew, HttpTestServer } from './messaging-support.ts';

/**
 * Delivery by HTTP to a receiving organisation's own system, against a real HTTP server on
 * loopback: the allow-list of hosts, retries with backoff while the receiver is down or answers
 * 5xx or too slowly, a dead letter on 4xx, and each receiver's messages in the order sent.
 */

const HOSPITAL = 'hosp-auh-cardiology';
const NURSING = 'hjemmesygepleje-0751';
const HOME_CARE = 'hjemmepleje-0751';

/** What the receiving system answers to one request. */
type Answer = 'ok' | 'unavailable' | 'bad-request' | { hangMs: number };

/** A receiving system: a real HTTP server on 127.0.0.1 that can be stopped and started on its port. */
class Receiver extends HttpTestServer {
  readonly received: { path: string | undefined; contentType: string | undefined; body: Bundle }[] = [];
  answer: (b: Bundle) => Answer = () => 'ok';

  protected handle(req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    const body = JSON.parse(raw.toString('utf8')) as Bundle;
    this.received.push({ path: req.url, contentType: req.headers['content-type'], body });
    const a = this.answer(body);
    if (typeof a === 'object') {
      setTimeout(() => res.writeHead(200).end(), a.hangMs).unref();
    } else if (a === 'ok') {
      res.writeHead(200).end();
    } else if (a === 'unavailable') {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('vedligeholdelse');
    } else {
      res.writeHead(400, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'ukendt patient' }] }));
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/fhir/$process-message`;
  }

  headerIds(): string[] {
    return this.received.map((r) => headerOf(r.body).id!);
  }
}

describe('delivery by HTTP to a registered endpoint', () => {
  let t: TestApp;
  let sender: Sender;
  let orgs: Map<string, Organization>;
  const receiver = new Receiver();

  const send = async (to: string): Promise<Bundle> => {
    const b = JSON.parse(readFileSync(`${PACKAGES}/medcom.fhir.dk.hospitalnotification#3.0.2/package/Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json`, 'utf8')) as Bundle;
    const h = headerOf(b);
    readdress(b, h.sender!.reference!, addressOf(orgs.get(HOSPITAL)!));
    readdress(b, h.destination![0]!.receiver!.reference!, addressOf(orgs.get(to)!));
    const renewed = renew(b);
    const res = await sender.post(renewed);
    assert.equal(res.status, 200, res.text);
    return renewed;
  };
  const pending = async (): Promise<number> => Number((await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message_outbox WHERE status = 'pending'`))[0]!.n);
  const outboxOf = async (b: Bundle): Promise<{ status: string; attempts: number; lastError: string | null }> => {
    const rows = await t.db.query<{ status: string; attempts: number; last_error: string | null }>(
      `SELECT o.status, o.attempts, o.last_error FROM message_outbox o JOIN message m ON m.seq = o.message_seq WHERE m.bundle_id = $1`,
      [b.id],
    );
    assert.equal(rows.length, 1);
    return { status: rows[0]!.status, attempts: Number(rows[0]!.attempts), lastError: rows[0]!.last_error };
  };
  const acksOf = async (msgs: readonly Bundle[]): Promise<number> => {
    const ids = new Set(msgs.map((m) => headerOf(m).id));
    return (await inboxBundles(t, HOSPITAL)).filter((b) => ids.has(headerOf(b).response?.identifier)).length;
  };
  // Delivered and waiting for the receiving system's own acknowledgement (acknowledgement.test.ts covers it).
  const awaitingAck = async (msgs: readonly Bundle[]): Promise<number> => {
    const rows = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM message_outbox o JOIN message m ON m.seq = o.message_seq
        WHERE m.bundle_id = ANY($1::text[]) AND o.status = 'delivered' AND o.resend_due IS NOT NULL AND o.acknowledged_at IS NULL`,
      [msgs.map((m) => m.id!)],
    );
    return Number(rows[0]!.n);
  };

  before(async () => {
    t = await createTestApp();
    orgs = await putReferenceUnits(t, [HOSPITAL, NURSING, HOME_CARE]);
    sender = await createSender(t);
    await sender.bind(HOSPITAL);
    await receiver.start();
  });
  after(async () => {
    await receiver.stop();
    await t.close();
  });

  it('registers a delivery URL only on an allowed host, with http(s) and without credentials', async () => {
    const refused = async (orgId: string, url: string, text: RegExp): Promise<void> => {
      await assert.rejects(registerDeliveryUrl(t.db, orgId, url), (err: unknown) => err instanceof OperationOutcomeError && text.test(err.message));
    };
    await refused(NURSING, receiver.url, /ikke på listen over tilladte/);
    await refused(NURSING, 'http://169.254.169.254/latest/meta-data', /ikke på listen over tilladte/);
    await allowDeliveryHost(t.db, '127.0.0.1');
    await refused(NURSING, `file:///etc/passwd`, /http eller https/);
    await refused(NURSING, `http://user:secret@127.0.0.1:${receiver.port}/`, /brugernavn/);
    await refused(NURSING, 'ikke en url', /Ugyldig/);
    await refused('no-such-org', receiver.url, /findes ikke/);
    await assert.rejects(allowDeliveryHost(t.db, 'evil.example/path'), OperationOutcomeError);
    await registerDeliveryUrl(t.db, NURSING, receiver.url);
    const rows = await t.db.query<{ url: string }>('SELECT url FROM messaging_delivery_url WHERE organization_id = $1', [NURSING]);
    assert.deepEqual(rows.map((r) => r.url), [receiver.url]);
  });

  it('a receiver that is down and then answers 503 gets every message exactly once, in order, when it comes back', async () => {
    await receiver.stop();
    receiver.received.length = 0;
    const sent: Bundle[] = [];
    for (let i = 0; i < 6; i++) {
      sent.push(await send(NURSING));
    }
    const home = await send(HOME_CARE);
    const patient = new MessageDispatcher(t.db, { backoffMs: 60_000 });
    const d = new MessageDispatcher(t.db, { backoffMs: 20, maxBackoffMs: 80, maxAttempts: 100, httpTimeoutMs: 2_000 });

    // Down: the connection is refused. The head fails; the rest of the run is given back unattempted.
    const first = await patient.runOnce();
    assert.equal(first.failed, 1);
    assert.equal(first.delivered, 1, 'the inbox receiver is not held up by the HTTP receiver');
    assert.deepEqual((await inboxBundles(t, HOME_CARE)).map((b) => b.id).slice(-1), [home.id]);
    const head = await outboxOf(sent[0]!);
    assert.equal(head.status, 'pending');
    assert.match(head.lastError ?? '', /ingen forbindelse til http:\/\/127\.0\.0\.1/);
    assert.deepEqual((await outboxOf(sent[1]!)).attempts, 0);
    const second = await patient.runOnce();
    assert.deepEqual({ failed: second.failed, delivered: second.delivered }, { failed: 0, delivered: 1 }, 'only the acknowledgement to the sender');
    assert.equal((await outboxOf(sent[0]!)).attempts, 1, 'waiting for the backoff');
    assert.equal((await outboxOf(sent[1]!)).attempts, 0, 'nothing overtakes the head');
    await t.db.query(`UPDATE message_outbox SET next_attempt_at = now() WHERE status = 'pending'`);

    for (let i = 0; i < 3; i++) {
      await sleep(100);
      const r = await d.runOnce();
      assert.equal(r.delivered + r.failed, r.claimed);
      assert.equal(r.delivered, 0);
    }
    const attemptsWhileDown = (await outboxOf(sent[0]!)).attempts;
    assert.ok(attemptsWhileDown >= 3, `retried while down (${attemptsWhileDown})`);

    // Back, but answering 503 to its first three requests.
    let unavailable = 3;
    receiver.answer = () => (unavailable-- > 0 ? 'unavailable' : 'ok');
    await receiver.start();
    for (let i = 0; i < 200 && (await pending()) > 0; i++) {
      const r = await d.runOnce();
      if (r.claimed === 0) {
        await sleep(20);
      }
    }
    assert.equal(await pending(), 0);
    const ids = sent.map((b) => headerOf(b).id!);
    assert.deepEqual(receiver.headerIds().slice(0, 3), [ids[0], ids[0], ids[0]], 'the 503 answers were all to the head');
    assert.deepEqual(receiver.received.slice(3).map((r) => r.body.id), sent.map((b) => b.id), 'every message once, in the order sent');
    for (const [i, r] of receiver.received.slice(3).entries()) {
      assert.equal(r.contentType, 'application/fhir+json');
      assert.deepEqual(r.body, sent[i], 'the message exactly as sent');
    }
    assert.equal((await outboxOf(sent[0]!)).attempts, attemptsWhileDown + 4);
    for (const b of sent.slice(1)) {
      assert.deepEqual(await outboxOf(b), { status: 'delivered', attempts: 1, lastError: null }, 'later messages attempted only once the head got through');
    }
    assert.equal((await inboxBundles(t, NURSING)).filter((b) => sent.some((s) => s.id === b.id)).length, 0, 'not also put in the platform inbox');
    assert.equal(await acksOf(sent), 0, 'the platform does not acknowledge on the receiving system\'s behalf');
    assert.equal(await awaitingAck(sent), 6, 'each waits for the receiving system\'s acknowledgement');
  });

  it('a 4xx answer makes a dead letter at once, with the answer as reason; the next message is delivered', async () => {
    receiver.received.length = 0;
    const bad = await send(NURSING);
    const good = await send(NURSING);
    receiver.answer = (b) => (b.id === bad.id ? 'bad-request' : 'ok');
    const r = await new MessageDispatcher(t.db, { maxAttempts: 10 }).drain();
    assert.equal(r.dead, 1);
    const dead = await outboxOf(bad);
    assert.equal(dead.status, 'dead');
    assert.equal(dead.attempts, 1, 'not retried');
    assert.match(dead.lastError ?? '', /^HTTP 400 fra http:\/\/127\.0\.0\.1:\d+\/fhir\/\$process-message: .*ukendt patient/);
    assert.deepEqual(receiver.received.map((x) => x.body.id), [bad.id, good.id]);
    assert.equal(await acksOf([bad]), 0, 'a refused message is not acknowledged');
    assert.equal(await awaitingAck([good]), 1);
    assert.ok((await listDeadLetters(t.db)).some((d) => d.bundleId === bad.id));
  });

  it('an answer that comes too late is retried; the receiver then sees the same MessageHeader.id twice', async () => {
    receiver.received.length = 0;
    const slow = await send(NURSING);
    let first = true;
    receiver.answer = () => {
      const a: Answer = first ? { hangMs: 600 } : 'ok';
      first = false;
      return a;
    };
    const d = new MessageDispatcher(t.db, { backoffMs: 10, httpTimeoutMs: 150 });
    const r1 = await d.runOnce();
    assert.equal(r1.failed, 1);
    assert.match((await outboxOf(slow)).lastError ?? '', /intet svar fra .* inden for 150 ms/);
    await sleep(30);
    await d.drain();
    assert.equal((await outboxOf(slow)).status, 'delivered');
    assert.deepEqual(receiver.headerIds(), [headerOf(slow).id, headerOf(slow).id], 'same MessageHeader.id: the receiver de-duplicates');
    assert.equal(await acksOf([slow]), 0);
    assert.equal(await awaitingAck([slow]), 1, 'waits once for its acknowledgement');
  });

  it('concurrent workers deliver to two HTTP receivers that answer 503 at random: each message once, in order per receiver', async () => {
    receiver.received.length = 0;
    await allowDeliveryHost(t.db, '127.0.0.1');
    await registerDeliveryUrl(t.db, HOME_CARE, receiver.url.replace('$process-message', 'home-care'));
    const paths = new Map<string, string>();
    let n = 0;
    receiver.answer = () => (n++ % 3 === 1 ? 'unavailable' : 'ok');
    const sent: { to: string; b: Bundle }[] = [];
    for (let i = 0; i < 16; i++) {
      const to = i % 2 === 0 ? NURSING : HOME_CARE;
      const b = await send(to);
      sent.push({ to, b });
      paths.set(b.id!, to);
    }
    const workers = [1, 2, 3].map((w) => new MessageDispatcher(t.db, { workerId: `h${w}`, batchSize: 1, backoffMs: 5, maxBackoffMs: 20, maxAttempts: 100 }));
    const work = async (w: MessageDispatcher): Promise<number> => {
      let lost = 0;
      for (let i = 0; i < 2_000; i++) {
        const r = await w.runOnce();
        lost += r.lost + r.dead;
        if (r.claimed === 0) {
          if ((await pending()) === 0) {
            return lost;
          }
          await sleep(5);
        }
      }
      return lost;
    };
    assert.deepEqual(await Promise.all(workers.map(work)), [0, 0, 0], 'nothing lost or dead');
    const accepted = receiver.received.filter((_, i) => i % 3 !== 1);
    for (const to of [NURSING, HOME_CARE]) {
      const got = accepted.map((r) => r.body.id!).filter((id) => paths.get(id) === to);
      assert.deepEqual(got, sent.filter((x) => x.to === to).map((x) => x.b.id), `${to}: each message once, in the order sent`);
      const urls = new Set(receiver.received.filter((r) => paths.get(r.body.id!) === to).map((r) => r.path));
      assert.deepEqual([...urls], [to === NURSING ? '/fhir/$process-message' : '/fhir/home-care'], `${to}: at its own URL`);
    }
    assert.equal(await awaitingAck(sent.map((x) => x.b)), 16);
    assert.equal(await unregisterDeliveryUrl(t.db, HOME_CARE), true);
  });

  it('a host taken off the allow-list gets nothing: dead letter at delivery; without a URL the inbox is used again', async () => {
    receiver.received.length = 0;
    receiver.answer = () => 'ok';
    const msg = await send(NURSING);
    assert.equal(await disallowDeliveryHost(t.db, '127.0.0.1'), true);
    const r = await new MessageDispatcher(t.db).drain();
    assert.equal(r.dead, 1);
    assert.match((await outboxOf(msg)).lastError ?? '', /værten 127\.0\.0\.1 er ikke på listen/);
    assert.equal(receiver.received.length, 0, 'no request was made');
    // The operator removes the URL and retries: the message goes to the platform inbox.
    assert.equal(await unregisterDeliveryUrl(t.db, NURSING), true);
    const dead = (await listDeadLetters(t.db)).find((x) => x.bundleId === msg.id)!;
    assert.equal(await retryDeadLetter(t.db, dead.id), true);
    await new MessageDispatcher(t.db).drain();
    assert.deepEqual((await inboxBundles(t, NURSING)).map((b) => b.id).slice(-1), [msg.id]);
    assert.equal(receiver.received.length, 0);
  });
});
