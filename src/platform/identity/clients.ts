import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JWK } from 'jose';
import { SignJWT, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { Queryable } from '../../db/index.ts';
import type { DsdClientMetadata } from './provider.ts';
import { ClientKind, ScopeError, grantableScopes, splitScopes } from './scopes.ts';
import { findClient, upsertClient } from './store.ts';

/**
 * Clients the platform registers itself: backend (system) clients registered by an operator,
 * the first-party web front end, and the development backend client whose key lives in the data
 * directory. Third-party apps register themselves (RFC 7591) through the provider.
 */

/** The first-party web front end (public client, PKCE). */
export const WEB_CLIENT_ID = 'dsd-web';
/** The development backend client used by `dsd token --dev-system`. */
export const DEV_SYSTEM_CLIENT_ID = 'dsd-dev-system';
/** File (in the data directory) holding the development backend client's private key. */
export const DEV_SYSTEM_KEY_FILE = 'dev-system-client.jwk.json';
/** Scopes of the development backend client. */
export const DEV_SYSTEM_SCOPE = 'system/*.cruds';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * The public part of a JWK.
 * @param jwk - a public or private JWK
 * @returns the public JWK
 */
export function publicJwk(jwk: JWK): JWK {
  const out: Record<string, unknown> = { ...jwk };
  for (const m of PRIVATE_MEMBERS) {
    delete out[m];
  }
  return out;
}

/** What an operator registers for a backend client. */
export interface BackendClientInput {
  readonly clientId: string;
  /** Public keys (a JWKS); private members are dropped. */
  readonly jwks: { readonly keys: readonly JWK[] };
  /** Space-separated system/ scopes the client may ever get. */
  readonly scope: string;
  readonly name?: string;
}

/**
 * Registers (or replaces) a backend client for SMART Backend Services (client_credentials with
 * private_key_jwt). This is what `dsd client add` runs.
 * @param db - database
 * @param input - id, keys and scopes
 * @returns the stored metadata
 */
export async function registerBackendClient(db: Queryable, input: BackendClientInput): Promise<DsdClientMetadata & { client_id: string }> {
  if (!/^[A-Za-z0-9._~-]{1,100}$/.test(input.clientId)) {
    throw new Error(`client id "${input.clientId}" must be 1–100 characters of letters, digits and . _ ~ -`);
  }
  const scopes = splitScopes(input.scope);
  if (scopes.length === 0) {
    throw new Error('give at least one system/ scope, e.g. "system/Observation.rs"');
  }
  try {
    grantableScopes(scopes, ClientKind.system, undefined);
  } catch (err) {
    throw new Error(err instanceof ScopeError ? err.message : 'invalid scope', { cause: err });
  }
  if (input.jwks.keys.length === 0) {
    throw new Error('the JWKS has no keys');
  }
  const metadata = {
    client_id: input.clientId,
    client_name: input.name ?? input.clientId,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: input.jwks.keys.map(publicJwk) },
    dsd_scope: scopes.join(' '),
  };
  await upsertClient(db, metadata as unknown as Parameters<typeof upsertClient>[1]);
  return metadata as DsdClientMetadata & { client_id: string };
}

/**
 * Seeds (or updates) the first-party web client with redirect URIs under the base URL.
 * @param db - database
 * @param baseUrl - the public base URL
 */
export async function seedWebClient(db: Queryable, baseUrl: string): Promise<void> {
  await upsertClient(db, {
    client_id: WEB_CLIENT_ID,
    client_name: 'Digital Sundhed Danmark',
    application_type: 'web',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    redirect_uris: [`${baseUrl}/callback`, `${baseUrl}/app/callback`],
    post_logout_redirect_uris: [`${baseUrl}/`],
    dsd_first_party: true,
  } as unknown as Parameters<typeof upsertClient>[1]);
}

/** A private signing key for client assertions. */
export interface ClientKey {
  readonly clientId: string;
  readonly jwk: JWK;
}

/**
 * Generates an ES384 key pair for a backend client.
 * @returns the private JWK (with kid and alg)
 */
export async function generateClientKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES384', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES384', use: 'sig' };
}

/**
 * Makes sure the development backend client exists and its private key is in the data
 * directory (development only; the caller refuses in production).
 * @param db - database
 * @param dataDir - the data directory
 * @returns the key file path
 */
export async function ensureDevSystemClient(db: Queryable, dataDir: string): Promise<string> {
  const file = path.join(dataDir, DEV_SYSTEM_KEY_FILE);
  let key: ClientKey | undefined;
  try {
    key = JSON.parse(readFileSync(file, 'utf8')) as ClientKey;
  } catch {
    key = undefined;
  }
  const registered = await findClient(db, DEV_SYSTEM_CLIENT_ID);
  const registeredKid = (registered?.jwks as { keys?: { kid?: string }[] } | undefined)?.keys?.[0]?.kid;
  if (key === undefined || registeredKid !== key.jwk.kid) {
    key ??= { clientId: DEV_SYSTEM_CLIENT_ID, jwk: await generateClientKey() };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600 });
    await registerBackendClient(db, { clientId: DEV_SYSTEM_CLIENT_ID, jwks: { keys: [key.jwk] }, scope: DEV_SYSTEM_SCOPE, name: 'Development backend client' });
  }
  return file;
}

/**
 * Signs a SMART Backend Services client assertion.
 * See: https://build.fhir.org/ig/HL7/smart-app-launch/backend-services.html#step-3-authenticate-with-the-authorization-server
 * @param clientId - iss and sub
 * @param jwk - the client's private key
 * @param tokenUrl - aud
 * @param lifetime - seconds until exp (at most 300 is accepted)
 * @returns the compact JWT
 */
export async function signClientAssertion(clientId: string, jwk: JWK, tokenUrl: string, lifetime = 240): Promise<string> {
  const alg = jwk.alg ?? (jwk.crv === 'P-256' ? 'ES256' : jwk.crv === 'P-384' ? 'ES384' : 'RS384');
  const key = await importJWK(jwk, alg);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg, typ: 'JWT', ...(jwk.kid === undefined ? {} : { kid: jwk.kid }) })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetime)
    .sign(key);
}

/**
 * Requests a token with client_credentials and a signed assertion (what `dsd token` does).
 * @param tokenUrl - the token endpoint
 * @param clientId - the client
 * @param jwk - its private key
 * @param scope - requested scopes
 * @param fetcher - fetch (tests pass one that goes through Fastify inject)
 * @returns the token response
 */
export async function clientCredentialsToken(
  tokenUrl: string,
  clientId: string,
  jwk: JWK,
  scope: string,
  fetcher: typeof fetch = fetch,
): Promise<{ access_token: string; token_type: string; expires_in: number; scope?: string }> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await signClientAssertion(clientId, jwk, tokenUrl),
  });
  const res = await fetcher(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok || typeof json.access_token !== 'string') {
    throw new Error(`token request failed (${res.status}): ${JSON.stringify(json)}`);
  }
  return json as { access_token: string; token_type: string; expires_in: number; scope?: string };
}
