-- MedCom messaging: acknowledgements from the receiving systems, and resend when none comes
-- (docs/messaging.md, "Acknowledgements from the receiving systems").
--
-- A delivery by HTTP to a receiver's own system is acknowledged by that system: it sends a MedCom
-- Acknowledgement through $process-message, which is linked to the delivery here by
-- MessageHeader.response.identifier and the two organisations, and forwarded to the sender.
ALTER TABLE message_outbox
  -- When the receiving system's final acknowledgement (ok or fatal-error) arrived; NULL: none yet.
  ADD COLUMN acknowledged_at timestamptz,
  -- The code of the last acknowledgement from the receiving system.
  ADD COLUMN ack_code text CHECK (ack_code IN ('ok', 'transient-error', 'fatal-error')),
  -- That acknowledgement as stored in `message`.
  ADD COLUMN ack_message_seq bigint REFERENCES message (seq),
  -- While the delivery waits for the receiving system's acknowledgement: when it is resent (or,
  -- after the last resend, becomes a dead letter) if none has come. NULL: nothing awaited.
  ADD COLUMN resend_due timestamptz,
  -- Resends so far (MedCom: at most two).
  ADD COLUMN resends integer NOT NULL DEFAULT 0,
  -- The Bundle.id of the copy POSTed on a resend (MedCom: a new envelope id each time; the
  -- MessageHeader.id stays). NULL: the message as sent.
  ADD COLUMN envelope_id text;

-- The sweep looks only at deliveries waiting for an acknowledgement.
CREATE INDEX message_outbox_resend_due ON message_outbox (resend_due) WHERE status = 'delivered' AND resend_due IS NOT NULL;
