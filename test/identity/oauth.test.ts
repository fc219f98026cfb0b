import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { SignJWT, importJWK } from 'jose';
import { OperationOutcomeError, getStatus } from '../../src/platform/fhir/outcome.ts';
import { signClientAssertion } from '../../src/platform/identity/index.ts';
import {
  Browser,
  FHIR_BASE,
  TOKEN_URL,
  WEB_REDIRECT,
  authorizeUrl,
  citizenToken,
  loginThroughPages,
  pkce,
  registerTestBackendClient,
  systemToken,
  tokenRequest,
  userTokenResponse,
} from '../auth-support.ts';
import type { TestApp } from '../support.ts';
import { AUTH_ID, CPR, claimsOf, createIdentityTestApp } from './fixtures.ts';

/**
 * OAuth 2.0 / SMART App Launch behaviour, including the Inferno SMART negative tests
 * (docs: /work/shared/domain/security-and-reliability.md §2.1).
 */

let t: TestApp;
before(async () => {
  t = await createIdentityTestApp();
});
after(async () => {
  await t.close();
});

const CITIZEN = { kind: 'citizen', cpr: CPR.louise } as const;
const FULL_SCOPE = 'openid fhirUser launch/patient offline_access patient/*.rs';

/** A fresh authorization code for the web client (with the verifier that goes with it). */
async function freshCode(method = 'S256'): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const { redirect } = await loginThroughPages(t, authorizeUrl({ clientId: 'dsd-web', redirectUri: WEB_REDIRECT, scope: FULL_SCOPE, challenge, method }), CITIZEN, WEB_REDIRECT);
  const code = redirect.searchParams.get('code');
  assert.ok(code !== null, `expected a code, got ${redirect.href}`);
  return { code, verifier };
}

async function fhirRead(token: string, path = '/fhir/Patient/demo-citizen'): Promise<number> {
  return (await t.request('GET', path, undefined, { authorization: `Bearer ${token}` })).status;
}

async function verifyStatus(token: string): Promise<number> {
  const res = await t.app.inject({ method: 'POST', url: '/auth/token/introspection', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token, client_id: 'dsd-web' }).toString() });
  return (JSON.parse(res.body) as { active: boolean }).active ? 200 : 401;
}

describe('discovery', () => {
  test('SMART configuration lists endpoints, capabilities and S256 only', async () => {
    const res = await t.request('GET', '/fhir/.well-known/smart-configuration');
    assert.equal(res.status, 200);
    const c = res.body as Record<string, unknown>;
    assert.equal(c.issuer, 'http://localhost/auth');
    assert.deepEqual(c.code_challenge_methods_supported, ['S256']);
    for (const k of ['jwks_uri', 'authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint', 'introspection_endpoint']) {
      assert.equal(typeof c[k], 'string', k);
    }
    for (const cap of ['launch-standalone', 'client-public', 'client-confidential-asymmetric', 'context-standalone-patient', 'permission-v2', 'permission-patient', 'permission-user', 'sso-openid-connect']) {
      assert.ok((c.capabilities as string[]).includes(cap), cap);
    }
  });

  test('OpenID configuration at the root and under the issuer agree', async () => {
    const root = await t.request('GET', '/.well-known/openid-configuration');
    const issuer = await t.request('GET', '/auth/.well-known/openid-configuration');
    assert.equal(root.status, 200);
    assert.deepEqual(root.body, issuer.body);
    assert.equal(root.body.token_endpoint, TOKEN_URL);
    const jwks = await t.request('GET', '/auth/jwks');
    assert.equal(jwks.body.keys[0].alg, 'ES256');
    assert.equal(jwks.body.keys[0].d, undefined);
  });
});

describe('token response', () => {
  test('has access_token, Bearer, expires_in, scope, patient, id_token and refresh_token', async () => {
    const body = await userTokenResponse(t, CITIZEN, FULL_SCOPE);
    assert.equal(typeof body.access_token, 'string');
    assert.equal(String(body.token_type).toLowerCase(), 'bearer');
    assert.equal(typeof body.expires_in, 'number');
    assert.equal(body.scope, FULL_SCOPE);
    assert.equal(body.patient, 'demo-citizen');
    assert.equal(typeof body.id_token, 'string');
    assert.equal(typeof body.refresh_token, 'string');
    const idToken = claimsOf(body.id_token as string);
    assert.equal(idToken.fhirUser, `${FHIR_BASE}/Patient/demo-citizen`);
    const at = claimsOf(body.access_token as string);
    assert.equal(at.aud, FHIR_BASE);
    assert.equal(at.dsd_kind, 'citizen');
    assert.deepEqual(at.dsd_patients, ['demo-citizen', 'demo-child']);
    assert.equal(at.dsd_assurance, 'substantial');
    assert.equal(await fhirRead(body.access_token as string), 200);
  });

  test('no patient in the response without launch/patient; no id_token without openid', async () => {
    const body = await userTokenResponse(t, CITIZEN, 'patient/*.rs');
    assert.equal(body.patient, undefined);
    assert.equal(body.id_token, undefined);
  });

  test('a parent acting for a child gets the child as launch context', async () => {
    const token = await citizenToken(t, CPR.louise, { actingFor: 'demo-child' });
    assert.equal(claimsOf(token).patient, 'demo-child');
    assert.equal(claimsOf(token).fhirUser, 'Patient/demo-citizen');
  });

  test('a professional token names role, unit and authorisation id', async () => {
    const body = await userTokenResponse(t, { kind: 'professional', identifier: AUTH_ID.gp }, 'openid fhirUser user/*.rs');
    const c = claimsOf(body.access_token as string);
    assert.equal(c.dsd_kind, 'professional');
    assert.equal(c.fhirUser, 'Practitioner/prac-demo-gp');
    assert.equal(c.dsd_practitioner_role, 'role-demo-gp');
    assert.equal(c.dsd_organization, 'gp-0751-01');
    assert.equal(c.dsd_authorisation_id, AUTH_ID.gp);
    assert.equal(c.dsd_role, 'laege');
  });
});

describe('Inferno negative tests: authorization code', () => {
  test('a bad code is refused with 400', async () => {
    const { verifier } = pkce();
    const res = await tokenRequest(t, { grant_type: 'authorization_code', code: 'BAD_CODE', redirect_uri: WEB_REDIRECT, client_id: 'dsd-web', code_verifier: verifier });
    assert.equal(res.status, 400);
    assert.equal(res.body.access_token, undefined);
  });

  test('a bad client_id is refused with 400 or 401', async () => {
    const { code, verifier } = await freshCode();
    const res = await tokenRequest(t, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, client_id: 'no-such-client', code_verifier: verifier });
    assert.ok([400, 401].includes(res.status), String(res.status));
    assert.equal(res.body.access_token, undefined);
  });

  for (const [name, verifierOf] of [
    ['missing', (): string | undefined => undefined],
    ['blank', (): string => ''],
    ['wrong', (): string => pkce().verifier],
  ] as const) {
    test(`PKCE: a ${name} code_verifier gets no token`, async () => {
      const { code } = await freshCode();
      const v = verifierOf();
      const res = await tokenRequest(t, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, client_id: 'dsd-web', ...(v === undefined ? {} : { code_verifier: v }) });
      assert.ok([400, 401].includes(res.status), String(res.status));
      assert.equal(res.body.access_token, undefined);
    });
  }

  test('PKCE: the plain method gets no code, and a plain verifier equal to the challenge gets no token', async () => {
    const { verifier } = pkce();
    const browser = new Browser(t.app);
    const res = await browser.follow(authorizeUrl({ clientId: 'dsd-web', redirectUri: WEB_REDIRECT, scope: FULL_SCOPE, challenge: verifier, method: 'plain' }), WEB_REDIRECT);
    const back = new URL(res.url);
    assert.equal(back.searchParams.get('code'), null);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    const { code } = await freshCode();
    const token = await tokenRequest(t, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, client_id: 'dsd-web', code_verifier: 'x'.repeat(43) });
    assert.equal(token.status, 400);
  });

  test('PKCE is required: no code_challenge, no code', async () => {
    const browser = new Browser(t.app);
    const res = await browser.follow(authorizeUrl({ clientId: 'dsd-web', redirectUri: WEB_REDIRECT, scope: FULL_SCOPE }), WEB_REDIRECT);
    assert.equal(new URL(res.url).searchParams.get('code'), null);
  });

  test('a foreign aud gets no code', async () => {
    const { challenge } = pkce();
    const browser = new Browser(t.app);
    const res = await browser.follow(authorizeUrl({ clientId: 'dsd-web', redirectUri: WEB_REDIRECT, scope: FULL_SCOPE, challenge, aud: 'https://evil.example/fhir' }), WEB_REDIRECT);
    const back = new URL(res.url);
    assert.equal(back.searchParams.get('code'), null);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
  });

  test('a code is single-use', async () => {
    const { code, verifier } = await freshCode();
    const form = { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, client_id: 'dsd-web', code_verifier: verifier };
    assert.equal((await tokenRequest(t, form)).status, 200);
    assert.equal((await tokenRequest(t, form)).status, 400);
  });
});

describe('Inferno negative tests: revocation and refresh', () => {
  test('a revoked access token fails verification and FHIR reads answer 401', async () => {
    const body = await userTokenResponse(t, CITIZEN, FULL_SCOPE);
    const token = body.access_token as string;
    assert.equal(await fhirRead(token), 200);
    const res = await t.app.inject({ method: 'POST', url: '/auth/token/revocation', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token, client_id: 'dsd-web' }).toString() });
    assert.equal(res.statusCode, 200);
    assert.equal(await verifyStatus(token), 401);
    assert.equal(await fhirRead(token), 401);
  });

  test('introspection describes a live token to the client it was issued to', async () => {
    const body = await userTokenResponse(t, CITIZEN, FULL_SCOPE);
    const res = await t.app.inject({ method: 'POST', url: '/auth/token/introspection', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token: body.access_token as string, client_id: 'dsd-web' }).toString() });
    const out = JSON.parse(res.body) as Record<string, unknown>;
    assert.equal(out.active, true);
    assert.equal(out.patient, 'demo-citizen');
  });

  test('refresh rotates the refresh token; the old one is unusable', async () => {
    const body = await userTokenResponse(t, CITIZEN, FULL_SCOPE);
    const first = await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: body.refresh_token as string, client_id: 'dsd-web' });
    assert.equal(first.status, 200);
    assert.notEqual(first.body.refresh_token, body.refresh_token);
    assert.equal(typeof first.body.access_token, 'string');
    assert.equal(claimsOf(first.body.access_token as string).patient, 'demo-citizen');
    const again = await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: body.refresh_token as string, client_id: 'dsd-web' });
    assert.equal(again.status, 400);
    // Reusing a rotated refresh token revokes the grant: the tokens issued under it stop working.
    assert.equal(await fhirRead(first.body.access_token as string), 401);
  });

  test('a revoked refresh token fails on refresh', async () => {
    const body = await userTokenResponse(t, CITIZEN, FULL_SCOPE);
    const res = await t.app.inject({ method: 'POST', url: '/auth/token/revocation', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token: body.refresh_token as string, client_id: 'dsd-web' }).toString() });
    assert.equal(res.statusCode, 200);
    const refreshed = await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: body.refresh_token as string, client_id: 'dsd-web' });
    assert.ok([400, 401].includes(refreshed.status));
    assert.equal(refreshed.body.access_token, undefined);
  });
});

describe('Inferno negative tests: backend services', () => {
  const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

  test('a system token reads FHIR data', async () => {
    const token = await systemToken(t, 'system/Patient.rs');
    const c = claimsOf(token);
    assert.equal(c.dsd_kind, 'system');
    assert.equal(c.scope, 'system/Patient.rs');
    assert.equal(await fhirRead(token), 200);
  });

  test('exp more than five minutes ahead is refused', async () => {
    const { clientId, jwk } = await registerTestBackendClient(t, 'system/*.rs');
    const assertion = await signClientAssertion(clientId, jwk, TOKEN_URL, 600);
    const res = await tokenRequest(t, { grant_type: 'client_credentials', scope: 'system/*.rs', client_assertion_type: assertionType, client_assertion: assertion });
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_client');
  });

  test('a reused jti is refused', async () => {
    const { clientId, jwk } = await registerTestBackendClient(t, 'system/*.rs');
    const assertion = await signClientAssertion(clientId, jwk, TOKEN_URL);
    const form = { grant_type: 'client_credentials', scope: 'system/*.rs', client_assertion_type: assertionType, client_assertion: assertion };
    assert.equal((await tokenRequest(t, form)).status, 200);
    const again = await tokenRequest(t, form);
    assert.equal(again.status, 401);
    assert.equal(again.body.access_token, undefined);
  });

  test('a wrong client_assertion_type is refused with 400', async () => {
    const { clientId, jwk } = await registerTestBackendClient(t, 'system/*.rs');
    const assertion = await signClientAssertion(clientId, jwk, TOKEN_URL);
    const res = await tokenRequest(t, { grant_type: 'client_credentials', scope: 'system/*.rs', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer', client_assertion: assertion });
    assert.equal(res.status, 400);
  });

  test('sub other than the client id is refused', async () => {
    const { clientId, jwk } = await registerTestBackendClient(t, 'system/*.rs');
    const key = await importJWK(jwk, 'ES384');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES384', kid: jwk.kid! }).setIssuer(clientId).setSubject('someone-else').setAudience(TOKEN_URL).setIssuedAt(now).setExpirationTime(now + 60).sign(key);
    const res = await tokenRequest(t, { grant_type: 'client_credentials', scope: 'system/*.rs', client_assertion_type: assertionType, client_assertion: assertion });
    assert.equal(res.status, 401);
  });

  test('a backend token never carries scopes beyond those registered', async () => {
    const { clientId, jwk } = await registerTestBackendClient(t, 'system/Observation.rs');
    const ok = await tokenRequest(t, { grant_type: 'client_credentials', scope: 'system/Observation.r', client_assertion_type: assertionType, client_assertion: await signClientAssertion(clientId, jwk, TOKEN_URL) });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.scope, 'system/Observation.r');
    for (const scope of ['system/Patient.rs', 'system/*.rs', 'system/Observation.cruds', 'patient/Observation.rs', 'openid']) {
      const res = await tokenRequest(t, { grant_type: 'client_credentials', scope, client_assertion_type: assertionType, client_assertion: await signClientAssertion(clientId, jwk, TOKEN_URL) });
      assert.equal(res.status, 400, scope);
      assert.equal(res.body.error, 'invalid_scope', scope);
    }
  });

  test('malformed scopes and assertions never produce a token (property)', async () => {
    const { clientId, jwk } = await registerTestBackendClient(t, 'system/*.cruds');
    const badScope = fc.oneof(
      fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/^system\/(\*|[A-Z][A-Za-z]{1,63})\.(read|write|\*|c?r?u?d?s?)(\?.+)?$/.test(s.trim())),
      fc.constantFrom('system/.rs', 'system/*.', 'system/*.x', 'system/observation.rs', 'system/*.rs?category=x', 'system/Observation.rs?', 'System/*.rs', 'system/*.srs'),
    );
    await fc.assert(
      fc.asyncProperty(badScope, async (scope) => {
        const res = await tokenRequest(t, { grant_type: 'client_credentials', scope, client_assertion_type: assertionType, client_assertion: await signClientAssertion(clientId, jwk, TOKEN_URL) });
        assert.equal(res.body.access_token, undefined, `scope ${JSON.stringify(scope)} produced a token`);
      }),
      { numRuns: 40 },
    );
    const good = await signClientAssertion(clientId, jwk, TOKEN_URL);
    const badAssertion = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.nat({ max: good.length - 1 }).map((i) => good.slice(0, i) + (good[i] === 'A' ? 'B' : 'A') + good.slice(i + 1)),
    );
    await fc.assert(
      fc.asyncProperty(badAssertion, async (assertion) => {
        const res = await tokenRequest(t, { grant_type: 'client_credentials', scope: 'system/*.rs', client_assertion_type: assertionType, client_assertion: assertion });
        assert.equal(res.body.access_token, undefined);
      }),
      { numRuns: 40 },
    );
  });
});

describe('verifyAccessToken', () => {
  test('rejects foreign and tampered tokens with a 401 outcome', async () => {
    const { initIdentity } = await import('../../src/platform/identity/index.ts');
    const { loadTestConfig } = await import('../support.ts');
    const { FhirRepository } = await import('../../src/platform/fhir/repo.ts');
    const { initFhirPlatform } = await import('../../src/platform/fhir/platform.ts');
    const platform = await initFhirPlatform({ db: t.db, baseUrl: FHIR_BASE, defaultPageSize: 20, maxPageSize: 1000 });
    const identity = await initIdentity({ db: t.db, config: loadTestConfig(), repo: new FhirRepository(platform) });
    try {
      const token = await systemToken(t, 'system/*.rs');
      assert.equal((await identity.verifyAccessToken(token)).dsd_kind, 'system');
      for (const bad of ['', 'abc', `${token.slice(0, -4)}AAAA`, token.split('.').slice(0, 2).join('.') + '.']) {
        await assert.rejects(identity.verifyAccessToken(bad), (err: unknown) => err instanceof OperationOutcomeError && getStatus(err.outcome) === 401);
      }
    } finally {
      await identity.close();
    }
  });
});

describe('dynamic registration and third-party consent', () => {
  const redirect = 'https://app.example/callback';

  async function register(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await t.app.inject({ method: 'POST', url: '/auth/reg', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
  }

  test('system scopes and client_credentials cannot be self-registered', async () => {
    const sys = await register({ redirect_uris: [redirect], token_endpoint_auth_method: 'none', scope: 'openid system/*.rs' });
    assert.equal(sys.status, 400);
    assert.equal(sys.body.error, 'invalid_client_metadata');
    const cc = await register({ grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] } });
    assert.equal(cc.status, 400);
  });

  test('a third-party public app registers, the user consents in Danish, the app gets its token', async () => {
    const reg = await register({ client_name: 'Min Sundhedsapp', redirect_uris: [redirect], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], scope: 'openid fhirUser launch/patient offline_access patient/*.rs' });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const clientId = reg.body.client_id as string;
    const { verifier, challenge } = pkce();
    const url = authorizeUrl({ clientId, redirectUri: redirect, scope: 'openid launch/patient patient/Observation.rs', challenge });
    // Refusing consent sends the user back with access_denied.
    const denied = await loginThroughPages(t, url, CITIZEN, redirect, 'deny');
    assert.equal(denied.redirect.searchParams.get('error'), 'access_denied');
    const { redirect: back } = await loginThroughPages(t, authorizeUrl({ clientId, redirectUri: redirect, scope: 'openid launch/patient patient/Observation.rs', challenge }), CITIZEN, redirect);
    const code = back.searchParams.get('code')!;
    const res = await tokenRequest(t, { grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: clientId, code_verifier: verifier });
    assert.equal(res.status, 200);
    assert.equal(res.body.scope, 'openid launch/patient patient/Observation.rs');
    assert.equal(res.body.patient, 'demo-citizen');
  });

  test('the consent page lists the scopes in Danish', async () => {
    const reg = await register({ client_name: 'Læseapp', redirect_uris: [redirect], token_endpoint_auth_method: 'none', scope: 'openid patient/Observation.rs' });
    const { challenge } = pkce();
    const browser = new Browser(t.app);
    const start = await browser.follow(authorizeUrl({ clientId: reg.body.client_id as string, redirectUri: redirect, scope: 'openid patient/Observation.rs', challenge }), redirect);
    const base = /\/auth\/interaction\/[^/?]+/.exec(start.url)![0];
    await browser.send('POST', `${base}/borger`, { cpr: CPR.poul, assurance: 'high' });
    const page = await browser.send('GET', `${base}/samtykke`);
    assert.match(page.body, /<html lang="da">/);
    assert.match(page.body, /Læse og søge i data af typen Observation for den valgte person/);
    assert.match(page.body, /Læseapp/);
  });
});

describe('login pages', () => {
  test('errors say what is wrong and what to do', async () => {
    const { challenge } = pkce();
    const browser = new Browser(t.app);
    const start = await browser.follow(authorizeUrl({ clientId: 'dsd-web', redirectUri: WEB_REDIRECT, scope: 'openid patient/*.rs', challenge }), WEB_REDIRECT);
    assert.equal(start.status, 200);
    assert.match(start.body, /Log ind som borger \(MitID\)/);
    assert.match(start.body, /Log ind som sundhedsperson \(MitID Erhverv\)/);
    assert.match(start.body, /Louise Holm Sørensen/);
    const base = /\/auth\/interaction\/[^/?]+/.exec(start.url)![0];
    const unknown = await browser.send('POST', `${base}/borger`, { cpr: '0101010101', assurance: 'substantial' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, /Der findes ingen borger med dette CPR-nummer i demo-data/);
    assert.match(unknown.body, /<label for="cpr">/);
    const malformed = await browser.send('POST', `${base}/borger`, { cpr: '12ab', assurance: 'substantial' });
    assert.match(malformed.body, /CPR-nummeret skal være 10 cifre/);
    const prof = await browser.send('POST', `${base}/sundhedsperson`, { identifier: 'ZZZZZ' });
    assert.match(prof.body, /Der findes ingen sundhedsperson/);
    const who = await browser.send('POST', `${base}/borger`, { cpr: CPR.louise, assurance: 'high' });
    assert.ok(who.location?.endsWith('/hvem'));
    const list = await browser.send('GET', who.location!);
    assert.match(list.body, /Hvem vil du se data for\?/);
    assert.match(list.body, /Emil Holm Sørensen/);
  });

  test('a form post without the interaction cookie is refused', async () => {
    const { challenge } = pkce();
    const browser = new Browser(t.app);
    const start = await browser.follow(authorizeUrl({ clientId: 'dsd-web', redirectUri: WEB_REDIRECT, scope: 'openid patient/*.rs', challenge }), WEB_REDIRECT);
    const base = /\/auth\/interaction\/[^/?]+/.exec(start.url)![0];
    const stranger = new Browser(t.app);
    const res = await stranger.send('POST', `${base}/borger`, { cpr: CPR.poul, assurance: 'substantial' });
    assert.equal(res.status, 400);
    assert.equal(res.location, undefined);
  });
});
