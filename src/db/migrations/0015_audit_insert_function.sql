-- A batch of audit events in one call: the events, their patient rows and any alerts, inserted
-- together (a function runs in its caller's transaction, so all or none). The connections plan
-- every statement for its own values (plan_cache_mode = force_custom_plan, for searches); these
-- inserts have one good plan whatever the values, so the function keeps theirs (planning the
-- three-part insert again for every batch cost PostgreSQL more than the rows themselves).
CREATE FUNCTION audit_insert_batch(events text, patients text, alerts text) RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  INSERT INTO audit_event (id, recorded, action, interaction, outcome, outcome_text, agent_kind, agent_ref, agent_name,
    agent_identifier, organization_ref, organization_name, client_id, token_jti, purpose, break_glass, request_id,
    source_address, patient_ids, resource_refs, query)
  SELECT id, recorded, action, interaction, outcome, outcome_text, agent_kind, agent_ref, agent_name,
    agent_identifier, organization_ref, organization_name, client_id, token_jti, purpose, break_glass, request_id,
    source_address, patient_ids, resource_refs, query
  FROM jsonb_to_recordset(events::jsonb) AS x(id uuid, recorded timestamptz, action text, interaction text,
    outcome smallint, outcome_text text, agent_kind text, agent_ref text, agent_name text, agent_identifier text,
    organization_ref text, organization_name text, client_id text, token_jti text, purpose text, break_glass boolean,
    request_id text, source_address text, patient_ids text[], resource_refs text[], query text);
  INSERT INTO audit_patient (event_id, patient_id, recorded, citizen_visible)
  SELECT event_id, patient_id, recorded, citizen_visible
  FROM jsonb_to_recordset(patients::jsonb) AS x(event_id uuid, patient_id text, recorded timestamptz, citizen_visible boolean);
  IF alerts <> '[]' THEN
    INSERT INTO security_alert (id, kind, event_id, patient_id, agent_ref, created)
    SELECT gen_random_uuid(), kind, event_id, patient_id, agent_ref, created
    FROM jsonb_to_recordset(alerts::jsonb) AS x(kind text, event_id uuid, patient_id text, agent_ref text, created timestamptz);
  END IF;
END
$$;
