-- Identity service (OAuth 2.0 / OpenID Connect / SMART App Launch): the state of the OpenID
-- provider (clients, grants, codes, refresh tokens, sessions, interactions, replay detection),
-- the signing keys shared by every node, and revoked access tokens and grants.

-- One row per oidc-provider artefact. `model` is the provider's model name (Client, Grant,
-- AuthorizationCode, RefreshToken, Session, Interaction, ReplayDetection, …) or one of ours
-- (DsdLoginState, DsdLoginContext). Rows past expires_at are treated as absent and pruned.
CREATE TABLE identity_oidc (
  model text NOT NULL,
  id text NOT NULL,
  payload jsonb NOT NULL,
  grant_id text,
  user_code text,
  uid text,
  expires_at timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX identity_oidc_grant ON identity_oidc (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX identity_oidc_uid ON identity_oidc (uid) WHERE uid IS NOT NULL;
CREATE INDEX identity_oidc_user_code ON identity_oidc (user_code) WHERE user_code IS NOT NULL;
CREATE INDEX identity_oidc_expires ON identity_oidc (expires_at) WHERE expires_at IS NOT NULL;

-- Signing keys (private JWKs) and cookie secrets, generated on first start.
CREATE TABLE identity_key (
  name text PRIMARY KEY,
  material jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Revoked JWT access tokens (kind 'jti') and revoked grants (kind 'grant', every access token
-- of the grant). Kept until the longest-lived token they can affect has expired.
CREATE TABLE identity_revocation (
  seq bigserial PRIMARY KEY,
  kind text NOT NULL,
  value text NOT NULL,
  expires_at timestamptz NOT NULL,
  CONSTRAINT identity_revocation_kind_value UNIQUE (kind, value)
);
CREATE INDEX identity_revocation_expires ON identity_revocation (expires_at);
