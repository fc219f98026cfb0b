import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { JWK } from 'jose';
import { clientCredentialsToken, generateClientKey, registerBackendClient } from '../src/platform/identity/index.ts';
import type { TestApp } from './support.ts';

/**
 * Test helpers that obtain real tokens through the real flows: SMART Backend Services
 * (client_credentials with a signed assertion), and authorization code + PKCE through the
 * login pages (form posts) and the token endpoint. Requests go through Fastify inject.
 */

/** The public base URL the test configuration uses. */
const BASE = 'http://localhost';
export const FHIR_BASE = `${BASE}/fhir`;
export const TOKEN_URL = `${BASE}/auth/token`;
export const WEB_REDIRECT = `${BASE}/callback`;

/**
 * A fetch that goes through the app (no socket), for clients that take a custom fetch.
 * @param app - the Fastify app
 * @returns a fetch function
 */
export function injectFetch(app: FastifyInstance): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req = input instanceof Request ? input : new Request(input, init);
    const url = new URL(req.url);
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.from(await req.arrayBuffer());
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => {
      headers[k] = v;
    });
    const res = await app.inject({ method: req.method as 'GET', url: url.pathname + url.search, headers, ...(body === undefined || body.length === 0 ? {} : { payload: body }) });
    const out = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      for (const one of Array.isArray(v) ? v : v === undefined ? [] : [String(v)]) {
        out.append(k, one);
      }
    }
    const nullBody = res.statusCode === 204 || res.statusCode === 304 || req.method === 'HEAD';
    return new Response(nullBody ? null : res.rawPayload, { status: res.statusCode, headers: out });
  };
}

/** A browser stand-in: a cookie jar and requests through inject. */
export class Browser {
  readonly cookies = new Map<string, string>();
  private readonly app: FastifyInstance;

  constructor(app: FastifyInstance) {
    this.app = app;
  }

  /**
   * Sends one request (no redirects followed).
   * @param method - GET or POST
   * @param url - absolute or path
   * @param form - form fields for POST
   * @returns status, location and body
   */
  async send(method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<{ status: number; location: string | undefined; body: string }> {
    const u = new URL(url, BASE);
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await this.app.inject({
      method,
      url: u.pathname + u.search,
      headers: { ...(cookie === '' ? {} : { cookie }), ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
      ...(form === undefined ? {} : { payload: new URLSearchParams(form).toString() }),
    });
    const set = res.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set === undefined ? [] : [set]) {
      const [pair = '', ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now()) || attrs.some((a) => /^\s*max-age=0/i.test(a));
      if (expired || value === '') {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, value);
      }
    }
    const location = res.headers.location;
    return { status: res.statusCode, location: typeof location === 'string' ? new URL(location, BASE).href : undefined, body: res.body };
  }

  /**
   * Follows redirects within the server until a redirect leaves it (to `stopAt`) or a page is shown.
   * @param url - where to start
   * @param stopAt - the client's redirect URI prefix
   * @returns the final URL and the page (if any)
   */
  async follow(url: string, stopAt: string): Promise<{ url: string; status: number; body: string }> {
    let current = url;
    for (let i = 0; i < 20; i++) {
      if (current.startsWith(stopAt)) {
        return { url: current, status: 0, body: '' };
      }
      const res = await this.send('GET', current);
      if (res.location === undefined) {
        return { url: current, status: res.status, body: res.body };
      }
      current = res.location;
    }
    throw new Error('too many redirects');
  }
}

/** PKCE verifier and S256 challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The authorization URL for a client. */
export function authorizeUrl(p: { clientId: string; redirectUri: string; scope: string; challenge?: string; method?: string; aud?: string; state?: string }): string {
  const q = new URLSearchParams({ response_type: 'code', client_id: p.clientId, redirect_uri: p.redirectUri, scope: p.scope, state: p.state ?? randomBytes(8).toString('hex'), aud: p.aud ?? FHIR_BASE });
  if (p.challenge !== undefined) {
    q.set('code_challenge', p.challenge);
    q.set('code_challenge_method', p.method ?? 'S256');
  }
  return `${BASE}/auth/auth?${q.toString()}`;
}

function interactionBase(url: string): string {
  const m = /^(.*\/auth\/interaction\/[^/?]+)/.exec(url);
  if (m === null) {
    throw new Error(`not at the login pages: ${url}`);
  }
  return m[1]!;
}

/** The result of a login: the code at the redirect URI and the browser. */
export interface LoginOutcome {
  readonly redirect: URL;
  readonly browser: Browser;
}

/** How to log in on the pages. */
export type LoginAs =
  | { readonly kind: 'citizen'; readonly cpr: string; readonly actingFor?: string; readonly assurance?: string }
  | { readonly kind: 'professional'; readonly identifier: string; readonly roleId?: string };

/**
 * Runs the authorization request and the login pages up to the redirect back to the client.
 * @param t - the app
 * @param authUrl - the authorization URL
 * @param as - who logs in
 * @param redirectUri - the client's redirect URI
 * @param consent - answer to the consent page (third-party apps)
 * @returns where the browser was sent back to
 */
export async function loginThroughPages(t: TestApp, authUrl: string, as: LoginAs, redirectUri: string, consent: 'accept' | 'deny' = 'accept'): Promise<LoginOutcome> {
  const browser = new Browser(t.app);
  const start = await browser.follow(authUrl, redirectUri);
  if (start.url.startsWith(redirectUri)) {
    return { redirect: new URL(start.url), browser };
  }
  const base = interactionBase(start.url);
  let res =
    as.kind === 'citizen'
      ? await browser.send('POST', `${base}/borger`, { cpr: as.cpr, name: '', assurance: as.assurance ?? 'substantial' })
      : await browser.send('POST', `${base}/sundhedsperson`, { identifier: as.identifier });
  for (let i = 0; i < 6 && res.location !== undefined && !res.location.startsWith(redirectUri); i++) {
    const next = res.location;
    if (next.endsWith('/hvem')) {
      const who = as.kind === 'citizen' && as.actingFor !== undefined ? as.actingFor : (/name="patient" value="([^"]+)"/.exec((await browser.send('GET', next)).body)?.[1] ?? '');
      res = await browser.send('POST', next, { patient: who });
    } else if (next.endsWith('/rolle')) {
      const page = await browser.send('GET', next);
      const role = as.kind === 'professional' && as.roleId !== undefined ? as.roleId : (/name="role" value="([^"]+)"/.exec(page.body)?.[1] ?? '');
      res = await browser.send('POST', next, { role });
    } else if (next.endsWith('/samtykke')) {
      res = await browser.send('POST', next, { decision: consent });
    } else {
      res = await browser.send('GET', next);
    }
  }
  if (res.location === undefined) {
    throw new Error(`login stopped at a page (${res.status}): ${res.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 400)}`);
  }
  const end = await browser.follow(res.location, redirectUri);
  if (!end.url.startsWith(redirectUri)) {
    throw new Error(`login did not return to the client (${end.status}): ${end.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 400)}`);
  }
  return { redirect: new URL(end.url), browser };
}

/**
 * Posts a form to the token endpoint.
 * @param t - the app
 * @param form - the parameters
 * @returns status and JSON body
 */
export async function tokenRequest(t: TestApp, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await t.app.inject({ method: 'POST', url: '/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(form).toString() });
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

/**
 * Authorization code + PKCE as the first-party web client, through the login pages.
 * @param t - the app
 * @param as - who logs in
 * @param scope - requested scopes
 * @returns the token response
 */
export async function userTokenResponse(t: TestApp, as: LoginAs, scope: string): Promise<Record<string, unknown>> {
  const { verifier, challenge } = pkce();
  const { redirect } = await loginThroughPages(t, authorizeUrl({ clientId: 'dsd-web', redirectUri: WEB_REDIRECT, scope, challenge }), as, WEB_REDIRECT);
  const code = redirect.searchParams.get('code');
  if (code === null) {
    throw new Error(`no code: ${redirect.searchParams.get('error') ?? ''} ${redirect.searchParams.get('error_description') ?? ''}`);
  }
  const res = await tokenRequest(t, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, client_id: 'dsd-web', code_verifier: verifier });
  if (res.status !== 200) {
    throw new Error(`token request failed (${res.status}): ${JSON.stringify(res.body)}`);
  }
  return res.body;
}

/**
 * A citizen's access token (SMART standalone launch with patient context).
 * @param t - the app (Patients loaded)
 * @param cpr - the citizen's CPR number
 * @param opts - whom to act for (Patient id; default: self) and scopes
 * @param opts.actingFor - Patient id of the person acted for
 * @param opts.scope - requested scopes (default `openid fhirUser launch/patient patient/*.rs`)
 * @returns the access token
 */
export async function citizenToken(t: TestApp, cpr: string, opts: { actingFor?: string; scope?: string } = {}): Promise<string> {
  const body = await userTokenResponse(t, { kind: 'citizen', cpr, ...(opts.actingFor === undefined ? {} : { actingFor: opts.actingFor }) }, opts.scope ?? 'openid fhirUser launch/patient patient/*.rs');
  return body.access_token as string;
}

/**
 * A professional's access token.
 * @param t - the app (Practitioners and PractitionerRoles loaded)
 * @param authorisationId - authorisation id (or DSD staff number)
 * @param opts - the PractitionerRole id to log in with (default: the first) and scopes
 * @param opts.roleId - PractitionerRole id
 * @param opts.scope - requested scopes (default `openid fhirUser user/*.rs`)
 * @returns the access token
 */
export async function professionalToken(t: TestApp, authorisationId: string, opts: { roleId?: string; scope?: string } = {}): Promise<string> {
  const body = await userTokenResponse(t, { kind: 'professional', identifier: authorisationId, ...(opts.roleId === undefined ? {} : { roleId: opts.roleId }) }, opts.scope ?? 'openid fhirUser user/*.rs');
  return body.access_token as string;
}

let clientCounter = 0;

/**
 * Registers a backend client with a fresh key (as `dsd client add` does).
 * @param t - the app
 * @param scopes - the client's registered system/ scopes
 * @returns client id and private key
 */
export async function registerTestBackendClient(t: TestApp, scopes: string): Promise<{ clientId: string; jwk: JWK }> {
  const jwk = await generateClientKey();
  const clientId = `test-backend-${process.pid}-${++clientCounter}`;
  await registerBackendClient(t.db, { clientId, jwks: { keys: [jwk] }, scope: scopes, name: 'Test backend' });
  return { clientId, jwk };
}

/**
 * A backend (system) access token: registers a client with a fresh key for the scopes, then
 * client_credentials with a signed client assertion.
 * @param t - the app
 * @param scopes - system/ scopes
 * @returns the access token
 */
export async function systemToken(t: TestApp, scopes: string): Promise<string> {
  const { clientId, jwk } = await registerTestBackendClient(t, scopes);
  const res = await clientCredentialsToken(TOKEN_URL, clientId, jwk, scopes, injectFetch(t.app));
  return res.access_token;
}
