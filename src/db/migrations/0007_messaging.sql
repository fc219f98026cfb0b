-- MedCom messaging hub (docs/messaging.md): accepted messages, the outbox that delivers them,
-- the inboxes of the receiving organisations, and which backend clients may send for which
-- organisation. Organisations are the ids of Organization resources on the platform
-- (reference data, e.g. hosp-auh-cardiology). Messages are kept as the exact JSON text received.

-- A backend (system) client may send MedCom messages as these organisations (operator set-up).
CREATE TABLE messaging_sender (
  client_id text NOT NULL,
  organization_id text NOT NULL,
  created timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, organization_id)
);

-- One row per accepted message (and per acknowledgement the platform generates).
-- De-duplication per sender on MessageHeader.id, and a Bundle.id is never reused by a sender.
CREATE TABLE message (
  seq bigserial PRIMARY KEY,
  bundle_id text NOT NULL,
  header_id text NOT NULL,
  event_code text NOT NULL,
  sender_org text NOT NULL,
  receiver_org text NOT NULL,
  received timestamptz NOT NULL DEFAULT now(),
  content text NOT NULL,
  -- The acknowledgement answered for this message (exact JSON), returned again for duplicates;
  -- NULL for acknowledgements, which are never acknowledged.
  ack_content text,
  -- For a generated acknowledgement: the message it acknowledges.
  acknowledges bigint REFERENCES message (seq),
  UNIQUE (sender_org, header_id),
  UNIQUE (sender_org, bundle_id)
);

-- The outbox: one row per receiving organisation (primary and cc), written in the transaction
-- that accepted the message. Workers claim heads of each receiver's queue with FOR UPDATE SKIP
-- LOCKED and a lease (claimed_until); a row whose lease ran out is claimed again.
CREATE TABLE message_outbox (
  id bigserial PRIMARY KEY,
  message_seq bigint NOT NULL REFERENCES message (seq),
  receiver_org text NOT NULL,
  -- The Endpoint the receiver was routed by, checked again at delivery (NULL: the inbox only).
  endpoint_id text,
  -- primary or cc (MessageHeader.destination use); only the primary receiver acknowledges.
  role text NOT NULL CHECK (role IN ('primary', 'cc')),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_by text,
  claimed_until timestamptz,
  last_error text,
  created timestamptz NOT NULL DEFAULT now(),
  finished timestamptz,
  UNIQUE (message_seq, receiver_org)
);
CREATE INDEX message_outbox_pending ON message_outbox (receiver_org, id) WHERE status = 'pending';
CREATE INDEX message_outbox_dead ON message_outbox (id) WHERE status = 'dead';

-- The inbox of each organisation: what was delivered to it, in delivery order. One row per
-- message and receiver, so a message is never delivered twice.
CREATE TABLE message_inbox (
  id bigserial PRIMARY KEY,
  organization_id text NOT NULL,
  message_seq bigint NOT NULL REFERENCES message (seq),
  delivered timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, message_seq)
);
CREATE INDEX message_inbox_org ON message_inbox (organization_id, id);
