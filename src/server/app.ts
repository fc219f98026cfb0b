import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify from 'fastify';
import type { OperationDefinition } from '@medplum/fhirtypes';
import type { Config } from '../config/load.ts';
import type { Database } from '../db/index.ts';
import { processBundle } from '../platform/fhir/bundle.ts';
import { buildCapabilityStatement } from '../platform/fhir/capabilities.ts';
import { JsonParseError, parseJson } from '../platform/fhir/json.ts';
import * as everything from '../platform/fhir/operations/patient-everything.ts';
import * as reindex from '../platform/fhir/operations/reindex.ts';
import * as validate from '../platform/fhir/operations/resource-validate.ts';
import {
  OperationOutcomeError,
  badRequest,
  getStatus,
  notAcceptable,
  notFound,
  toOperationOutcome,
  tooLarge,
  unsupportedMediaType,
} from '../platform/fhir/outcome.ts';
import type { FhirPlatform, ResourceValidator } from '../platform/fhir/platform.ts';
import { initFhirPlatform } from '../platform/fhir/platform.ts';
import { FhirRepository } from '../platform/fhir/repo.ts';
import type { FhirRequest, FhirResponse, OperationHandler, RestOptions } from '../platform/fhir/rest.ts';
import { handleRequest } from '../platform/fhir/rest.ts';
import { initIdentity } from '../platform/identity/index.ts';
import {
  CareCommunicationService,
  MessageDispatcher,
  MessagingService,
  careCommunicationOperation,
  careCommunicationThreadsOperation,
  inboxOperation,
  processMessageOperation,
  registerWorkflowEvents,
} from '../platform/messaging/index.ts';
import { mountIdentity } from './identity.ts';
import { mountWeb } from './web.ts';
import type { AccessPolicyOptions } from '../platform/access/policy.ts';
import { AccessPolicy } from '../platform/access/policy.ts';
import { AuditLog } from '../platform/audit/service.ts';
import type { RequestFacts } from '../platform/access/guard.ts';
import { FhirAccess, auditEventCapability, breakGlassOperation, describeInteraction } from './access.ts';
// FHIR Subscriptions (docs/subscriptions.md)
import { WEBSOCKET_PATH, describeSubscriptions } from '../platform/subscriptions/index.ts';
import { mountSubscriptions } from './subscriptions.ts';

/** Optional parts the caller can supply (tests and the CLI share one validator). */
export interface AppDeps {
  readonly validator?: ResourceValidator;
  readonly platform?: FhirPlatform;
  /** Access policy windows (tests shorten them). */
  readonly accessOptions?: AccessPolicyOptions;
  /**
   * Serve /fhir without authentication, access control or audit. Never set by configuration:
   * only an in-process caller can ask for it, to measure what access control costs (bench/).
   */
  readonly withoutAccessControl?: boolean;
  /** Run the MedCom outbox dispatcher in the background (the server does; tests drive their own). */
  readonly messagingDispatcher?: boolean;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const JSON_TYPES = /^application\/(fhir\+json|json|json-patch\+json)\b/;

/**
 * Builds the HTTP application (does not listen).
 * @param config - configuration
 * @param db - the open, migrated database
 * @param deps - optional shared parts
 * @returns the Fastify instance
 */
export async function buildApp(config: Config, db: Database, deps: AppDeps = {}): Promise<FastifyInstance> {
  const platform =
    deps.platform ??
    (await initFhirPlatform({ db, baseUrl: `${config.baseUrl}/fhir`, defaultPageSize: config.defaultPageSize, maxPageSize: config.maxPageSize, searchDriverLimit: config.searchDriverLimit, validator: deps.validator }));
  const repo = new FhirRepository(platform);
  // Workflow events: Encounter changes send the HospitalNotification (docs/messaging.md).
  registerWorkflowEvents(platform);
  const policy = await AccessPolicy.init(platform, deps.accessOptions);
  const audit = new AuditLog(db);
  audit.startRetentionJob();
  const identity = await initIdentity({ db, config, repo });
  const access = new FhirAccess(policy, identity, audit);
  const messaging = new MessagingService(repo);
  const careCommunication = new CareCommunicationService(messaging, repo);
  const dispatcher = deps.messagingDispatcher === true ? new MessageDispatcher(db, { ackTimeoutMs: config.messagingAckTimeoutMs }) : undefined;
  if (dispatcher !== undefined) {
    messaging.onQueued(() => dispatcher.wake());
  }

  // Patient $everything
  // Resource $validate
  // $reindex (system and type level)
  // $process-message (system level, MedCom messaging)
  // Organization $inbox (MedCom messages delivered to an organisation)
  // Organization $care-communication and $care-communication-threads (CareCommunication threads)
  const operationList: [OperationDefinition, OperationHandler][] = [
    [everything.operation, everything.patientEverythingHandler],
    [validate.operation, validate.validateHandler],
    [reindex.operation, reindex.reindexHandler],
    [breakGlassOperation, access.breakGlassHandler()],
    [processMessageOperation, messaging.handler()],
    [inboxOperation, messaging.inboxHandler()],
    [careCommunicationOperation, careCommunication.handler()],
    [careCommunicationThreadsOperation, careCommunication.threadsHandler()],
  ];
  const operations = new Map(operationList.map(([d, h]) => [`$${d.code ?? ''}`, h]));
  let capabilityCache: string | undefined;
  const rest: RestOptions = {
    operations,
    capabilities: () =>
      (capabilityCache ??= JSON.stringify(
        describeSubscriptions(buildCapabilityStatement(platform, operationList.map(([d]) => d), { AuditEvent: auditEventCapability }), `${config.baseUrl.replace(/^http/, 'ws')}/fhir/${WEBSOCKET_PATH}`),
      )),
  };

  const app = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    bodyLimit: config.maxBodyBytes,
    genReqId: () => globalThis.crypto.randomUUID(),
    requestIdHeader: false,
    routerOptions: { maxParamLength: 500 },
    return503OnClosing: true,
    // Errors Fastify raises before routing (e.g. a badly %-encoded path) are answered as outcomes too.
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      const outcome = badRequest(err.code === 'FST_ERR_BAD_URL' ? 'The URL is not validly %-encoded' : 'The request cannot be processed');
      void reply.status(getStatus(outcome)).header('content-type', FHIR_JSON).send(JSON.stringify(outcome));
    },
  });

  // A background VACUUM (ANALYZE) must finish before the caller closes the database.
  app.addHook('onClose', async () => {
    await dispatcher?.close();
    await identity.close();
    await audit.close();
    await platform.stats.idle();
  });
  app.removeAllContentTypeParsers();
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, (req, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      done(new OperationOutcomeError(unsupportedMediaType(`charset=${charset} is not supported; send UTF-8`)), undefined);
      return;
    }
    let text: string;
    try {
      // Invalid UTF-8 is refused rather than silently replaced by U+FFFD.
      text = utf8.decode(body as Buffer);
    } catch {
      done(new OperationOutcomeError(badRequest('The body is not valid UTF-8')), undefined);
      return;
    }
    try {
      done(null, parseJson(text));
    } catch (err) {
      if (err instanceof JsonParseError) {
        done(new OperationOutcomeError(badRequest(`The body is not valid JSON: ${err.message}`)), undefined);
      } else {
        done(err as Error, undefined);
      }
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, new URLSearchParams(body as string));
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, _body, done) => {
    done(new OperationOutcomeError(unsupportedMediaType(`Content-Type "${req.headers['content-type'] ?? ''}" is not supported; send application/fhir+json`)), undefined);
  });

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    let outcome;
    const status = typeof err === 'object' && err !== null && 'statusCode' in err ? Number((err).statusCode) : undefined;
    if (err instanceof OperationOutcomeError) {
      outcome = err.outcome;
    } else if (status === 413) {
      outcome = tooLarge(`The body is larger than ${config.maxBodyBytes} bytes`);
    } else if (status === 415) {
      outcome = unsupportedMediaType('Unsupported Content-Type; send application/fhir+json');
    } else if (status !== undefined && status >= 400 && status < 500) {
      outcome = badRequest(err instanceof Error ? err.message : 'Bad request');
    } else {
      outcome = toOperationOutcome(err, req.id);
      if (getStatus(outcome) >= 500) {
        req.log.error({ err, requestId: req.id }, 'request failed');
      }
    }
    if (getStatus(outcome) === 401) {
      // RFC 6750 section 3: no error code when the request had no credentials at all. Header
      // values are ASCII; the full text is in the OperationOutcome.
      const realm = `Bearer realm="${config.baseUrl}/fhir"`;
      const text = (outcome.issue?.[0]?.details?.text ?? '').replace(/…/g, '...').replace(/[^\x20-\x7e]|["\\]/g, "'");
      void reply.header('www-authenticate', req.headers.authorization === undefined ? realm : `${realm}, error="invalid_token", error_description="${text}"`);
    }
    void reply.status(getStatus(outcome)).header('content-type', FHIR_JSON).send(JSON.stringify(outcome));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).header('content-type', FHIR_JSON).send(JSON.stringify(notFound(`Nothing at ${req.method} ${req.url.split('?')[0] ?? ''}`)));
  });
  app.addHook('onSend', (req, reply, payload, done) => {
    void reply.header('x-request-id', req.id);
    done(null, payload);
  });

  dispatcher?.start();

  app.get('/healthz', (_req, reply) => {
    void reply.send({ status: 'ok', database: db.dialect });
  });

  // FHIR Subscriptions: after-write hook, dispatcher (with the MedCom one), websocket channel.
  await mountSubscriptions(app, repo, policy, access, deps.messagingDispatcher === true);

  // Identity service (OAuth 2.0 / OpenID Connect / SMART App Launch), see docs/identity.md.
  await mountIdentity(app, identity);

  // The web front end (MinSundhed, Sundhedsjournalen) at / and /app/…, see docs/web.md.
  mountWeb(app, { baseUrl: config.baseUrl });

  const fhirHandler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const rawUrl = req.raw.url ?? '/';
    const qIndex = rawUrl.indexOf('?');
    const rawPath = (qIndex === -1 ? rawUrl : rawUrl.slice(0, qIndex)).replace(/^\/fhir\/?/, '').replace(/\/$/, '');
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      throw new OperationOutcomeError(badRequest('The URL path is not validly encoded'));
    }
    if (/[\u0000-\u001f]/.test(path)) {
      throw new OperationOutcomeError(badRequest('The URL path contains control characters'));
    }
    let query: [string, string][];
    try {
      query = qIndex === -1 ? [] : [...new URLSearchParams(rawUrl.slice(qIndex + 1))];
    } catch {
      throw new OperationOutcomeError(badRequest('The query string is not validly encoded'));
    }
    if (query.some(([k, v]) => /[\u0000]/.test(k) || /[\u0000]/.test(v))) {
      throw new OperationOutcomeError(badRequest('The query string contains a NUL character'));
    }
    negotiate(req, query);
    const header = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    let body: unknown = req.body;
    if (body instanceof URLSearchParams) {
      // POST [type]/_search with a form body: its parameters join the query.
      query = [...query, ...body];
      body = undefined;
    }
    const method = req.method.toUpperCase();
    if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && body === undefined && !path.endsWith('_search') && !/\$[a-z-]+$/.test(path)) {
      throw new OperationOutcomeError(badRequest(`${method} needs a JSON body (Content-Type: application/fhir+json)`));
    }
    if (method === 'PATCH' && !/^application\/json-patch\+json/.test(header('content-type') ?? '')) {
      throw new OperationOutcomeError(unsupportedMediaType('PATCH takes a JSON Patch document (Content-Type: application/json-patch+json)'));
    }
    const fhirReq: FhirRequest = {
      method,
      path,
      query,
      body,
      ifMatch: header('if-match'),
      ifNoneExist: header('if-none-exist'),
      ifNoneMatch: header('if-none-match'),
      ifModifiedSince: header('if-modified-since'),
      prefer: header('prefer'),
    };
    if ((method === 'GET' || method === 'HEAD') && path === 'metadata') {
      // The CapabilityStatement is public: clients read it before they log in.
      send(reply, await handleRequest(repo, fhirReq, rest), method === 'HEAD');
      return;
    }
    // A Bundle POSTed to the base, or one interaction.
    const dispatch = async (r: FhirRepository): Promise<FhirResponse> =>
      path === '' && method === 'POST' ? { status: 200, body: await processBundle(r, body, rest, fhirReq.prefer) } : handleRequest(r, fhirReq, rest);
    if (deps.withoutAccessControl === true) {
      send(reply, await dispatch(repo), method === 'HEAD');
      return;
    }
    const facts: RequestFacts = {
      ...describeInteraction(method, path, body),
      query: query.length === 0 ? undefined : new URLSearchParams(query.filter(([k]) => k !== '_format')).toString(),
      requestId: req.id,
      sourceAddress: req.ip,
    };
    let principal;
    try {
      principal = await access.authenticate(req);
    } catch (err) {
      await access.recordRefused(facts, err instanceof OperationOutcomeError ? (err.outcome.issue?.[0]?.details?.text ?? 'refused') : 'refused');
      throw err;
    }
    const guard = access.guard(principal, facts);
    // Reading the audit trail is an access to patient data too, and is recorded like any other.
    const trail = path === 'AuditEvent' || path.startsWith('AuditEvent/');
    let res: FhirResponse;
    try {
      res = trail ? await access.auditRequest(principal, guard, method, path, query) : await dispatch(repo.withAccess(guard));
    } catch (err) {
      const outcome = err instanceof OperationOutcomeError ? err.outcome : undefined;
      await guard.finish(outcome === undefined ? 500 : getStatus(outcome), outcome?.issue?.[0]?.details?.text ?? 'server error');
      throw err;
    }
    // No data leaves without its audit record: if it cannot be written, the request fails.
    await guard.finish(res.status);
    send(reply, res, method === 'HEAD');
  };
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/fhir', handler: fhirHandler, exposeHeadRoute: false });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/fhir/*', handler: fhirHandler, exposeHeadRoute: false });
  return app;
}

function negotiate(req: FastifyRequest, query: readonly (readonly [string, string])[]): void {
  const format = query.find(([k]) => k === '_format')?.[1];
  if (format !== undefined && !['json', 'application/json', 'application/fhir+json', 'application/json+fhir'].includes(format)) {
    throw new OperationOutcomeError(notAcceptable(`_format=${format} is not supported; this server speaks application/fhir+json`));
  }
  const accept = req.headers.accept;
  if (format === undefined && accept !== undefined && accept !== '' && !/(\*\/\*|application\/\*|json)/.test(accept)) {
    throw new OperationOutcomeError(notAcceptable(`Accept "${accept}" cannot be satisfied; this server speaks application/fhir+json`));
  }
}

function send(reply: FastifyReply, res: FhirResponse, head: boolean): void {
  void reply.status(res.status).header('content-type', FHIR_JSON);
  if (res.etag !== undefined) {
    void reply.header('etag', res.etag);
  }
  if (res.lastModified !== undefined) {
    void reply.header('last-modified', res.lastModified);
  }
  if (res.location !== undefined) {
    void reply.header('location', res.location);
    void reply.header('content-location', res.location);
  }
  void reply.send(head || res.body === undefined ? '' : res.body);
}
