-- MedCom messaging: delivery by HTTP to a receiving organisation's own system (docs/messaging.md).

-- Hosts the platform may POST messages to (operator set-up). A delivery URL is accepted only on
-- one of these hosts, and checked again at every delivery, so neither a registration nor a
-- later change of the allow-list can make the platform call an arbitrary internal address.
CREATE TABLE messaging_delivery_host (
  host text PRIMARY KEY,
  created timestamptz NOT NULL DEFAULT now()
);

-- The URL a receiving organisation's system takes messages at (operator set-up). An organisation
-- without a row gets its messages in its platform inbox.
CREATE TABLE messaging_delivery_url (
  organization_id text PRIMARY KEY,
  url text NOT NULL,
  created timestamptz NOT NULL DEFAULT now()
);
