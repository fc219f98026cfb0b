-- MedCom workflow events (docs/messaging.md, "Workflow events"): every HospitalNotification the
-- platform writes because an Encounter changed. One row per notifying Encounter version, written
-- in the Encounter's own transaction. A queued row names the message it stored (and the outbox
-- row queued with it); later notifications of the same stay carry its Provenance and refer to its
-- MessageHeader. An unroutable row (no home municipality, or no unit of it accepting
-- HospitalNotifications) has no message: it is a dead letter for operators until they send it.
CREATE TABLE workflow_notification (
  id bigserial PRIMARY KEY,
  encounter_id text NOT NULL,
  encounter_version integer NOT NULL,
  patient_id text NOT NULL,
  -- MedCom activity code (medcom-messaging-activityCodes), e.g. admit-inpatient.
  activity text NOT NULL,
  sender_org text NOT NULL,
  receiver_org text,
  message_seq bigint REFERENCES message (seq),
  header_id text,
  -- The notification's Provenance (exact JSON), carried by later messages about the same stay.
  provenance text,
  status text NOT NULL CHECK (status IN ('queued', 'unroutable')),
  reason text,
  created timestamptz NOT NULL DEFAULT now(),
  UNIQUE (encounter_id, encounter_version)
);
CREATE INDEX workflow_notification_encounter ON workflow_notification (encounter_id, id);
CREATE INDEX workflow_notification_unroutable ON workflow_notification (id) WHERE status = 'unroutable';
