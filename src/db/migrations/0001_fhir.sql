-- FHIR resource storage: the current version of each resource, every version in history,
-- and the extracted search index tables (one per search parameter type).
-- Content is stored as the exact JSON text that is served, so decimals (0.10) and key order
-- survive and a read returns stored bytes without re-serialising.

CREATE TABLE resource (
  rid bigserial PRIMARY KEY,
  resource_type text NOT NULL,
  id text NOT NULL,
  version_id integer NOT NULL,
  last_updated timestamptz NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  content text NOT NULL,
  -- Patient compartment key(s): 'Patient/<id>' for every patient this resource belongs to.
  compartments text[] NOT NULL DEFAULT '{}',
  CONSTRAINT resource_type_id UNIQUE (resource_type, id)
);
CREATE INDEX resource_type_updated ON resource (resource_type, last_updated);
CREATE INDEX resource_compartments ON resource USING gin (compartments);

CREATE TABLE resource_history (
  resource_type text NOT NULL,
  id text NOT NULL,
  version_id integer NOT NULL,
  last_updated timestamptz NOT NULL,
  deleted boolean NOT NULL,
  method text NOT NULL,
  content text NOT NULL,
  PRIMARY KEY (resource_type, id, version_id)
);
CREATE INDEX resource_history_updated ON resource_history (last_updated);
CREATE INDEX resource_history_type_updated ON resource_history (resource_type, last_updated);

-- Search parameters interned to small integers, per resource type.
CREATE TABLE search_param (
  id serial PRIMARY KEY,
  resource_type text NOT NULL,
  code text NOT NULL,
  CONSTRAINT search_param_type_code UNIQUE (resource_type, code)
);

-- grp ties the components of one composite value together (0 for plain values).
CREATE TABLE idx_token (
  rid bigint NOT NULL,
  param integer NOT NULL,
  grp integer NOT NULL DEFAULT 0,
  system text COLLATE "C",
  code text COLLATE "C",
  text_norm text COLLATE "C",
  type_system text COLLATE "C",
  type_code text COLLATE "C"
);
CREATE INDEX idx_token_rid ON idx_token (rid, param);
CREATE INDEX idx_token_code ON idx_token (param, code, system);

CREATE TABLE idx_string (
  rid bigint NOT NULL,
  param integer NOT NULL,
  grp integer NOT NULL DEFAULT 0,
  norm text COLLATE "C" NOT NULL,
  exact text NOT NULL
);
CREATE INDEX idx_string_rid ON idx_string (rid, param);
CREATE INDEX idx_string_norm ON idx_string (param, norm);

CREATE TABLE idx_date (
  rid bigint NOT NULL,
  param integer NOT NULL,
  grp integer NOT NULL DEFAULT 0,
  lo timestamptz NOT NULL,
  hi timestamptz NOT NULL
);
CREATE INDEX idx_date_rid ON idx_date (rid, param);
CREATE INDEX idx_date_lo ON idx_date (param, lo, hi);

CREATE TABLE idx_number (
  rid bigint NOT NULL,
  param integer NOT NULL,
  grp integer NOT NULL DEFAULT 0,
  value numeric NOT NULL
);
CREATE INDEX idx_number_rid ON idx_number (rid, param);
CREATE INDEX idx_number_value ON idx_number (param, value);

CREATE TABLE idx_quantity (
  rid bigint NOT NULL,
  param integer NOT NULL,
  grp integer NOT NULL DEFAULT 0,
  value numeric NOT NULL,
  system text COLLATE "C",
  code text COLLATE "C",
  unit_norm text COLLATE "C"
);
CREATE INDEX idx_quantity_rid ON idx_quantity (rid, param);
CREATE INDEX idx_quantity_value ON idx_quantity (param, value);

CREATE TABLE idx_reference (
  rid bigint NOT NULL,
  param integer NOT NULL,
  grp integer NOT NULL DEFAULT 0,
  target_type text COLLATE "C",
  target_id text COLLATE "C",
  url text COLLATE "C"
);
CREATE INDEX idx_reference_rid ON idx_reference (rid, param);
CREATE INDEX idx_reference_target ON idx_reference (target_id, target_type, param);

CREATE TABLE idx_uri (
  rid bigint NOT NULL,
  param integer NOT NULL,
  grp integer NOT NULL DEFAULT 0,
  value text COLLATE "C" NOT NULL
);
CREATE INDEX idx_uri_rid ON idx_uri (rid, param);
CREATE INDEX idx_uri_value ON idx_uri (param, value);

-- Text used by _content/_text, normalised like string search values.
CREATE TABLE idx_text (
  rid bigint PRIMARY KEY,
  narrative text NOT NULL,
  content text NOT NULL
);
