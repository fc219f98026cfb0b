import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Bundle, Endpoint, Organization } from '@medplum/fhirtypes';
import { MessageDispatcher, listDeadLetters, retryDeadLetter } from '../../src/platform/messaging/index.ts';
import { referenceData } from '../../src/platform/registers/index.ts';
import type { TestApp } from '../support.ts';
import { createTestApp } from '../support.ts';
import type { Sender } from './messaging-support.ts';
import { PACKAGES, addressOf, createSender, headerOf, inboxBundles, messagingCounts, putReferenceUnits, readdress, renew } from './messaging-support.ts';

/**
 * The outbox dispatcher: leases survive a crashed worker without losing or doubling a message,
 * concurrent workers keep each receiver's messages in the order they were sent, and a delivery
 * that keeps failing becomes a dead letter with its reason, which an operator can retry.
 */

const HOSPITAL = 'hosp-auh-cardiology';
const NURSING = 'hjemmesygepleje-0751';
const HOME_CARE = 'hjemmepleje-0751';

function notification(orgs: Map<string, Organization>, to: string): Bundle {
  const b = JSON.parse(readFileSync(`${PACKAGES}/medcom.fhir.dk.hospitalnotification#3.0.2/package/Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json`, 'utf8')) as Bundle;
  const h = headerOf(b);
  readdress(b, h.sender!.reference!, addressOf(orgs.get(HOSPITAL)!));
  readdress(b, h.destination![0]!.receiver!.reference!, addressOf(orgs.get(to)!));
  return renew(b);
}

function endpointOf(orgId: string): Endpoint {
  return structuredClone(referenceData().endpoints.find((e) => e.managingOrganization?.reference === `Organization/${orgId}`)!);
}

describe('outbox dispatcher', () => {
  let t: TestApp;
  let sender: Sender;
  let orgs: Map<string, Organization>;

  const send = async (to: string): Promise<Bundle> => {
    const b = notification(orgs, to);
    const res = await sender.post(b);
    assert.equal(res.status, 200, res.text);
    return b;
  };
  const setEndpointStatus = async (orgId: string, status: Endpoint['status']): Promise<void> => {
    const res = await t.request('PUT', `/fhir/Endpoint/ep-${orgId}`, { ...endpointOf(orgId), status });
    assert.equal(res.status, 200, res.text);
  };

  before(async () => {
    t = await createTestApp();
    orgs = await putReferenceUnits(t, [HOSPITAL, NURSING, HOME_CARE]);
    sender = await createSender(t);
    await sender.bind(HOSPITAL);
  });
  beforeEach(async () => {
    // Every test starts with nothing due.
    await new MessageDispatcher(t.db).drain();
  });
  after(async () => {
    await t.close();
  });

  it('a worker that dies holding a lease loses nothing: the delivery is claimed again after the lease, and delivered once', async () => {
    const msg = await send(NURSING);
    const crashed = new MessageDispatcher(t.db, { workerId: 'crashed', leaseMs: 400 });
    const survivor = new MessageDispatcher(t.db, { workerId: 'survivor', leaseMs: 10_000 });
    const claims = await crashed.claim();
    assert.equal(claims.length, 1);
    // The crashed worker never finishes. While its lease runs, nobody else takes the delivery.
    assert.equal((await survivor.runOnce()).claimed, 0);
    assert.equal((await inboxBundles(t, NURSING)).filter((b) => b.id === msg.id).length, 0);
    await sleep(500);
    const pass = await survivor.runOnce();
    assert.deepEqual({ claimed: pass.claimed, delivered: pass.delivered }, { claimed: 1, delivered: 1 });
    // The worker comes back after its lease was taken over: it finishes nothing.
    assert.equal(await crashed.deliver(claims[0]!), 'lost');
    await survivor.drain();
    assert.equal((await inboxBundles(t, NURSING)).filter((b) => b.id === msg.id).length, 1, 'delivered exactly once');
    const acks = (await inboxBundles(t, HOSPITAL)).filter((b) => headerOf(b).response?.identifier === headerOf(msg).id);
    assert.equal(acks.length, 1, 'acknowledged exactly once');
    const rows = await t.db.query<{ attempts: number; status: string }>(
      `SELECT o.attempts, o.status FROM message_outbox o JOIN message m ON m.seq = o.message_seq WHERE m.bundle_id = $1`,
      [msg.id],
    );
    assert.deepEqual(rows.map((r) => ({ attempts: Number(r.attempts), status: r.status })), [{ attempts: 2, status: 'delivered' }]);
  });

  it('a delivery whose workers keep dying on it becomes a dead letter instead of being claimed forever', async () => {
    const msg = await send(NURSING);
    const dying = new MessageDispatcher(t.db, { leaseMs: 20, maxAttempts: 2 });
    for (let i = 0; i < 2; i++) {
      assert.equal((await dying.claim()).length, 1, `claim ${i + 1}`);
      await sleep(40);
    }
    const [third] = await dying.claim();
    assert.equal(third?.attempts, 3);
    assert.equal(await dying.deliver(third), 'dead');
    const dead = (await listDeadLetters(t.db)).find((d) => d.bundleId === msg.id);
    assert.match(dead?.lastError ?? '', /opgivet efter 2 forsøg/);
    assert.equal((await inboxBundles(t, NURSING)).filter((b) => b.id === msg.id).length, 0);
    // Retried by the operator, it is delivered once.
    assert.equal(await retryDeadLetter(t.db, dead!.id), true);
    await new MessageDispatcher(t.db).drain();
    assert.equal((await inboxBundles(t, NURSING)).filter((b) => b.id === msg.id).length, 1);
  });

  it('a worker whose lease ran out but was not taken over still finishes its delivery', async () => {
    const msg = await send(NURSING);
    const slow = new MessageDispatcher(t.db, { leaseMs: 50 });
    const [claim] = await slow.claim();
    await sleep(100);
    assert.equal(await slow.deliver(claim!), 'delivered');
    assert.equal((await inboxBundles(t, NURSING)).filter((b) => b.id === msg.id).length, 1);
  });

  it('a receiver\'s queue is claimed from its oldest message, by one worker at a time: it gets its messages in the order sent', async () => {
    const first = await send(NURSING);
    const second = await send(NURSING);
    const other = await send(HOME_CARE);
    const a = new MessageDispatcher(t.db);
    const b = new MessageDispatcher(t.db);
    const claimsA = await a.claim();
    assert.deepEqual(
      claimsA.map((c) => c.receiverOrg),
      [NURSING, NURSING, HOME_CARE],
      'each receiver\'s run, oldest first',
    );
    assert.deepEqual(await b.claim(), [], 'no other worker takes a receiver whose queue is claimed');
    // A run is at most runLength long; the rest waits for the next claim of that receiver.
    const short = new MessageDispatcher(t.db, { runLength: 1 });
    for (const c of claimsA) {
      assert.equal(await a.deliver(c), 'delivered');
    }
    const acks = await short.claim();
    assert.deepEqual(acks.map((c) => c.receiverOrg), [HOSPITAL], 'the acknowledgements, one at a time with runLength 1');
    await short.deliver(acks[0]!);
    await b.drain();
    const inbox = (await inboxBundles(t, NURSING)).map((x) => x.id);
    assert.deepEqual(inbox.slice(-2), [first.id, second.id]);
    assert.deepEqual((await inboxBundles(t, HOME_CARE)).map((x) => x.id).slice(-1), [other.id]);
  });

  it('concurrent workers deliver every message exactly once, in order per receiver', async () => {
    const sent: { to: string; b: Bundle }[] = [];
    for (let i = 0; i < 24; i++) {
      const to = i % 3 === 0 ? HOME_CARE : NURSING;
      sent.push({ to, b: await send(to) });
    }
    const before = await messagingCounts(t);
    const workers = [1, 2, 3].map((n) => new MessageDispatcher(t.db, { workerId: `w${n}`, batchSize: 2 }));
    // Each worker polls until nothing is pending (a worker may find every head leased by the others).
    const pending = async (): Promise<number> => Number((await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message_outbox WHERE status = 'pending'`))[0]!.n);
    const work = async (w: MessageDispatcher): Promise<{ delivered: number; lost: number; failed: number; dead: number }> => {
      const total = { delivered: 0, lost: 0, failed: 0, dead: 0 };
      for (;;) {
        const r = await w.runOnce();
        total.delivered += r.delivered;
        total.lost += r.lost;
        total.failed += r.failed;
        total.dead += r.dead;
        if (r.claimed === 0) {
          if ((await pending()) === 0) {
            return total;
          }
          await sleep(2);
        }
      }
    };
    const results = await Promise.all(workers.map(work));
    const delivered = results.reduce((n, r) => n + r.delivered, 0);
    assert.equal(delivered, 48, 'each message and its acknowledgement');
    assert.equal(results.reduce((n, r) => n + r.lost + r.failed + r.dead, 0), 0);
    const after = await messagingCounts(t);
    assert.equal(after.inbox - before.inbox, 48);
    for (const to of [NURSING, HOME_CARE]) {
      const ids = (await inboxBundles(t, to)).map((b) => b.id);
      const expected = sent.filter((x) => x.to === to).map((x) => x.b.id);
      assert.deepEqual(ids.slice(-expected.length), expected, `${to}: in the order sent`);
      assert.equal(new Set(ids).size, ids.length, `${to}: no duplicates`);
    }
  });

  it('a delivery that keeps failing becomes a dead letter with its reason, blocks no later receiver forever, and can be retried', async () => {
    const msg = await send(NURSING);
    const later = await send(NURSING);
    // The receiver's mailbox goes out of operation after the messages were accepted.
    await setEndpointStatus(NURSING, 'off');
    const patient = new MessageDispatcher(t.db, { maxAttempts: 3, backoffMs: 60_000 });
    const first = await patient.runOnce();
    assert.deepEqual({ claimed: first.claimed, failed: first.failed, delivered: first.delivered }, { claimed: 1, failed: 1, delivered: 0 }, 'the later message of the run is given back unattempted');
    assert.equal((await patient.runOnce()).claimed, 0, 'waiting for its backoff; the later message does not overtake it');
    const waiting = await t.db.query<{ attempts: number; claimed_by: string | null }>(
      `SELECT o.attempts, o.claimed_by FROM message_outbox o JOIN message m ON m.seq = o.message_seq WHERE m.bundle_id = $1`,
      [later.id],
    );
    assert.deepEqual(waiting.map((w) => ({ attempts: Number(w.attempts), claimedBy: w.claimed_by })), [{ attempts: 0, claimedBy: null }]);

    const eager = new MessageDispatcher(t.db, { maxAttempts: 3, backoffMs: 0 });
    await t.db.query(`UPDATE message_outbox SET next_attempt_at = now() WHERE status = 'pending'`);
    const result = await eager.drain();
    assert.equal(result.dead, 2, 'both messages, after 3 attempts each');
    assert.equal((await inboxBundles(t, NURSING)).filter((b) => b.id === msg.id || b.id === later.id).length, 0);
    const dead = (await listDeadLetters(t.db)).filter((d) => d.bundleId === msg.id || d.bundleId === later.id);
    assert.equal(dead.length, 2);
    for (const d of dead) {
      assert.equal(d.attempts, 3);
      assert.equal(d.status, 'dead');
      assert.match(d.lastError ?? '', /MSG_Mailbox_Out_Of_Operation/);
      assert.equal(d.receiverOrg, NURSING);
    }

    // The receiver is back; the operator retries, oldest first.
    await setEndpointStatus(NURSING, 'active');
    assert.equal(await retryDeadLetter(t.db, dead[0]!.id), true);
    assert.equal(await retryDeadLetter(t.db, dead[1]!.id), true);
    assert.equal(await retryDeadLetter(t.db, dead[1]!.id), false, 'no longer a dead letter');
    const again = await new MessageDispatcher(t.db).drain();
    assert.equal(again.delivered, 4, 'both messages and their acknowledgements');
    assert.deepEqual((await inboxBundles(t, NURSING)).map((b) => b.id).slice(-2), [msg.id, later.id]);
    assert.equal((await listDeadLetters(t.db)).filter((d) => d.bundleId === msg.id || d.bundleId === later.id).length, 0);
  });
});

