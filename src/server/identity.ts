import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { IdentityService } from '../platform/identity/index.ts';

/**
 * Mounts the identity service: the OpenID provider under `/auth` (its own Koa app, called with
 * the raw Node request, whose body Fastify leaves unread), the login pages at the provider's
 * interaction URLs, and the discovery documents.
 */

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'] as const;
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
} as const;
/** Largest body read for the token revocation and introspection endpoints. */
const SMALL_BODY = 64 * 1024;

type RawRequest = IncomingMessage & { originalUrl?: string; dsdAccessToken?: unknown };

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > SMALL_BODY) {
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A copy of the request whose body is `body` (the original stream has been read). */
function withBody(raw: IncomingMessage, body: Buffer): RawRequest {
  const copy = Readable.from([body], { objectMode: false }) as unknown as RawRequest;
  const headers = { ...raw.headers, 'content-length': String(body.length) };
  Object.assign(copy, {
    headers,
    rawHeaders: raw.rawHeaders,
    method: raw.method,
    url: raw.url,
    httpVersion: raw.httpVersion,
    httpVersionMajor: raw.httpVersionMajor,
    httpVersionMinor: raw.httpVersionMinor,
    socket: raw.socket,
    connection: raw.socket,
  });
  return copy;
}

/**
 * Mounts the identity service on the app.
 * @param app - the Fastify app (its root content-type parsers stay as they are)
 * @param identity - the started identity service
 */
export async function mountIdentity(app: FastifyInstance, identity: IdentityService): Promise<void> {
  const { provider } = identity;
  const prefix = new URL(identity.issuer).pathname;
  const base = new URL(identity.baseUrl);
  const revocationPath = `${prefix}/token/revocation`;
  const introspectionPath = `${prefix}/token/introspection`;

  // A JWT access token presented for revocation or introspection: oidc-provider only handles
  // tokens it stores, so the client is authenticated by the provider on a placeholder token and
  // the JWT is revoked (or described) here once that succeeded for the client it was issued to.
  provider.use(async (ctx, next) => {
    await next();
    const claims = (ctx.req as RawRequest).dsdAccessToken as Awaited<ReturnType<IdentityService['decodeOwnToken']>>;
    const oidc = ctx.oidc as KoaContextWithOIDC['oidc'] | undefined;
    if (claims === undefined || oidc === undefined || ctx.status !== 200 || oidc.client?.clientId !== claims.client_id) {
      return;
    }
    if (oidc.route === 'revocation') {
      await identity.revokeAccessToken(claims);
    } else if (oidc.route === 'introspection') {
      try {
        const live = await identity.verifyAccessToken((ctx.req as RawRequest & { dsdRawToken: string }).dsdRawToken);
        ctx.body = { ...live, active: true, token_type: 'Bearer' };
      } catch {
        ctx.body = { active: false };
      }
    }
  });

  // Koa composes the middleware when the callback is made: after every provider.use above.
  const callback = provider.callback();
  const forward = (raw: RawRequest, reply: FastifyReply, innerUrl: string): void => {
    reply.hijack();
    const original = raw.url ?? '/';
    raw.url = innerUrl;
    raw.originalUrl = innerUrl === original.slice(prefix.length) ? original : `${prefix}${innerUrl}`;
    // URLs the provider builds (discovery, redirects) come from the configured public base URL.
    raw.headers['x-forwarded-host'] = base.host;
    raw.headers['x-forwarded-proto'] = base.protocol.slice(0, -1);
    void callback(raw, reply.raw);
  };

  await app.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    // The body is left unread: oidc-provider parses it itself.
    scope.addContentTypeParser('*', (_req, _payload, done) => {
      done(null, undefined);
    });
    const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const raw = req.raw as RawRequest;
      const url = raw.url ?? '/';
      const path = url.split('?')[0] ?? url;
      let target = raw;
      if (req.method === 'POST' && (path === revocationPath || path === introspectionPath)) {
        const body = await readBody(raw);
        if (body === undefined) {
          void reply.status(413).header('content-type', 'application/json').send(JSON.stringify({ error: 'invalid_request', error_description: 'request body too large' }));
          return;
        }
        const form = new URLSearchParams(body.toString('utf8'));
        const token = form.get('token');
        let claims;
        if (token !== null && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
          claims = await identity.decodeOwnToken(token);
          // Our JWTs and foreign JWTs alike: the provider sees an unknown opaque token (answer: 200 / inactive).
          form.set('token', `jwt-${globalThis.crypto.randomUUID()}`);
          form.delete('token_type_hint');
        }
        target = withBody(raw, Buffer.from(form.toString()));
        target.dsdAccessToken = claims;
        Object.assign(target, { dsdRawToken: token });
      }
      if (req.method === 'GET' && path === `${prefix}/auth`) {
        // OpenID Connect drops offline_access unless prompt=consent is asked for; SMART apps ask
        // for offline_access without it, and every login here ends in explicit login and consent.
        // See: https://openid.net/specs/openid-connect-core-1_0.html#OfflineAccess
        const q = new URLSearchParams(url.slice(path.length + 1));
        if ((q.get('scope') ?? '').split(' ').includes('offline_access') && !q.has('prompt')) {
          q.set('prompt', 'consent');
          raw.url = `${path}?${q.toString()}`;
        }
      }
      forward(target, reply, (raw.url ?? url).slice(prefix.length) || '/');
    };
    scope.route({ method: [...METHODS], url: prefix, handler, exposeHeadRoute: false });
    scope.route({ method: [...METHODS], url: `${prefix}/*`, handler, exposeHeadRoute: false });
    // OpenID discovery is also answered at the root (`/.well-known/openid-configuration`).
    scope.get('/.well-known/openid-configuration', (req, reply) => {
      forward(req.raw, reply, '/.well-known/openid-configuration');
    });
    done();
  });

  // The login pages (form posts parsed by the app's urlencoded parser).
  const page = async (req: FastifyRequest<{ Params: { uid: string; step?: string } }>, reply: FastifyReply): Promise<void> => {
    const form = req.method === 'POST' ? (req.body instanceof URLSearchParams ? req.body : new URLSearchParams()) : undefined;
    const result = await identity.login.handle(req.raw, reply.raw, req.params.uid, req.params.step ?? '', form);
    if (result.kind === 'redirect') {
      void reply.status(303).header('cache-control', 'no-store').header('location', result.location).send('');
      return;
    }
    void reply.status(result.status).headers(PAGE_HEADERS).send(result.body);
  };
  app.route({ method: ['GET', 'POST'], url: `${prefix}/interaction/:uid`, handler: page });
  app.route({ method: ['GET', 'POST'], url: `${prefix}/interaction/:uid/:step`, handler: page });

  // SMART App Launch discovery.
  // See: https://build.fhir.org/ig/HL7/smart-app-launch/conformance.html#using-well-known
  const smart = JSON.stringify(identity.smartConfiguration());
  app.get('/fhir/.well-known/smart-configuration', (_req, reply) => {
    void reply.header('content-type', 'application/json').header('access-control-allow-origin', '*').header('cache-control', 'public, max-age=3600').send(smart);
  });
}
