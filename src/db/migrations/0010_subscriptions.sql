-- FHIR R4 Subscriptions (docs/subscriptions.md): the platform's view of each Subscription
-- resource, kept by the after-write hook in the resource's own transaction, and the outbox of
-- notifications, written in the transaction of the write that matched.

-- One row per stored (not deleted) Subscription resource. The resource stays the truth; this row
-- is what matching and delivery need without parsing it again.
CREATE TABLE subscription (
  id text PRIMARY KEY,
  -- The criteria's resource type and its search parameters (`Observation?code=…`).
  resource_type text NOT NULL,
  criteria text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('rest-hook', 'websocket')),
  -- rest-hook: the URL (its host must be on messaging_delivery_host) and the headers to send.
  endpoint text,
  headers text NOT NULL DEFAULT '[]',
  -- NULL: notification only; 'application/fhir+json': the resource.
  payload text,
  status text NOT NULL CHECK (status IN ('requested', 'active', 'error', 'off')),
  -- The verified token claims of the client that last wrote the Subscription: notifications are
  -- sent only for what that client could read (NULL: written by the platform itself).
  owner_claims text,
  updated timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscription_active ON subscription (resource_type) WHERE status = 'active';
CREATE INDEX subscription_requested ON subscription (id) WHERE status = 'requested';

-- The notification outbox: one row per matching write and subscription. Workers claim the head
-- of each subscription's queue with FOR UPDATE SKIP LOCKED and a lease, as for message_outbox
-- (src/platform/outbox/outbox.store.ts), so each subscription is notified in order.
CREATE TABLE subscription_outbox (
  id bigserial PRIMARY KEY,
  subscription_id text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('rest-hook', 'websocket')),
  resource_type text NOT NULL,
  resource_id text NOT NULL,
  version_id integer NOT NULL,
  -- The version's exact JSON text when the subscription's payload is application/fhir+json.
  payload text,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_by text,
  claimed_until timestamptz,
  last_error text,
  created timestamptz NOT NULL DEFAULT now(),
  finished timestamptz
);
CREATE INDEX subscription_outbox_pending ON subscription_outbox (subscription_id, id) WHERE status = 'pending';
CREATE INDEX subscription_outbox_dead ON subscription_outbox (id) WHERE status = 'dead';
