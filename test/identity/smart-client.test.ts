import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { FHIR_BASE, injectFetch, loginThroughPages } from '../auth-support.ts';
import type { TestApp } from '../support.ts';
import { CPR, createIdentityTestApp } from './fixtures.ts';

/**
 * An unmodified OpenID Connect client library (openid-client 6) against the server: discovery,
 * dynamic registration, authorization code + PKCE through the login pages, token exchange,
 * refresh, and a FHIR read with the token. Requests go through Fastify inject via its custom fetch.
 */

let t: TestApp;
before(async () => {
  t = await createIdentityTestApp();
});
after(async () => {
  await t.close();
});

test('openid-client: discovery, code + PKCE, refresh, FHIR read', async () => {
  const fetcher = injectFetch(t.app);
  const redirectUri = 'https://app.example/cb';
  const reg = await fetcher('http://localhost/auth/reg', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'openid-client', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }),
  });
  assert.equal(reg.status, 201);
  const { client_id: clientId } = (await reg.json()) as { client_id: string };

  const config = await client.discovery(new URL('http://localhost/auth'), clientId, { id_token_signed_response_alg: 'ES256' }, client.None(), {
    // The test configuration's base URL is http://localhost (no TLS in tests).
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    execute: [client.allowInsecureRequests],
    [client.customFetch]: fetcher,
  });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const scope = 'openid fhirUser launch/patient offline_access patient/*.rs';
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    state,
    aud: FHIR_BASE,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const { redirect } = await loginThroughPages(t, url.href, { kind: 'citizen', cpr: CPR.poul }, redirectUri);

  const tokens = await client.authorizationCodeGrant(config, redirect, { pkceCodeVerifier: verifier, expectedState: state });
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.equal(tokens.patient, 'demo-copd');
  assert.equal(tokens.claims()?.fhirUser, `${FHIR_BASE}/Patient/demo-copd`);
  assert.ok(tokens.refresh_token !== undefined);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  assert.ok(refreshed.access_token.length > 0);

  const read = await t.request('GET', '/fhir/Patient/demo-copd', undefined, { authorization: `Bearer ${refreshed.access_token}` });
  assert.equal(read.status, 200);
  assert.equal(read.body.id, 'demo-copd');
});
