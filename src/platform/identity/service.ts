import { randomBytes, randomUUID } from 'node:crypto';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { JWK, JWTPayload, KeyObject } from 'jose';
import { exportJWK, generateKeyPair, importJWK, jwtVerify } from 'jose';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/load.ts';
import type { Database } from '../../db/index.ts';
import type { AccessTokenClaims } from '../access/principal.ts';
import { OperationOutcomeError } from '../fhir/outcome.ts';
import type { FhirRepository } from '../fhir/repo.ts';
import { ensureDevSystemClient, publicJwk, seedWebClient } from './clients.ts';
import { LoginFlow } from './login.ts';
import { TTL, createProvider } from './provider.ts';
import { deleteExpired, ensureKey, findMaxRevocationSeq, findRevocationsAfter, insertRevocation } from './store.ts';

/**
 * The identity service: the OpenID provider, the login pages and access-token verification.
 * Verification is in memory: tokens verified once are cached until they expire, and revocations
 * are applied at once in this process and picked up from the database every two seconds from
 * other nodes.
 */

/** The running identity service. */
export interface IdentityService {
  /** `${baseUrl}/auth`: the OpenID issuer. */
  readonly issuer: string;
  /** `${baseUrl}/fhir`: the audience of every access token. */
  readonly fhirBase: string;
  readonly baseUrl: string;
  readonly provider: Provider;
  readonly login: LoginFlow;
  /**
   * Verifies a bearer access token: our signature, issuer, audience (the FHIR base), expiry and
   * that neither the token nor its grant is revoked.
   * @param token - the compact JWT
   * @returns the claims
   * @throws OperationOutcomeError with a 401 outcome
   */
  verifyAccessToken(token: string): Promise<AccessTokenClaims>;
  /**
   * Checks signature, issuer and audience only (no expiry or revocation check): used to decide
   * whether a presented token is one of ours (revocation, introspection).
   * @param token - the compact JWT
   * @returns the claims or undefined
   */
  decodeOwnToken(token: string): Promise<AccessTokenClaims | undefined>;
  /**
   * Revokes one access token (by its jti) at once in this process and for every node.
   * @param claims - the token's claims
   */
  revokeAccessToken(claims: AccessTokenClaims): Promise<void>;
  /** @returns the SMART configuration document (`/fhir/.well-known/smart-configuration`) */
  smartConfiguration(): Record<string, unknown>;
  close(): Promise<void>;
}

/** How many verified tokens are kept in memory. */
const CACHE_SIZE = 10_000;
/** How often revocations from other nodes are read. */
const REVOCATION_POLL_MS = 2_000;
/** How often expired rows are deleted. */
const CLEANUP_MS = 10 * 60 * 1000;

/**
 * A 401 outcome (issue code `login`, which getStatus maps to 401).
 * @param text - what is wrong with the credentials
 * @returns the outcome
 */
export function unauthenticated(text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', id: 'unauthenticated', issue: [{ severity: 'error', code: 'login', details: { text } }] };
}

interface CachedToken {
  readonly claims: AccessTokenClaims;
  readonly exp: number;
}

/**
 * Starts the identity service: keys (created on first start and shared by every node through
 * the database), the first-party clients, the provider and the revocation poller.
 * @param opts - database, configuration and an unrestricted repository (for the login lookups)
 * @param opts.db - the database
 * @param opts.config - configuration
 * @param opts.repo - unrestricted FHIR repository
 * @returns the service
 */
export async function initIdentity(opts: { db: Database; config: Config; repo: FhirRepository }): Promise<IdentityService> {
  const { db, config, repo } = opts;
  const baseUrl = config.baseUrl;
  const issuer = `${baseUrl}/auth`;
  const fhirBase = `${baseUrl}/fhir`;

  const signingKey = await ensureKey<JWK>(db, 'signing-es256-1', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };
  });
  const { secret: cookieSecret } = await ensureKey<{ secret: string }>(db, 'cookie-secret-1', () => Promise.resolve({ secret: randomBytes(32).toString('base64url') }));
  const verifyKey = (await importJWK(publicJwk(signingKey), 'ES256')) as KeyObject;

  await seedWebClient(db, baseUrl);
  if (!config.production && !config.dataDir.startsWith('memory://')) {
    await ensureDevSystemClient(db, config.dataDir);
  }

  // Revocations: jti and grant ids, with the time after which they no longer matter.
  const revoked = new Map<string, number>();
  let lastSeq = 0;
  const addRevocation = (key: string, exp: number): void => {
    revoked.set(key, Math.max(exp, revoked.get(key) ?? 0));
    cache.clear();
  };
  const cache = new Map<string, CachedToken>();

  const poll = async (): Promise<void> => {
    const rows = await findRevocationsAfter(db, lastSeq);
    for (const r of rows) {
      lastSeq = Math.max(lastSeq, r.seq);
      addRevocation(`${r.kind}:${r.value}`, r.expiresAt);
    }
    const now = Date.now() / 1000;
    for (const [k, exp] of revoked) {
      if (exp < now) {
        revoked.delete(k);
      }
    }
  };
  await poll();
  lastSeq = Math.max(lastSeq, await findMaxRevocationSeq(db));
  let polling: Promise<void> | undefined;
  const timer = setInterval(() => {
    polling ??= poll()
      .catch(() => undefined)
      .finally(() => {
        polling = undefined;
      });
  }, REVOCATION_POLL_MS);
  timer.unref();
  const cleanup = setInterval(() => {
    deleteExpired(db).catch(() => undefined);
  }, CLEANUP_MS);
  cleanup.unref();

  const onGrantRevoked = (grantId: string): void => {
    const exp = Math.floor(Date.now() / 1000) + TTL.accessToken;
    addRevocation(`grant:${grantId}`, exp);
    insertRevocation(db, 'grant', grantId, exp).catch(() => undefined);
  };

  const provider = createProvider({ db, issuer, fhirBase, signingKey, cookieSecret, production: config.production, onGrantRevoked });
  const login = new LoginFlow({ provider, db, repo, fhirBase, production: config.production });

  const isRevoked = (c: AccessTokenClaims & { dsd_grant?: string }): boolean =>
    revoked.has(`jti:${c.jti}`) || (c.dsd_grant !== undefined && revoked.has(`grant:${c.dsd_grant}`));

  const decode = async (token: string): Promise<AccessTokenClaims> => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, verifyKey, { issuer, audience: fhirBase, algorithms: ['ES256'], typ: 'at+jwt', clockTolerance: 5 }));
    } catch (err) {
      const expired = err instanceof Error && 'code' in err && err.code === 'ERR_JWT_EXPIRED';
      throw new OperationOutcomeError(unauthenticated(expired ? 'The access token has expired; get a new one' : 'The access token is not valid here (signature, issuer or audience)'), err);
    }
    const p = payload as Partial<AccessTokenClaims>;
    if (typeof p.jti !== 'string' || typeof p.sub !== 'string' || typeof p.client_id !== 'string' || typeof p.exp !== 'number' || !['citizen', 'professional', 'system'].includes(String(p.dsd_kind))) {
      throw new OperationOutcomeError(unauthenticated('The access token lacks required claims'));
    }
    return { ...p, scope: typeof p.scope === 'string' ? p.scope : '' } as AccessTokenClaims;
  };

  const service: IdentityService = {
    issuer,
    fhirBase,
    baseUrl,
    provider,
    login,
    async verifyAccessToken(token: string): Promise<AccessTokenClaims> {
      const now = Date.now() / 1000;
      const hit = cache.get(token);
      if (hit !== undefined) {
        if (hit.exp > now && !isRevoked(hit.claims)) {
          return hit.claims;
        }
        cache.delete(token);
      }
      const claims = await decode(token);
      if (isRevoked(claims)) {
        throw new OperationOutcomeError(unauthenticated('The access token has been revoked'));
      }
      if (cache.size >= CACHE_SIZE) {
        // Oldest first: a Map iterates in insertion order.
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) {
          cache.delete(oldest);
        }
      }
      cache.set(token, { claims, exp: claims.exp });
      return claims;
    },
    async decodeOwnToken(token: string): Promise<AccessTokenClaims | undefined> {
      try {
        const { payload } = await jwtVerify(token, verifyKey, { issuer, audience: fhirBase, algorithms: ['ES256'], typ: 'at+jwt', currentDate: new Date(0) });
        return payload as unknown as AccessTokenClaims;
      } catch {
        return undefined;
      }
    },
    async revokeAccessToken(claims: AccessTokenClaims): Promise<void> {
      addRevocation(`jti:${claims.jti}`, claims.exp);
      await insertRevocation(db, 'jti', claims.jti, claims.exp);
    },
    smartConfiguration(): Record<string, unknown> {
      return {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        registration_endpoint: `${issuer}/reg`,
        revocation_endpoint: `${issuer}/token/revocation`,
        introspection_endpoint: `${issuer}/token/introspection`,
        grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
        token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'ES256', 'ES384'],
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        scopes_supported: [
          'openid',
          'fhirUser',
          'profile',
          'launch/patient',
          'offline_access',
          'patient/*.cruds',
          'patient/*.rs',
          'user/*.cruds',
          'user/*.rs',
          'system/*.cruds',
          'system/*.rs',
          'patient/*.read',
          'user/*.read',
          'system/*.read',
        ],
        capabilities: [
          'launch-standalone',
          'client-public',
          'client-confidential-asymmetric',
          'context-standalone-patient',
          'permission-v2',
          'permission-v1',
          'permission-patient',
          'permission-user',
          'permission-offline',
          'sso-openid-connect',
        ],
      };
    },
    async close(): Promise<void> {
      clearInterval(timer);
      clearInterval(cleanup);
      await polling;
    },
  };
  return service;
}
