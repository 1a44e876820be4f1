/**
 * Migration 9: adapters served by a hosted platform (an OpenAI fine-tuned model) instead of a file.
 * Such a row has no file and records the platform's model id in `remote_model`; the check keeps
 * every non-base adapter pointing at exactly one of the two, so nothing can be registered that no
 * generator could serve. Postgres names migration 7's unnamed table check `adapters_check`.
 */
export const REMOTE_ADAPTERS_SQL = `
ALTER TABLE adapters ADD COLUMN remote_model text;
ALTER TABLE adapters DROP CONSTRAINT adapters_check;
ALTER TABLE adapters ADD CONSTRAINT adapters_source_check CHECK (
  CASE WHEN name = 'base' THEN file_path IS NULL AND remote_model IS NULL
  ELSE (file_path IS NULL) <> (remote_model IS NULL) END
);`
