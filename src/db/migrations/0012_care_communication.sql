-- CareCommunication threads (docs/messaging.md, section CareCommunication). One row per accepted
-- care-communication-message, written in the transaction that accepts it (whoever built it: the
-- platform's $care-communication or a system through $process-message). The message itself is
-- the row in `message`; this is the index that groups it into its thread.
CREATE TABLE care_communication (
  message_seq bigint PRIMARY KEY REFERENCES message (seq),
  -- Communication.identifier: MedCom's thread id, kept by every reply (a forward starts a new one).
  thread_id text NOT NULL,
  header_id text NOT NULL,
  sender_org text NOT NULL,
  receiver_org text NOT NULL,
  -- new-message, reply-message or forward-message (the newest Provenance's activity).
  activity text NOT NULL,
  category text NOT NULL,
  topic text,
  -- The patient's CPR (or eCPR) number as the message gives it.
  patient_identifier text,
  sent timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX care_communication_sender ON care_communication (sender_org, thread_id);
CREATE INDEX care_communication_receiver ON care_communication (receiver_org, thread_id);
