/**
 * The identity service (OAuth 2.0, OpenID Connect, SMART App Launch v2) with the development
 * identity provider. See docs/identity.md.
 */
export type { IdentityService } from './service.ts';
export { initIdentity, unauthenticated } from './service.ts';
export type { BackendClientInput, ClientKey } from './clients.ts';
export {
  DEV_SYSTEM_CLIENT_ID,
  DEV_SYSTEM_KEY_FILE,
  WEB_CLIENT_ID,
  clientCredentialsToken,
  generateClientKey,
  publicJwk,
  registerBackendClient,
  signClientAssertion,
} from './clients.ts';
export type { LoginContext } from './claims.ts';
export { MAX_ASSERTION_LIFETIME, TTL } from './provider.ts';
