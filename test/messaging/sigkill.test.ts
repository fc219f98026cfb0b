import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Organization } from '@medplum/fhirtypes';
import { MessageDispatcher } from '../../src/platform/messaging/index.ts';
import type { TestApp } from '../support.ts';
import { createTestApp } from '../support.ts';
import type { Sender } from './messaging-support.ts';
import { PACKAGES, addressOf, createSender, headerOf, inboxBundles, putReferenceUnits, readdress, renew } from './messaging-support.ts';

/**
 * A dispatcher process killed with SIGKILL in the middle of delivering: another dispatcher
 * finishes after the lease, and every message is delivered and acknowledged exactly once, in
 * order per receiver. Needs PostgreSQL (DATABASE_URL): two processes share the database.
 */

const HOSPITAL = 'hosp-auh-cardiology';
const RECEIVERS = ['hjemmesygepleje-0751', 'hjemmepleje-0751'];
const LEASE_MS = 1_500;

describe('dispatcher killed with SIGKILL', { skip: process.env.DATABASE_URL === undefined || process.env.DATABASE_URL === '' ? 'needs PostgreSQL (DATABASE_URL)' : false }, () => {
  let t: TestApp;
  let sender: Sender;
  let orgs: Map<string, Organization>;

  before(async () => {
    t = await createTestApp();
    orgs = await putReferenceUnits(t, [HOSPITAL, ...RECEIVERS]);
    sender = await createSender(t);
    await sender.bind(HOSPITAL);
  });
  after(async () => {
    await t.close();
  });

  const template = JSON.parse(readFileSync(`${PACKAGES}/medcom.fhir.dk.hospitalnotification#3.0.2/package/Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json`, 'utf8')) as Bundle;
  const delivered = async (): Promise<number> => Number((await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message_outbox WHERE status = 'delivered'`))[0]!.n);

  for (const round of [1, 2, 3]) {
    it(`round ${round}: nothing lost, nothing doubled, order kept`, async () => {
      const sent: { to: string; b: Bundle }[] = [];
      for (let i = 0; i < 60; i++) {
        const to = RECEIVERS[i % 2]!;
        const b = structuredClone(template);
        const h = headerOf(b);
        readdress(b, h.sender!.reference!, addressOf(orgs.get(HOSPITAL)!));
        readdress(b, h.destination![0]!.receiver!.reference!, addressOf(orgs.get(to)!));
        const msg = renew(b);
        const res = await sender.post(msg);
        assert.equal(res.status, 200, res.text);
        sent.push({ to, b: msg });
      }
      const start = await delivered();
      const child = spawn(process.execPath, ['--import', 'tsx', new URL('./crash-worker.ts', import.meta.url).pathname, t.databaseUrl!, String(LEASE_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      // Kill it once it has delivered part of the work (a different share each round).
      const killAt = start + 20 * round;
      const deadline = Date.now() + 60_000;
      while ((await delivered()) < killAt && Date.now() < deadline) {
        await sleep(1);
      }
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      const atKill = (await delivered()) - start;
      assert.ok(atKill > 0 && atKill < 120, `killed mid-work (${atKill} of 120 deliveries done)`);

      // The survivor finishes: leased rows come back after the lease.
      const survivor = new MessageDispatcher(t.db, { leaseMs: 10_000 });
      const until = Date.now() + LEASE_MS * 4 + 10_000;
      while ((await delivered()) - start < 120 && Date.now() < until) {
        const r = await survivor.runOnce();
        if (r.claimed === 0) {
          await sleep(50);
        }
      }
      assert.equal((await delivered()) - start, 120, 'every message and every acknowledgement delivered');
      for (const to of RECEIVERS) {
        const ids = (await inboxBundles(t, to)).map((b) => b.id!);
        assert.equal(new Set(ids).size, ids.length, `${to}: no message twice`);
        assert.deepEqual(ids.slice(-30), sent.filter((s) => s.to === to).map((s) => s.b.id), `${to}: in the order sent`);
      }
      const acks = (await inboxBundles(t, HOSPITAL)).map((b) => headerOf(b).response?.identifier);
      for (const s of sent) {
        assert.equal(acks.filter((x) => x === headerOf(s.b).id).length, 1, 'acknowledged exactly once');
      }
    });
  }
});
