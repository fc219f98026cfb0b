import type { JWK } from 'jose';
import { decodeJwt } from 'jose';
import type { ClientMetadata, Configuration, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import Provider, { errors } from 'oidc-provider';
import type { Queryable } from '../../db/index.ts';
import type { LoginContext } from './claims.ts';
import { loginClaims } from './claims.ts';
import { errorPage } from './pages.ts';
import { ClientKind, STATIC_SCOPES, ScopeError, grantableScopes, registrationScopeProblem, splitScopes } from './scopes.ts';
import { PostgresOidcAdapter, findRecord } from './store.ts';

/**
 * The oidc-provider configuration: OAuth 2.0, OpenID Connect and SMART App Launch v2 on our
 * keys and our PostgreSQL adapter. The protocol is oidc-provider's; this file is configuration.
 * See: https://github.com/panva/node-oidc-provider/tree/main/docs
 */

/** Lifetimes in seconds. */
export const TTL = {
  accessToken: 60 * 60,
  systemAccessToken: 15 * 60,
  authorizationCode: 60,
  refreshToken: 14 * 24 * 60 * 60,
  grant: 14 * 24 * 60 * 60,
  interaction: 60 * 60,
  session: 8 * 60 * 60,
} as const;

/** The longest a client assertion (SMART Backend Services) may live. */
export const MAX_ASSERTION_LIFETIME = 5 * 60;

/** Record kinds of our own in the provider table. */
export const RecordKind = { loginState: 'DsdLoginState', loginContext: 'DsdLoginContext' } as const;

/** What the provider needs from the identity service. */
export interface ProviderOptions {
  readonly db: Queryable;
  readonly issuer: string;
  readonly fhirBase: string;
  readonly signingKey: JWK;
  readonly cookieSecret: string;
  readonly production: boolean;
  readonly onGrantRevoked: (grantId: string) => void;
}

/** Extra client metadata we keep: the client's SMART scopes, and first-party clients (no consent page). */
export interface DsdClientMetadata extends ClientMetadata {
  dsd_scope?: string;
  dsd_first_party?: boolean;
}

/** NSIS assurance levels as `acr` values. */
export const ACR = {
  low: 'https://data.gov.dk/concept/core/nsis/loa/Low',
  substantial: 'https://data.gov.dk/concept/core/nsis/loa/Substantial',
  high: 'https://data.gov.dk/concept/core/nsis/loa/High',
} as const;

/**
 * Reads the login context stored with a grant.
 * @param db - database
 * @param grantId - the grant
 * @returns the context or undefined
 */
export function findLoginContext(db: Queryable, grantId: string): Promise<LoginContext | undefined> {
  return findRecord<LoginContext>(db, RecordKind.loginContext, grantId);
}

function clientKind(meta: DsdClientMetadata): ClientKind {
  return (meta.grant_types ?? []).includes('client_credentials') ? ClientKind.system : ClientKind.user;
}

/**
 * The client's kind and registered SMART scopes.
 * @param meta - the client's metadata
 * @returns kind and scopes (undefined: any scope of its kind)
 */
export function clientScopes(meta: DsdClientMetadata): { kind: ClientKind; registered: string[] | undefined } {
  const registered = meta.dsd_scope === undefined ? undefined : splitScopes(meta.dsd_scope);
  return { kind: clientKind(meta), registered };
}

/**
 * Builds the provider.
 * @param o - keys, URLs and the database
 * @returns the provider (not mounted)
 */
export function createProvider(o: ProviderOptions): Provider {
  const { db, fhirBase } = o;

  const findAccount: FindAccount = (_ctx, sub, token) => {
    return {
      accountId: sub,
      async claims(): Promise<{ sub: string; [key: string]: unknown }> {
        const grantId = token !== undefined && 'grantId' in token ? (token.grantId) : undefined;
        const login = grantId === undefined ? undefined : await findLoginContext(db, grantId);
        if (login === undefined) {
          return { sub };
        }
        const claims = loginClaims(login);
        return { sub, name: login.name, fhirUser: `${fhirBase}/${String(claims.fhirUser)}` };
      },
    };
  };

  const configuration: Configuration = {
    adapter: (name: string) => new PostgresOidcAdapter(db, name, name === 'Grant' ? o.onGrantRevoked : undefined),
    jwks: { keys: [o.signingKey] },
    cookies: {
      keys: [o.cookieSecret],
      names: { session: 'dsd_session', interaction: 'dsd_interaction', resume: 'dsd_interaction_resume' },
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    scopes: [...STATIC_SCOPES],
    claims: { openid: ['sub'], fhirUser: ['fhirUser'], profile: ['name'], acr: null, auth_time: null, sid: null, iss: null },
    acrValues: Object.values(ACR),
    clientAuthMethods: ['none', 'private_key_jwt'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'ES256',
    },
    enabledJWA: {
      // SMART Backend Services: servers support RS384 and ES384; ES256/RS256 are common too.
      clientAuthSigningAlgValues: ['RS256', 'RS384', 'ES256', 'ES384'],
      idTokenSigningAlgValues: ['ES256'],
      requestObjectSigningAlgValues: ['RS256', 'ES256'],
      authorizationSigningAlgValues: ['ES256'],
      introspectionSigningAlgValues: ['ES256'],
      userinfoSigningAlgValues: ['ES256'],
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    rotateRefreshToken: true,
    conformIdTokenClaims: true,
    extraParams: {
      // SMART: `aud` names the FHIR server the app wants a token for; a foreign one gets no code.
      // See: https://build.fhir.org/ig/HL7/smart-app-launch/app-launch.html#request-authorization
      aud(_ctx: KoaContextWithOIDC, value: string | undefined): void {
        if (value !== undefined && value.replace(/\/$/, '') !== fhirBase) {
          throw new errors.InvalidRequest(`aud must be this server's FHIR base URL (${fhirBase})`);
        }
      },
      launch: null,
    },
    extraClientMetadata: {
      properties: ['dsd_scope', 'dsd_first_party'],
      validator(ctx, key, value, metadata): void {
        const meta = metadata as DsdClientMetadata;
        const registration = (ctx)?.oidc.route === 'registration';
        if (key === 'dsd_first_party') {
          if (registration && value !== undefined) {
            throw new errors.InvalidClientMetadata('dsd_first_party is set by the platform, not at registration');
          }
          return;
        }
        if (key !== 'dsd_scope') {
          return;
        }
        if (registration) {
          if (value !== undefined) {
            throw new errors.InvalidClientMetadata('dsd_scope is set by the platform; send SMART scopes in "scope"');
          }
          if ((meta.grant_types ?? []).includes('client_credentials')) {
            throw new errors.InvalidClientMetadata('backend (system) clients are registered by an operator (dsd client add), not by dynamic registration');
          }
        }
        // SMART scopes are not OpenID scopes: they are kept in dsd_scope, `scope` keeps the rest.
        const values = splitScopes(meta.scope);
        const statics = new Set<string>(STATIC_SCOPES);
        const smart = values.filter((v) => !statics.has(v));
        if (smart.length > 0) {
          if (registration) {
            const problem = registrationScopeProblem(smart);
            if (problem !== undefined) {
              throw new errors.InvalidClientMetadata(problem);
            }
          }
          const kept = values.filter((v) => statics.has(v)).join(' ');
          meta.scope = kept === '' ? undefined : kept;
          meta.dsd_scope = [...splitScopes(typeof value === 'string' ? value : undefined), ...smart].join(' ');
        }
      },
    },
    assertJwtClientAuthClaimsAndHeader(_ctx, claims, _header, client): void {
      // SMART Backend Services: iss = sub = client_id, exp at most five minutes ahead.
      // See: https://build.fhir.org/ig/HL7/smart-app-launch/backend-services.html#protocol-details
      if (claims.sub !== client.clientId) {
        throw new errors.InvalidClientAuth('sub (JWT subject) must be the client_id');
      }
      const exp = typeof claims.exp === 'number' ? claims.exp : Number.NaN;
      if (!(exp - Math.floor(Date.now() / 1000) <= MAX_ASSERTION_LIFETIME)) {
        throw new errors.InvalidClientAuth(`exp of the client_assertion must be at most ${MAX_ASSERTION_LIFETIME} seconds in the future`);
      }
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A client revokes and introspects only tokens issued to itself.
      introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => Promise.resolve(token.clientId === client.clientId) },
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => Promise.resolve(token.clientId === client.clientId) },
      registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => fhirBase,
        useGrantedResource: () => true,
        getResourceServerInfo(ctx, indicator, client) {
          if (indicator !== fhirBase) {
            throw new errors.InvalidTarget(`the only resource is the FHIR server ${fhirBase}`);
          }
          const { kind, registered } = clientScopes(client.metadata());
          const entities = ctx.oidc.entities as { AuthorizationCode?: { scope?: string }; RefreshToken?: { scope?: string } };
          const requested = ctx.oidc.params?.scope ?? entities.AuthorizationCode?.scope ?? entities.RefreshToken?.scope;
          let granted: string[];
          try {
            granted = grantableScopes(splitScopes(typeof requested === 'string' ? requested : undefined), kind, registered);
          } catch (err) {
            if (err instanceof ScopeError) {
              throw new errors.InvalidScope(err.message, typeof requested === 'string' ? requested : '');
            }
            throw err;
          }
          if (kind === ClientKind.system && granted.length === 0) {
            throw new errors.InvalidScope('ask for at least one system/ scope registered for this client', '');
          }
          return {
            scope: granted.join(' '),
            audience: fhirBase,
            accessTokenFormat: 'jwt',
            accessTokenTTL: kind === ClientKind.system ? TTL.systemAccessToken : TTL.accessToken,
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    async extraTokenClaims(_ctx, token) {
      if (token.kind === 'ClientCredentials') {
        const name = token.client?.clientName;
        return { dsd_kind: 'system', name: name ?? token.clientId };
      }
      const grantId = 'grantId' in token ? token.grantId : undefined;
      if (token.kind === 'AccessToken' && grantId !== undefined) {
        const login = await findLoginContext(db, grantId);
        if (login === undefined) {
          throw new errors.InvalidGrant('the login behind this grant no longer exists; log in again');
        }
        // dsd_grant lets verification reject every token of a revoked grant.
        return { ...loginClaims(login), dsd_grant: grantId };
      }
      return undefined;
    },
    findAccount,
    interactions: { url: (_ctx, interaction) => `${new URL(o.issuer).pathname}/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? TTL.accessToken,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? TTL.systemAccessToken,
      AuthorizationCode: TTL.authorizationCode,
      IdToken: TTL.accessToken,
      RefreshToken: TTL.refreshToken,
      Grant: TTL.grant,
      Interaction: TTL.interaction,
      Session: TTL.session,
    },
    renderError(ctx, out): Promise<void> {
      ctx.type = 'html';
      ctx.body = errorPage(
        'Login kunne ikke gennemføres',
        `Fejl: ${out.error}${out.error_description === undefined ? '' : ` – ${String(out.error_description)}`}. Gå tilbage til appen og prøv igen.`,
      );
      return Promise.resolve();
    },
  };

  const provider = new Provider(o.issuer, configuration);
  provider.proxy = true;

  // SMART: the token response names the launch context (`patient`) when launch/patient was granted.
  // See: https://build.fhir.org/ig/HL7/smart-app-launch/app-launch.html#response-5
  provider.use(async (ctx, next) => {
    await next();
    const oidc = ctx.oidc as KoaContextWithOIDC['oidc'] | undefined;
    if (oidc?.route !== 'token' || ctx.status !== 200 || typeof ctx.body !== 'object' || ctx.body === null) {
      return;
    }
    const body = ctx.body as { access_token?: unknown; scope?: unknown; patient?: unknown };
    if (typeof body.access_token === 'string' && typeof body.scope === 'string' && splitScopes(body.scope).includes('launch/patient')) {
      const claims = decodeJwt(body.access_token);
      if (typeof claims.patient === 'string') {
        body.patient = claims.patient;
      }
    }
  });
  return provider;
}

/**
 * Error text for a page (kept here so the pages module stays free of provider types).
 * @param err - what was thrown
 * @returns a short description
 */
export function describeProviderError(err: unknown): string {
  if (err instanceof errors.SessionNotFound) {
    return 'Din login-session er udløbet eller blev startet i en anden browser. Gå tilbage til appen og start login forfra.';
  }
  if (err instanceof errors.OIDCProviderError) {
    return err.error_description ?? err.message;
  }
  return 'Der skete en uventet fejl. Gå tilbage til appen og prøv igen.';
}
