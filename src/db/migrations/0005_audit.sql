-- Audit trail (IHE BALP minimal pattern) and the citizen's access log (Min Log).
-- Audit events are not FHIR resources in the resource table: one typed row per event, one
-- row per patient whose data the access touched or attempted, and security alerts for
-- monitoring. AuditEvent JSON is rendered from these rows on read (platform/audit/render.ts).
-- No foreign keys between the tables: retention deletes them together in one statement, and
-- audit_patient can be distributed by patient_id (Citus) like the other patient-scoped tables.

CREATE TABLE audit_event (
  id uuid PRIMARY KEY,
  recorded timestamptz NOT NULL,
  -- FHIR AuditEvent.action: C create, R read, U update, D delete, E execute (search, operation …).
  action text NOT NULL CHECK (action IN ('C', 'R', 'U', 'D', 'E')),
  -- FHIR restful-interaction code (read, search-type …) or break-glass, login, logout.
  interaction text NOT NULL,
  -- FHIR AuditEvent.outcome: 0 success, 4 minor failure, 8 serious failure, 12 major failure.
  outcome smallint NOT NULL CHECK (outcome IN (0, 4, 8, 12)),
  outcome_text text,
  agent_kind text NOT NULL CHECK (agent_kind IN ('citizen', 'professional', 'system', 'anonymous')),
  -- Patient/x, Practitioner/x or Device/<client_id>.
  agent_ref text,
  agent_name text,
  -- Authorisation id of a professional, else the token's sub.
  agent_identifier text,
  -- The organisation (SOR unit) the user acted on behalf of.
  organization_ref text,
  organization_name text,
  client_id text,
  token_jti text,
  -- v3 ActReason: TREAT, or BTG for break-glass (værdispring).
  purpose text,
  break_glass boolean NOT NULL DEFAULT false,
  request_id text,
  source_address text,
  -- Patient ids (no type prefix) the access touched or attempted; the same set as audit_patient.
  patient_ids text[] NOT NULL DEFAULT '{}',
  -- References of the resources touched (Observation/1, Patient/2 …).
  resource_refs text[] NOT NULL DEFAULT '{}',
  -- Only the query parameters of a search, never its results (BALP minimal pattern).
  query text
);
CREATE INDEX audit_event_recorded ON audit_event (recorded);
CREATE INDEX audit_event_agent_recorded ON audit_event (agent_ref, recorded DESC);

-- Min Log: one row per patient per event. recorded is copied so the citizen's log is one index
-- range scan; citizen_visible is false for look-ups by citizens themselves (own or as proxy) and
-- for entries restricted from the citizen.
CREATE TABLE audit_patient (
  event_id uuid NOT NULL,
  patient_id text NOT NULL,
  recorded timestamptz NOT NULL,
  citizen_visible boolean NOT NULL,
  PRIMARY KEY (event_id, patient_id)
);
CREATE INDEX audit_patient_patient_recorded ON audit_patient (patient_id, recorded DESC);

-- Monitoring: break-glass (værdispring) and other events that need a human to look at them.
CREATE TABLE security_alert (
  id uuid PRIMARY KEY,
  kind text NOT NULL,
  event_id uuid NOT NULL,
  patient_id text,
  agent_ref text,
  created timestamptz NOT NULL,
  acknowledged_at timestamptz,
  acknowledged_by text
);
CREATE INDEX security_alert_open ON security_alert (created DESC) WHERE acknowledged_at IS NULL;
CREATE INDEX security_alert_event ON security_alert (event_id);
