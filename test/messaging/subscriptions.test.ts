import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Observation, Subscription } from '@medplum/fhirtypes';
import WebSocket from 'ws';
import { allowDeliveryHost, disallowDeliveryHost } from '../../src/platform/messaging/index.ts';
import { SubscriptionDispatcher, retryDeadNotification } from '../../src/platform/subscriptions/index.ts';
import { subscriptionsOf } from '../../src/server/subscriptions.ts';
import { systemToken } from '../auth-support.ts';
import type { TestApp } from '../support.ts';
import { HttpTestServer } from './messaging-support.ts';
import { countRows, createTestApp } from '../support.ts';

/**
 * FHIR R4 Subscriptions through the outbox: checks on create, matching in the write's
 * transaction with the owner's access, delivery to a real HTTP receiver on loopback (in order,
 * once, through an outage, never off the allow-list) and the R4 websocket channel with a real
 * WebSocket client.
 */

interface Received {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A subscriber's system: a real HTTP server on 127.0.0.1 that can be stopped and started on its port. */
class Receiver extends HttpTestServer {
  readonly received: Received[] = [];
  status = 200;

  protected handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    this.received.push({ path: req.url ?? '', headers: req.headers, body: body.toString('utf8') });
    res.writeHead(this.status).end();
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Ids of the resources POSTed to `path`, in arrival order. */
  ids(path: string): string[] {
    return this.received.filter((r) => r.path === path).map((r) => (JSON.parse(r.body) as { id: string }).id);
  }
}

const CODE_SYSTEM = 'http://loinc.org';

function observation(patient: string, code: string, value = 1): Observation {
  return { resourceType: 'Observation', status: 'final', code: { coding: [{ system: CODE_SYSTEM, code }] }, subject: { reference: `Patient/${patient}` }, valueQuantity: { value, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' } };
}

function restHook(criteria: string, endpoint: string, extra: Partial<Subscription['channel']> = {}): Subscription {
  return { resourceType: 'Subscription', status: 'requested', reason: 'Test', criteria, channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json', ...extra } };
}

describe('FHIR Subscriptions', () => {
  let t: TestApp;
  let dispatcher: SubscriptionDispatcher;
  const receiver = new Receiver();

  const outboxCount = async (): Promise<number> => Number((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM subscription_outbox'))[0]!.n);
  const subscriptionCount = async (): Promise<number> => Number((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM subscription'))[0]!.n);
  const create = async (r: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown>; text: string }> => {
    const res = await t.request('POST', `/fhir/${(r as { resourceType: string }).resourceType}`, r, token === undefined ? {} : { authorization: `Bearer ${token}` });
    return { status: res.status, body: res.body as Record<string, unknown>, text: res.text };
  };
  const subscribe = async (s: Subscription, token?: string): Promise<string> => {
    const res = await create(s, token);
    assert.equal(res.status, 201, res.text);
    await dispatcher.runOnce(); // activates it
    const read = await t.request('GET', `/fhir/Subscription/${res.body.id as string}`);
    assert.equal(read.body.status, 'active');
    return res.body.id as string;
  };
  const patient = async (family: string): Promise<string> => {
    const res = await create({ resourceType: 'Patient', name: [{ family }] });
    assert.equal(res.status, 201, res.text);
    return res.body.id as string;
  };

  before(async () => {
    t = await createTestApp();
    await receiver.start();
    await allowDeliveryHost(t.db, '127.0.0.1');
    dispatcher = new SubscriptionDispatcher(subscriptionsOf(t.app), { backoffMs: 5, maxBackoffMs: 20, maxAttempts: 6 });
  });
  after(async () => {
    await receiver.stop();
    await t.close();
  });

  it('refuses bad criteria, unsupported channels and payloads, and endpoints off the allow-list, storing nothing', async () => {
    const cases: [Subscription, RegExp][] = [
      [restHook('Observation?ukendt-parameter=1', receiver.url('/a')), /criteria er ikke en gyldig søgning/],
      [restHook('Observation?date=ikke-en-dato', receiver.url('/a')), /criteria er ikke en gyldig søgning/],
      [restHook('Ingenting?code=1', receiver.url('/a')), /ikke en ressourcetype/],
      [restHook('Observation?code=1&_sort=date', receiver.url('/a')), /må ikke bruge _sort/],
      [{ ...restHook('Observation?code=1', ''), channel: { type: 'email', endpoint: 'mailto:a@b.dk' } }, /understøttes ikke.*rest-hook og websocket/],
      [{ ...restHook('Observation?code=1', ''), channel: { type: 'message', endpoint: 'http://127.0.0.1/' } }, /understøttes ikke/],
      [restHook('Observation?code=1', 'http://169.254.169.254/latest/meta-data'), /169\.254\.169\.254 er ikke på listen over tilladte/],
      [restHook('Observation?code=1', 'http://localhost:5432/'), /localhost er ikke på listen/],
      [restHook('Observation?code=1', 'file:///etc/passwd'), /http eller https/],
      [restHook('Observation?code=1', receiver.url('/a'), { payload: 'application/fhir+xml' }), /payload "application\/fhir\+xml" understøttes ikke/],
      [restHook('Observation?code=1', receiver.url('/a'), { header: ['Host: intern.example'] }), /må ikke sætte Host/],
      [{ ...restHook('Observation?code=1', receiver.url('/a')), status: 'active' }, /serveren sætter active/],
    ];
    const rows = await countRows(t.db);
    for (const [s, text] of cases) {
      const res = await create(s);
      assert.ok(res.status === 400 || res.status === 422, `${s.criteria ?? ''} ${s.channel.type}: ${res.status} ${res.text}`);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.match((res.body.issue as { details: { text: string } }[])[0]!.details.text, text);
    }
    // The same refusal inside a transaction Bundle.
    const bundle = await t.request('POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: restHook('Observation?code=1', 'http://10.0.0.1/'), request: { method: 'POST', url: 'Subscription' } }] });
    assert.equal(bundle.status, 400, bundle.text);
    assert.deepEqual(await countRows(t.db), rows);
    assert.equal(await subscriptionCount(), 0);
    assert.equal(await outboxCount(), 0);
  });

  it('notifies a matching write exactly once, in order, with the resource and the channel headers; not a non-matching one', async () => {
    const p = await patient('Abonnent');
    const created = await create(restHook('Observation?code=2345-7', receiver.url('/hook'), { header: ['Authorization: Bearer modtagerens-hemmelighed'] }));
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.status, 'requested');
    const id = created.body.id as string;
    // Not active yet: a write now is not notified (R4: only active subscriptions notify).
    assert.equal((await create(observation(p, '2345-7'))).status, 201);
    await dispatcher.runOnce();
    assert.equal((await t.request('GET', `/fhir/Subscription/${id}`)).body.status, 'active');
    const matching: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await create(observation(p, '2345-7', i));
      assert.equal(res.status, 201, res.text);
      matching.push(res.body.id as string);
      assert.equal((await create(observation(p, '718-7', i))).status, 201); // other code: no match
    }
    const r = await dispatcher.drain();
    assert.equal(r.delivered, 5);
    assert.deepEqual(receiver.ids('/hook'), matching);
    const first = receiver.received.find((x) => x.path === '/hook')!;
    assert.equal(first.headers['content-type'], 'application/fhir+json');
    assert.equal(first.headers.authorization, 'Bearer modtagerens-hemmelighed');
    assert.equal((JSON.parse(first.body) as Observation).code?.coding?.[0]?.code, '2345-7');
    // Exactly once: nothing is due any more, and the same receiver gets nothing more.
    assert.equal((await dispatcher.drain()).claimed, 0);
    assert.equal(receiver.ids('/hook').length, 5);
    // An update that stops matching is not notified; one that matches again is.
    const obs = (await t.request('GET', `/fhir/Observation/${matching[0]!}`)).body as Observation;
    assert.equal((await t.request('PUT', `/fhir/Observation/${matching[0]!}`, { ...observation(p, '718-7'), id: matching[0] })).status, 200);
    assert.equal((await dispatcher.drain()).delivered, 0);
    assert.equal((await t.request('PUT', `/fhir/Observation/${matching[0]!}`, { ...obs, meta: undefined })).status, 200);
    assert.equal((await dispatcher.drain()).delivered, 1);
    assert.deepEqual(receiver.ids('/hook').slice(5), [matching[0]]);
    // status off stops it.
    const sub = (await t.request('GET', `/fhir/Subscription/${id}`)).body as Subscription;
    assert.equal((await t.request('PUT', `/fhir/Subscription/${id}`, { ...sub, status: 'off' })).status, 200);
    await create(observation(p, '2345-7'));
    assert.equal((await dispatcher.drain()).claimed, 0);
    assert.equal(receiver.ids('/hook').length, 6);
  });

  it('a rolled-back transaction Bundle notifies nothing', async () => {
    const p = await patient('Transaktion');
    await subscribe(restHook('Observation?code=1558-6', receiver.url('/tx')));
    const before = await outboxCount();
    const bundle = await t.request('POST', '/fhir', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: observation(p, '1558-6'), request: { method: 'POST', url: 'Observation' } },
        // Fails: a version conflict rolls the whole transaction back.
        { resource: { resourceType: 'Patient', id: p, name: [{ family: 'X' }] }, request: { method: 'PUT', url: `Patient/${p}`, ifMatch: 'W/"99"' } },
      ],
    });
    assert.ok(bundle.status >= 400, bundle.text);
    assert.equal(await outboxCount(), before);
    assert.equal((await dispatcher.drain()).claimed, 0);
    assert.equal(receiver.ids('/tx').length, 0);
    // The same Bundle without the failing entry commits and notifies once.
    const ok = await t.request('POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: observation(p, '1558-6'), request: { method: 'POST', url: 'Observation' } }] });
    assert.equal(ok.status, 200, ok.text);
    await dispatcher.drain();
    assert.equal(receiver.ids('/tx').length, 1);
  });

  it('a receiver that is down for a while gets every notification once, in order, when it is back', async () => {
    const p = await patient('Nedetid');
    await subscribe(restHook('Observation?code=2093-3', receiver.url('/down')));
    await receiver.stop();
    const sent: string[] = [];
    for (let i = 0; i < 4; i++) {
      sent.push((await create(observation(p, '2093-3', i))).body.id as string);
    }
    // Three failed attempts on the head; the rest wait behind it, unattempted.
    for (let i = 0; i < 3; i++) {
      const r = await dispatcher.runOnce();
      assert.equal(r.delivered, 0);
      await sleep(30);
    }
    const rows = await t.db.query<{ attempts: number; last_error: string | null }>(`SELECT attempts, last_error FROM subscription_outbox WHERE resource_id = ANY($1::text[]) ORDER BY id`, [sent]);
    assert.equal(Number(rows[0]!.attempts), 3);
    assert.match(rows[0]!.last_error ?? '', /ingen forbindelse/);
    assert.deepEqual(rows.slice(1).map((r) => Number(r.attempts)), [0, 0, 0]);
    await receiver.start();
    await sleep(30);
    assert.equal((await dispatcher.drain()).delivered, 4);
    assert.deepEqual(receiver.ids('/down'), sent);
  });

  it('makes no request to a host taken off the allow-list: a dead letter, and the subscription in error with the reason', async () => {
    const p = await patient('Tilladt');
    const id = await subscribe(restHook('Observation?code=2160-0', receiver.url('/ssrf')));
    await disallowDeliveryHost(t.db, '127.0.0.1');
    try {
      await create(observation(p, '2160-0'));
      const r = await dispatcher.drain();
      assert.equal(r.dead, 1);
      assert.equal(receiver.received.filter((x) => x.path === '/ssrf').length, 0);
      const dead = await t.db.query<{ id: number; status: string; last_error: string }>(`SELECT id, status, last_error FROM subscription_outbox WHERE subscription_id = $1`, [id]);
      assert.equal(dead[0]!.status, 'dead');
      assert.match(dead[0]!.last_error, /værten 127\.0\.0\.1 er ikke på listen over tilladte modtagere/);
      const sub = (await t.request('GET', `/fhir/Subscription/${id}`)).body as Subscription;
      assert.equal(sub.status, 'error');
      assert.match(sub.error ?? '', /ikke på listen over tilladte modtagere/);
      // In error, nothing more is queued.
      await create(observation(p, '2160-0'));
      assert.equal((await t.db.query(`SELECT 1 FROM subscription_outbox WHERE subscription_id = $1`, [id])).length, 1);
      // Back on the list, the client asks again (requested), an operator retries the dead letter: delivered once.
      await allowDeliveryHost(t.db, '127.0.0.1');
      assert.equal((await t.request('PUT', `/fhir/Subscription/${id}`, { ...sub, status: 'requested', error: undefined })).status, 200);
      assert.equal(await retryDeadNotification(t.db, Number(dead[0]!.id)), true);
      await dispatcher.drain();
      assert.equal(receiver.received.filter((x) => x.path === '/ssrf').length, 1);
      assert.equal(((await t.request('GET', `/fhir/Subscription/${id}`)).body as Subscription).status, 'active');
    } finally {
      await allowDeliveryHost(t.db, '127.0.0.1');
    }
  });

  it('notifies only about data the subscription owner may read', async () => {
    const a = await patient('Synlig');
    const b = await patient('Skjult');
    // A client that may read Observations about patient A only.
    const narrow = await systemToken(t, `system/Subscription.cruds system/Observation.rs?subject=Patient/${a}`);
    const refused = await create(restHook('Condition?code=1', receiver.url('/narrow')), narrow);
    assert.equal(refused.status, 403, refused.text);
    await subscribe(restHook(`Observation?code=2339-0`, receiver.url('/narrow')), narrow);
    const forA = (await create(observation(a, '2339-0'))).body.id as string;
    await create(observation(b, '2339-0'));
    const forA2 = (await create(observation(a, '2339-0'))).body.id as string;
    await dispatcher.drain();
    assert.deepEqual(receiver.ids('/narrow'), [forA, forA2]);
  });

  it('each notification that sent a resource is in the audit trail as a disclosure to the owner about that patient; one without the resource is not', async () => {
    const p = await patient('Revideret');
    const owner = await systemToken(t, 'system/Subscription.cruds system/Observation.rs');
    const clientId = (JSON.parse(Buffer.from(owner.split('.')[1]!, 'base64url').toString('utf8')) as { client_id: string }).client_id;
    const withResource = await subscribe(restHook('Observation?code=2093-3', receiver.url('/audit')), owner);
    const idOnly = await subscribe(restHook('Observation?code=2093-3', receiver.url('/audit-empty'), { payload: undefined }), owner);
    const obs = (await create(observation(p, '2093-3'))).body.id as string;
    await dispatcher.drain();
    assert.deepEqual(receiver.ids('/audit'), [obs]);
    assert.deepEqual(receiver.received.filter((r) => r.path === '/audit-empty').map((r) => r.body), [''], 'notified without the resource');
    const rows = await t.db.query<{ action: string; outcome: number; client_id: string; resource_refs: string[]; patient_ids: string[] }>(
      `SELECT action, outcome, client_id, resource_refs, patient_ids FROM audit_event WHERE interaction = 'notification' AND $1 = ANY(resource_refs)`,
      [`Observation/${obs}`],
    );
    // (Subscriptions of earlier tests may match this Observation too: only these two are looked at.)
    assert.deepEqual(
      rows.filter((r) => r.resource_refs.includes(`Subscription/${withResource}`)).map((r) => ({ ...r, outcome: Number(r.outcome) })),
      [{ action: 'R', outcome: 0, client_id: clientId, resource_refs: [`Observation/${obs}`, `Subscription/${withResource}`], patient_ids: [p] }],
    );
    assert.equal(rows.filter((r) => r.resource_refs.includes(`Subscription/${idOnly}`)).length, 0);
  });

  it('websocket: bind, bound, then a ping per notification, kept until a client is bound', async () => {
    const token = await systemToken(t, 'system/*.cruds');
    const other = await systemToken(t, 'system/*.cruds');
    const p = await patient('Websocket');
    const created = await create({ resourceType: 'Subscription', status: 'requested', reason: 'Test', criteria: 'Observation?code=2571-8', channel: { type: 'websocket' } }, token);
    assert.equal(created.status, 201, created.text);
    const id = created.body.id as string;
    await dispatcher.runOnce();
    // A notification before any client is bound is kept.
    await create(observation(p, '2571-8'));
    assert.equal((await dispatcher.runOnce()).claimed, 0);

    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.server.address() as AddressInfo).port;
    const url = `ws://127.0.0.1:${port}/fhir/$subscription-ws`;
    // No valid token: no upgrade.
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers: { authorization: 'Bearer ugyldig' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    assert.equal(status, 401);

    const connect = async (bearer: string): Promise<{ ws: WebSocket; messages: string[]; next: () => Promise<string> }> => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${bearer}` } });
      const messages: string[] = [];
      const waiting: ((m: string) => void)[] = [];
      ws.on('message', (d: Buffer) => {
        const m = d.toString('utf8');
        const w = waiting.shift();
        if (w === undefined) {
          messages.push(m);
        } else {
          w(m);
        }
      });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const next = (): Promise<string> => (messages.length > 0 ? Promise.resolve(messages.shift()!) : new Promise((resolve) => waiting.push(resolve)));
      return { ws, messages, next };
    };
    // Another client cannot bind this subscription.
    const stranger = await connect(other);
    stranger.ws.send(`bind ${id}`);
    assert.match(await stranger.next(), /^error .*findes ikke/);
    stranger.ws.close();

    const client = await connect(token);
    client.ws.send(`bind ${id}`);
    assert.equal(await client.next(), `bound ${id}`);
    // The kept notification, then one per new matching write; a non-matching write sends nothing.
    assert.equal((await dispatcher.drain()).delivered, 1);
    assert.equal(await client.next(), `ping ${id}`);
    await create(observation(p, '2571-8'));
    await create(observation(p, '718-7'));
    await create(observation(p, '2571-8'));
    assert.equal((await dispatcher.drain()).delivered, 2);
    assert.equal(await client.next(), `ping ${id}`);
    assert.equal(await client.next(), `ping ${id}`);
    await sleep(50);
    assert.deepEqual(client.messages, []);
    client.ws.close();
    for (let i = 0; i < 200 && subscriptionsOf(t.app).boundSubscriptions().includes(id); i++) {
      await sleep(10);
    }
    // Unbound again: kept, not lost.
    await create(observation(p, '2571-8'));
    assert.equal((await dispatcher.drain()).claimed, 0);
    assert.equal((await t.db.query(`SELECT 1 FROM subscription_outbox WHERE subscription_id = $1 AND status = 'pending'`, [id])).length, 1);
  });

  it('the CapabilityStatement states the channels, the payload and the websocket URL', async () => {
    const res = await t.request('GET', '/fhir/metadata');
    assert.equal(res.status, 200);
    const rest = res.body.rest[0] as { extension?: { url: string; valueUri: string }[]; resource: { type: string; documentation?: string; interaction: { code: string }[] }[] };
    const ws = rest.extension?.find((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/capabilitystatement-websocket');
    assert.match(ws?.valueUri ?? '', /^wss?:\/\/.+\/fhir\/\$subscription-ws$/);
    const sub = rest.resource.find((r) => r.type === 'Subscription')!;
    assert.ok(sub.interaction.some((i) => i.code === 'create'));
    assert.match(sub.documentation ?? '', /rest-hook/);
    assert.match(sub.documentation ?? '', /websocket/);
    assert.match(sub.documentation ?? '', /application\/fhir\+json/);
    assert.match(sub.documentation ?? '', /email, sms og message understøttes ikke/);
  });
});
