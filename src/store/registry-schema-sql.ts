/**
 * Migration 7: the adapter registry and eval runs. The partial unique index makes "at most one
 * active adapter" a property of the schema, so no crash or race in the code can leave two. The base
 * model is a row of its own (`base`, no file), so "serve no adapter" is promoted, gated and rolled
 * back exactly like an adapter. Events are append-only: rollback reads the history from them.
 * Eval results are kept per example, because the A/B comparison pairs them.
 */
export const REGISTRY_SQL = `
CREATE TABLE adapters (
  name text PRIMARY KEY,
  id text UNIQUE,
  file_path text,
  file_sha256 text,
  base_model text,
  base_model_sha256 text,
  dataset_version text,
  training_config jsonb,
  parent text,
  status text NOT NULL CHECK (status IN ('candidate', 'active', 'retired')),
  created_at timestamptz NOT NULL,
  activated_at timestamptz,
  CHECK ((name = 'base') = (file_path IS NULL))
);
CREATE UNIQUE INDEX adapters_one_active_idx ON adapters (status) WHERE status = 'active';
INSERT INTO adapters (name, status, created_at) VALUES ('base', 'candidate', now());
CREATE TABLE adapter_events (
  id text PRIMARY KEY,
  time timestamptz NOT NULL,
  action text NOT NULL CHECK (action IN ('add', 'promote', 'rollback', 'remove')),
  adapter text NOT NULL,
  previous text,
  forced boolean NOT NULL,
  reason text,
  detail jsonb
);
CREATE INDEX adapter_events_time_idx ON adapter_events (time, id);
CREATE TABLE eval_runs (
  id text PRIMARY KEY,
  time timestamptz NOT NULL,
  set_name text NOT NULL,
  set_sha256 text NOT NULL,
  adapter text NOT NULL,
  adapter_id text,
  model text NOT NULL,
  settings jsonb NOT NULL,
  summary jsonb NOT NULL,
  examples integer NOT NULL,
  warnings jsonb NOT NULL
);
CREATE INDEX eval_runs_adapter_idx ON eval_runs (adapter, set_sha256, time);
CREATE TABLE eval_results (
  run_id text NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
  example_id text NOT NULL,
  category text NOT NULL,
  question text NOT NULL,
  answer text,
  metrics jsonb NOT NULL,
  detail jsonb NOT NULL,
  PRIMARY KEY (run_id, example_id)
);`
