import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessPolicy } from '../platform/access/policy.ts';
import type { Principal } from '../platform/access/principal.ts';
import { OperationOutcomeError } from '../platform/fhir/outcome.ts';
import type { FhirRepository } from '../platform/fhir/repo.ts';
import type { NotificationSocket } from '../platform/subscriptions/index.ts';
import { SubscriptionDispatcher, SubscriptionService, WEBSOCKET_PATH } from '../platform/subscriptions/index.ts';
import type { FhirAccess } from './access.ts';

/**
 * Wires FHIR Subscriptions into the server (docs/subscriptions.md): the after-write hook, the
 * background dispatcher, and the R4 websocket channel at `/fhir/$subscription-ws`.
 */

/** One service per FHIR platform, so an app built twice on one platform registers one hook. */
const byPlatform = new WeakMap<object, SubscriptionService>();
const byApp = new WeakMap<FastifyInstance, SubscriptionService>();

/**
 * The app's subscription service (tests drive their own dispatchers with it).
 * @param app - the app
 * @returns its service
 */
export function subscriptionsOf(app: FastifyInstance): SubscriptionService {
  const s = byApp.get(app);
  if (s === undefined) {
    throw new Error('The app was built without subscriptions');
  }
  return s;
}

/**
 * Registers the hook, the websocket endpoint and, when asked, the background dispatcher.
 * @param app - the app
 * @param repo - the unrestricted repository
 * @param policy - the access policy (owners' access when matching)
 * @param access - authenticates websocket connections
 * @param runDispatcher - deliver in the background (the server does; tests drive their own)
 */
export async function mountSubscriptions(app: FastifyInstance, repo: FhirRepository, policy: AccessPolicy, access: FhirAccess, runDispatcher: boolean): Promise<void> {
  let service = byPlatform.get(repo.platform);
  if (service === undefined) {
    service = new SubscriptionService(repo, policy);
    byPlatform.set(repo.platform, service);
    repo.platform.addWriteHook(service.writeHook);
  }
  byApp.set(app, service);
  service.auditDisclosuresWith((d) => access.recordDisclosure(d));
  const subs = service;
  const dispatcher = runDispatcher ? new SubscriptionDispatcher(subs) : undefined;
  app.addHook('onClose', async () => {
    await dispatcher?.close();
  });
  dispatcher?.start();

  await app.register(websocket, { options: { maxPayload: 4_096 } });
  const principals = new WeakMap<FastifyRequest, Principal>();
  // R4 websocket channel: the client sends `bind <id>`, the server answers `bound <id>` and then
  // sends `ping <id>` for each notification. See: https://hl7.org/fhir/R4/subscription.html#2.46.7.2
  app.route({
    method: 'GET',
    url: `/fhir/${WEBSOCKET_PATH}`,
    // The upgrade request carries the client's bearer token; without a valid one, no upgrade (401).
    preValidation: async (req) => {
      principals.set(req, await access.authenticate(req));
    },
    handler: (_req, reply) => {
      void reply.status(426).header('upgrade', 'websocket').send({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported', details: { text: 'Brug en WebSocket-forbindelse' } }] });
    },
    wsHandler: (socket, req) => {
      const principal = principals.get(req);
      const peer: NotificationSocket = {
        send: (text) => {
          // A closing connection takes no ping: the notification stays in the outbox.
          if (socket.readyState !== socket.OPEN) {
            throw new Error('the connection is closing');
          }
          socket.send(text);
        },
      };
      socket.on('message', (data: Buffer) => {
        const text = data.toString('utf8').trim();
        const m = /^bind\s+([A-Za-z0-9\-.]{1,64})$/.exec(text);
        if (m === null || principal === undefined) {
          socket.send('error forventede "bind <Subscription id>"');
          return;
        }
        const id = m[1]!;
        subs.bind(peer, id, principal).then(
          () => socket.send(`bound ${id}`),
          (err: unknown) => socket.send(`error ${err instanceof OperationOutcomeError ? (err.outcome.issue?.[0]?.details?.text ?? 'afvist') : 'afvist'}`),
        );
      });
      socket.on('close', () => subs.unbind(peer));
    },
  });
}
