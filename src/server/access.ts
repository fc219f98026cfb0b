import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Queryable } from '../db/index.ts';
import type { AuditEvent, Bundle, CapabilityStatementRestResource, OperationDefinition, Parameters } from '@medplum/fhirtypes';
import type { AccessAuditEvent, AuditSink, RequestFacts } from '../platform/access/guard.ts';
import { RequestGuard } from '../platform/access/guard.ts';
import type { AccessPolicy } from '../platform/access/policy.ts';
import { BREAK_GLASS_REASONS } from '../platform/access/policy.ts';
import type { AccessTokenClaims, Principal } from '../platform/access/principal.ts';
import type { AuditInput, AuditInteraction, AuditLog } from '../platform/audit/service.ts';
import { OperationOutcomeError, badRequest, forbidden, notFound, notSupported, unauthorized } from '../platform/fhir/outcome.ts';
import type { FhirResponse, OperationHandler } from '../platform/fhir/rest.ts';
import type { NotificationDisclosure } from '../platform/subscriptions/index.ts';

/**
 * The FHIR API's front door: bearer token → principal → per-request guard, the audit record of
 * every access (including refused ones), Min Log (`GET /fhir/AuditEvent`) and the værdispring
 * operations. The decisions themselves live in platform/access.
 */

/** Verifies bearer tokens (the identity service). */
export interface TokenVerifier {
  verifyAccessToken(token: string): Promise<AccessTokenClaims>;
}

/**
 * Names the FHIR interaction of a request, for the audit trail.
 * @param method - HTTP method
 * @param path - path below /fhir
 * @param body - the parsed body (to tell a batch from a transaction)
 * @returns interaction and action
 */
export function describeInteraction(method: string, path: string, body: unknown): { interaction: AuditInteraction; action: AccessAuditEvent['action'] } {
  const parts = path === '' ? [] : path.split('/');
  const last = parts[parts.length - 1] ?? '';
  if (last.startsWith('$')) {
    return { interaction: 'operation', action: 'E' };
  }
  if (parts.includes('_history')) {
    const at = parts.indexOf('_history');
    if (at === 2 && parts.length === 4) {
      return { interaction: 'vread', action: 'R' };
    }
    return { interaction: at === 0 ? 'history-system' : at === 1 ? 'history-type' : 'history-instance', action: 'R' };
  }
  if (parts.length === 0) {
    if (method === 'POST') {
      const type = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined;
      return { interaction: type === 'batch' ? 'batch' : 'transaction', action: 'E' };
    }
    return { interaction: 'search-system', action: 'R' };
  }
  if (parts.length === 1 || last === '_search') {
    if (method === 'POST' && last !== '_search') {
      return { interaction: 'create', action: 'C' };
    }
    if (method === 'PUT') {
      return { interaction: 'update', action: 'U' };
    }
    if (method === 'DELETE') {
      return { interaction: 'delete', action: 'D' };
    }
    return { interaction: 'search-type', action: 'R' };
  }
  switch (method) {
    case 'PUT':
      return { interaction: 'update', action: 'U' };
    case 'PATCH':
      return { interaction: 'patch', action: 'U' };
    case 'DELETE':
      return { interaction: 'delete', action: 'D' };
    default:
      return { interaction: 'read', action: 'R' };
  }
}

/**
 * Adapts access events to the audit log's input.
 * @param audit - the audit log
 * @returns the sink guards write to
 */
export function auditSink(audit: AuditLog): AuditSink {
  return {
    async record(e, q): Promise<void> {
      await audit.record(toAuditInput(e), q);
    },
  };
}

function toAuditInput(e: AccessAuditEvent): AuditInput {
  const p = e.principal;
  return {
    action: e.action,
    interaction: e.interaction as AuditInteraction,
    outcome: e.outcome,
    ...(e.outcomeText === undefined ? {} : { outcomeText: e.outcomeText }),
    agent:
      p === undefined
        ? { kind: 'anonymous' }
        : {
            kind: p.kind,
            ref: p.actorRef,
            name: p.displayName,
            identifier: p.claims.dsd_authorisation_id ?? p.claims.sub,
            ...(p.organizationRef === undefined ? {} : { organizationRef: p.organizationRef }),
            ...(p.organizationName === undefined ? {} : { organizationName: p.organizationName }),
            clientId: p.claims.client_id,
            tokenJti: p.claims.jti,
          },
    purpose: e.breakGlass ? 'BTG' : 'TREAT',
    breakGlass: e.breakGlass,
    requestId: e.requestId,
    ...(e.sourceAddress === undefined ? {} : { sourceAddress: e.sourceAddress }),
    patientIds: e.patients,
    resourceRefs: e.resources,
    ...(e.query === undefined ? {} : { query: e.query }),
  };
}

/**
 * What `/fhir/AuditEvent` serves (it is the audit trail, not stored data): read and search by
 * patient, date and agent, newest first. The CapabilityStatement's AuditEvent entry.
 */
export const auditEventCapability: Partial<CapabilityStatementRestResource> = {
  interaction: [{ code: 'read' }, { code: 'search-type' }],
  versioning: 'no-version',
  readHistory: false,
  updateCreate: false,
  conditionalCreate: false,
  conditionalUpdate: false,
  conditionalDelete: 'not-supported',
  searchInclude: [],
  searchRevInclude: [],
  searchParam: [
    { name: 'patient', definition: 'http://hl7.org/fhir/SearchParameter/AuditEvent-patient', type: 'reference' },
    { name: 'date', definition: 'http://hl7.org/fhir/SearchParameter/AuditEvent-date', type: 'date' },
    { name: 'agent', definition: 'http://hl7.org/fhir/SearchParameter/AuditEvent-agent', type: 'reference' },
  ],
  operation: [],
};

/** `Patient/{id}/$vaerdispring`: værdispring (break-the-glass) for one patient. */
export const breakGlassOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Patient-vaerdispring',
  url: 'https://dsd.dk/fhir/OperationDefinition/Patient-vaerdispring',
  name: 'vaerdispring',
  title: 'Værdispring (break-the-glass)',
  status: 'active',
  kind: 'operation',
  code: 'vaerdispring',
  description:
    'A health professional lifts a citizen\'s blocks (spærring) for a limited time, stating a reason: the citizen consents, or the citizen cannot be contacted. The access is logged with a break-glass marker, shown to the citizen and raised to monitoring. GET answers which blocks hide data from the caller.',
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'reason', use: 'in', min: 1, max: '1', type: 'code' },
    { name: 'reasonText', use: 'in', min: 1, max: '1', type: 'string' },
    { name: 'minutes', use: 'in', min: 0, max: '1', type: 'integer' },
    { name: 'blocked', use: 'out', min: 1, max: '1', type: 'boolean' },
    { name: 'expires', use: 'out', min: 0, max: '1', type: 'instant' },
  ],
};

/** How many principals the front door keeps (one per live token in use). */
const PRINCIPAL_CACHE_SIZE = 10_000;

/** The front door's state, shared by all requests. */
export class FhirAccess {
  readonly policy: AccessPolicy;
  readonly audit: AuditLog;
  private readonly verifier: TokenVerifier;
  private readonly sink: AuditSink;
  /** Principals by token id (jti). */
  private readonly principals = new Map<string, Principal>();

  constructor(policy: AccessPolicy, verifier: TokenVerifier, audit: AuditLog) {
    this.policy = policy;
    this.verifier = verifier;
    this.audit = audit;
    this.sink = auditSink(audit);
  }

  /**
   * Verifies the bearer token and builds the principal.
   * @param req - the request
   * @returns the principal
   */
  async authenticate(req: FastifyRequest): Promise<Principal> {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header) : null;
    if (m === null) {
      throw new OperationOutcomeError(unauthorized(header === undefined ? 'Log in first: send an access token (Authorization: Bearer …) from /auth' : 'The Authorization header must be "Bearer <access token>"'));
    }
    // Verified on every request (expiry and revocation); the principal built from the same
    // verified claims is reused, as long as the token lives.
    const claims = await this.verifier.verifyAccessToken(m[1]!);
    const cached = this.principals.get(claims.jti);
    if (cached !== undefined) {
      return cached;
    }
    const principal = await this.policy.principal(claims);
    if (this.principals.size >= PRINCIPAL_CACHE_SIZE) {
      const oldest = this.principals.keys().next().value;
      if (oldest !== undefined) {
        this.principals.delete(oldest);
      }
    }
    this.principals.set(claims.jti, principal);
    return principal;
  }

  /**
   * @param principal - the caller
   * @param facts - what the request is
   * @returns the request's guard
   */
  guard(principal: Principal, facts: RequestFacts): RequestGuard {
    return new RequestGuard(this.policy, principal, this.sink, facts);
  }

  /**
   * Records a resource that a Subscription notification sent to its owner's endpoint.
   * @param d - the disclosure
   */
  async recordDisclosure(d: NotificationDisclosure): Promise<void> {
    await this.sink.record({
      interaction: 'notification',
      action: 'R',
      outcome: d.delivered ? 0 : 4,
      ...(d.outcomeText === undefined ? {} : { outcomeText: d.outcomeText }),
      principal: d.owner,
      patients: d.patients,
      resources: [d.resource, `Subscription/${d.subscriptionId}`],
      query: undefined,
      requestId: randomUUID(),
      sourceAddress: undefined,
      breakGlass: false,
    });
  }

  /**
   * Records an access refused before a principal was known (no or bad token).
   * @param facts - what the request was
   * @param text - why it was refused
   */
  async recordRefused(facts: RequestFacts, text: string): Promise<void> {
    await this.sink.record({ ...facts, outcome: 4, outcomeText: text, principal: undefined, patients: [], resources: [], breakGlass: false });
  }

  /**
   * `GET /fhir/AuditEvent…`: Min Log for citizens (their own and those they act for), the full
   * trail for system clients granted AuditEvent; nobody writes audit records through the API.
   * The guard notes whose log was asked for and the patients of every event returned, so the
   * caller's record of this look-up names them (a citizen's own look-up stays out of Min Log).
   * @param principal - the caller
   * @param guard - the request's guard
   * @param method - HTTP method
   * @param path - path below /fhir
   * @param query - query pairs
   * @returns the response
   */
  async auditRequest(principal: Principal, guard: RequestGuard, method: string, path: string, query: readonly (readonly [string, string])[]): Promise<FhirResponse> {
    const asked = query.find(([k]) => k === 'patient')?.[1]?.replace(/^Patient\//, '');
    if (asked !== undefined && /^[A-Za-z0-9\-.]{1,64}$/.test(asked)) {
      guard.touched('Patient', asked, [`Patient/${asked}`]);
    }
    const disclosed = <T extends Bundle<AuditEvent> | AuditEvent>(out: T): T => {
      const events: (AuditEvent | undefined)[] = out.resourceType === 'Bundle' ? (out.entry ?? []).map((e) => e.resource) : [out];
      for (const ev of events) {
        if (ev?.id !== undefined) {
          guard.touched('AuditEvent', ev.id, (ev.entity ?? []).map((e) => e.what?.reference ?? '').filter((r) => r.startsWith('Patient/')));
        }
      }
      return out;
    };
    if (method !== 'GET' && method !== 'HEAD' && !(method === 'POST' && path === 'AuditEvent/_search')) {
      throw new OperationOutcomeError(notSupported('Audit records are written by the platform itself; they cannot be created, changed or deleted'));
    }
    const baseUrl = this.policy.platform.baseUrl;
    if (principal.kind === 'citizen') {
      const patient = query.find(([k]) => k === 'patient')?.[1];
      const id = patient?.replace(/^Patient\//, '');
      if (path !== 'AuditEvent' && path !== 'AuditEvent/_search') {
        throw new OperationOutcomeError(notFound('Read your log with GET /fhir/AuditEvent?patient=Patient/<id>'));
      }
      if (id === undefined || !principal.patientIds.includes(id)) {
        throw new OperationOutcomeError(forbidden('You can read the log (Min Log) of yourself and of those you act for: give patient=Patient/<id>'));
      }
      if (!principal.scopes.some((s) => (s.resourceType === '*' || s.resourceType === 'AuditEvent') && (s.ops.has('s') || s.ops.has('r')))) {
        throw new OperationOutcomeError(forbidden('The token\'s scopes do not allow reading AuditEvent'));
      }
      const bundle = await this.audit.searchByParams(query.map(([k, v]) => [k, k === 'patient' ? `Patient/${id}` : v] as const), { baseUrl, viewer: 'citizen' });
      return { status: 200, body: JSON.stringify(disclosed(bundle)) };
    }
    if (principal.kind === 'system' && principal.scopes.some((s) => (s.resourceType === '*' || s.resourceType === 'AuditEvent') && s.ops.has('r'))) {
      const m = /^AuditEvent\/([A-Za-z0-9-]{1,64})$/.exec(path);
      if (m !== null) {
        const ev = await this.audit.read(m[1]!);
        if (ev === undefined) {
          throw new OperationOutcomeError(notFound(`AuditEvent/${m[1]!} was not found`));
        }
        return { status: 200, body: JSON.stringify(disclosed(ev)) };
      }
      return { status: 200, body: JSON.stringify(disclosed(await this.audit.searchByParams(query, { baseUrl, viewer: 'operator' }))) };
    }
    throw new OperationOutcomeError(forbidden('The audit trail is read by the citizen it concerns (Min Log) and by the platform\'s log review'));
  }

  /** @returns the handler of `Patient/{id}/$vaerdispring` (POST starts, GET checks) */
  breakGlassHandler(): OperationHandler {
    return async ({ repo, id, params, req, q }): Promise<FhirResponse> => {
      const guard = repo.access;
      if (!(guard instanceof RequestGuard) || guard.principal.kind !== 'professional' || id === undefined) {
        throw new OperationOutcomeError(forbidden('Værdispring is for authorised health professionals, on a patient: POST /fhir/Patient/{id}/$vaerdispring'));
      }
      const principal = guard.principal;
      if (!(await this.policy.patientExists(id, q))) {
        throw new OperationOutcomeError(notFound(`Patient/${id} was not found`));
      }
      if (req.method === 'GET') {
        const blocks = await this.policy.blocksFor(principal, id, q);
        const out: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'blocked', valueBoolean: blocks.length > 0 }, ...blocks.map((b) => ({ name: 'kind', valueCode: b }))] };
        return { status: 200, body: JSON.stringify(out) };
      }
      const one = (name: string): string | undefined => {
        const v = params[name]?.[0];
        return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
      };
      const reason = one('reason');
      const reasonText = one('reasonText');
      if (reason === undefined || !(reason in BREAK_GLASS_REASONS) || reasonText === undefined) {
        throw new OperationOutcomeError(badRequest(`Give reason (${Object.keys(BREAK_GLASS_REASONS).join(' or ')}) and reasonText (why, in your own words)`));
      }
      const minutes = one('minutes') === undefined ? this.policy.options.breakGlassMinutes : Number(one('minutes'));
      guard.retitle('break-glass', 'E');
      const start = async (tx: Queryable): Promise<Awaited<ReturnType<AccessPolicy['startBreakGlass']>>> => {
        const row = await this.policy.startBreakGlass(principal, tx, id, reason, reasonText, minutes);
        guard.touched('Patient', id, [`Patient/${id}`]);
        return row;
      };
      // Inside a Bundle the entry shares the Bundle's transaction.
      const grant = q === undefined ? await repo.transaction(start) : await start(q);
      const out: Parameters = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'blocked', valueBoolean: false },
          { name: 'expires', valueInstant: grant.expires.toISOString() },
          { name: 'reason', valueCode: grant.reason },
        ],
      };
      return { status: 200, body: JSON.stringify(out) };
    };
  }
}
