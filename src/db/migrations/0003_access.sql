-- Værdispring (break-the-glass): a professional's time-limited access to one citizen's data,
-- lifting the citizen's blocks and the need for a treatment relation. Rows are kept after
-- expiry as evidence; the audit trail records the start.
CREATE TABLE break_glass (
  id uuid PRIMARY KEY,
  person_ref text COLLATE "C" NOT NULL,
  organization_ref text COLLATE "C",
  patient_ref text COLLATE "C" NOT NULL,
  reason text NOT NULL,
  reason_text text NOT NULL,
  started timestamptz NOT NULL,
  expires timestamptz NOT NULL
);
CREATE INDEX break_glass_person ON break_glass (person_ref, expires);
CREATE INDEX break_glass_patient ON break_glass (patient_ref, started);
