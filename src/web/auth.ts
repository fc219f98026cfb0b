/**
 * Login with the platform's identity service: OAuth 2.0 authorization code with PKCE (S256) as
 * the first-party public client `dsd-web`, redirect URI `<base>/app/callback`. The access token
 * is kept in sessionStorage (it ends with the browser tab) and in memory.
 */

import { t } from './i18n.ts';

export const CLIENT_ID = 'dsd-web';

/** Who logs in decides which scopes the app asks for. */
export const LoginKind = { citizen: 'citizen', professional: 'professional' } as const;
export type LoginKind = (typeof LoginKind)[keyof typeof LoginKind];

const SCOPES: Record<LoginKind, string> = {
  citizen: 'openid fhirUser launch/patient patient/*.cruds',
  professional: 'openid fhirUser user/*.rs',
};

/** The claims of our access token the app uses (see docs/identity.md). */
export interface TokenClaims {
  readonly exp: number;
  readonly dsd_kind?: string;
  readonly fhirUser?: string;
  readonly patient?: string;
  readonly dsd_patients?: readonly string[];
  readonly dsd_organization?: string;
  readonly dsd_practitioner_role?: string;
  readonly dsd_authorisation_id?: string;
  readonly name?: string;
}

/** A logged-in session. */
export interface Session {
  readonly accessToken: string;
  readonly claims: TokenClaims;
  /** Epoch milliseconds when the token stops working. */
  readonly expiresAt: number;
}

interface PendingLogin {
  readonly verifier: string;
  readonly state: string;
  readonly returnTo: string;
}

const SESSION_KEY = 'dsd.session';
const PENDING_KEY = 'dsd.login';

/**
 * The platform's public base URL, as the server put it in the page.
 * @returns the base URL without a trailing slash
 */
export function baseUrl(): string {
  const meta = document.querySelector('meta[name="dsd-base-url"]')?.getAttribute('content');
  return (meta !== null && meta !== undefined && meta !== '' ? meta : location.origin).replace(/\/$/, '');
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    s += String.fromCharCode(b);
  }
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * Decodes (without verifying: the server verifies) the payload of a JWT.
 * @param jwt - the token
 * @returns the claims
 */
export function decodeClaims(jwt: string): TokenClaims {
  const part = jwt.split('.')[1] ?? '';
  const text = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as TokenClaims;
}

/**
 * Sends the browser to the login pages.
 * @param kind - citizen or health professional
 * @param returnTo - the app path to show after login
 */
export async function startLogin(kind: LoginKind, returnTo: string): Promise<void> {
  if (crypto.subtle === undefined) {
    throw new Error(t('Login kræver en sikker forbindelse (https eller localhost). Åbn siden via den adresse, platformen er sat op med.', 'Login needs a secure connection (https or localhost). Open the page at the address the platform is set up with.'));
  }
  const verifier = randomString(32);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const state = randomString(16);
  const pending: PendingLogin = { verifier, state, returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const base = baseUrl();
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: `${base}/app/callback`,
    scope: SCOPES[kind],
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    aud: `${base}/fhir`,
    // Always ask who logs in: "Skift person" must not silently reuse the last login.
    prompt: 'login',
  });
  location.assign(`${base}/auth/auth?${q.toString()}`);
}

/**
 * Finishes the login at the callback URL: checks the state and exchanges the code.
 * @param search - the callback URL's query string
 * @returns the new session and the app path to go to
 */
export async function finishLogin(search: string): Promise<{ session: Session; returnTo: string }> {
  const q = new URLSearchParams(search);
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const error = q.get('error');
  if (error !== null) {
    throw new Error(error === 'access_denied' ? t('Login blev afbrudt. Du kan logge ind igen, når du er klar.', 'Login was cancelled. You can log in again when you are ready.') : `${t('Login mislykkedes', 'Login failed')} (${q.get('error_description') ?? error}). ${t('Prøv igen.', 'Try again.')}`);
  }
  if (raw === null) {
    throw new Error(t('Login-forløbet blev ikke fundet i denne fane. Start login forfra.', 'The login was not found in this tab. Start the login again.'));
  }
  const pending = JSON.parse(raw) as PendingLogin;
  const code = q.get('code');
  if (code === null || q.get('state') !== pending.state) {
    throw new Error(t('Svaret fra login passer ikke til denne fane. Start login forfra.', 'The answer from the login does not match this tab. Start the login again.'));
  }
  const base = baseUrl();
  const res = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${base}/app/callback`, client_id: CLIENT_ID, code_verifier: pending.verifier }).toString(),
  });
  const body = (await res.json()) as { access_token?: string; expires_in?: number; error_description?: string };
  if (!res.ok || body.access_token === undefined) {
    throw new Error(`${t('Login kunne ikke gennemføres', 'Login could not be completed')} (${body.error_description ?? String(res.status)}). ${t('Start login forfra.', 'Start the login again.')}`);
  }
  const claims = decodeClaims(body.access_token);
  const session: Session = { accessToken: body.access_token, claims, expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return { session, returnTo: pending.returnTo.startsWith('/app') ? pending.returnTo : '/app' };
}

/**
 * The current session, if the token is still valid.
 * @returns the session or undefined
 */
export function currentSession(): Session | undefined {
  const raw = sessionStorage.getItem(SESSION_KEY);
  if (raw === null) {
    return undefined;
  }
  const s = JSON.parse(raw) as Session;
  if (s.expiresAt < Date.now() + 10_000) {
    sessionStorage.removeItem(SESSION_KEY);
    return undefined;
  }
  return s;
}

/**
 * Logs out: forgets the token and revokes it at the identity service.
 * @param session - the session to end
 */
export async function logout(session: Session | undefined): Promise<void> {
  sessionStorage.removeItem(SESSION_KEY);
  if (session === undefined) {
    return;
  }
  try {
    await fetch(`${baseUrl()}/auth/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: session.accessToken, client_id: CLIENT_ID }).toString(),
    });
  } catch {
    // The token is forgotten here either way and expires on its own.
  }
}
