import { RagtuneError } from '../errors.js'
import { DATASETS_SQL } from './dataset-sql.js'
import { JOB_RUNS_SQL } from './job-run-sql.js'
import { REGISTRY_SQL } from './registry-schema-sql.js'
import { REMOTE_ADAPTERS_SQL } from './remote-adapter-sql.js'

/**
 * The two calls the schema code needs. PGlite, a PGlite transaction and a thin `pg` adapter all fit,
 * so the embedded store and a future server store share one dialect and one migration history.
 */
export interface SqlExecutor {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>
  exec(sql: string): Promise<unknown>
}

export type LexicalBackend = 'bm25' | 'tsvector'

/** What the schema is built for; fixed when a store is first initialised and kept in `meta`. */
export interface SchemaParams {
  dimensions: number
  embeddingModel: string
  lexicalBackend: LexicalBackend
}

interface Migration {
  version: number
  name: string
  sql: (p: SchemaParams) => string
}

/** Name of the BM25 index; `to_bm25query` needs it to find corpus statistics. */
export const BM25_INDEX = 'chunks_text_bm25'

/**
 * The ANN index, also rebuilt on its own after a bulk load (see PGliteStore.bulkLoad), hence IF NOT
 * EXISTS. pgvector's defaults (m 16, ef_construction 64) keep recall high.
 */
export const HNSW_INDEX_SQL = 'CREATE INDEX IF NOT EXISTS chunks_embedding_hnsw ON chunks USING hnsw (embedding vector_cosine_ops)'
export const DROP_HNSW_INDEX_SQL = 'DROP INDEX IF EXISTS chunks_embedding_hnsw'

/** The widest vector pgvector's HNSW index accepts for the `vector` type. */
export const MAX_DIMENSIONS = 2000

/** Keys under this prefix describe the schema itself; `setMeta` refuses them so nothing can drift. */
export const RESERVED_META_PREFIX = 'store.'
const META_DIMENSIONS = 'store.dimensions'
const META_MODEL = 'store.embedding_model'
const META_LEXICAL = 'store.lexical_backend'
/** Deleted chunk rows since the last VACUUM (embedded stores vacuum themselves). */
export const META_DEAD_CHUNKS = 'store.dead_chunks'

/** The migration history table; `migrate()` creates it before anything else. */
export const BOOTSTRAP_SQL = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);`

const BASE_SQL = `
CREATE TABLE meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE documents (
  path text PRIMARY KEY,
  content_hash text NOT NULL,
  size bigint NOT NULL,
  format text NOT NULL,
  title text,
  chunk_count integer NOT NULL,
  indexed_at timestamptz NOT NULL
);`

/**
 * The chunks table with its embedding column of type `embeddingType` (`vector(n)` here; the tests'
 * stand-in for a server without pgvector passes its own type), without the ANN index.
 */
export const chunksTableSql = (embeddingType: string): string => `
CREATE TABLE chunks (
  id text PRIMARY KEY,
  document_path text NOT NULL REFERENCES documents(path) ON DELETE CASCADE,
  ordinal integer NOT NULL,
  text text NOT NULL,
  heading_path jsonb NOT NULL,
  token_count integer NOT NULL,
  embedding ${embeddingType} NOT NULL
);
CREATE INDEX chunks_document_path_idx ON chunks (document_path);`

const chunksSql = (p: SchemaParams): string => `
CREATE EXTENSION IF NOT EXISTS vector;${chunksTableSql(`vector(${p.dimensions})`)}
${HNSW_INDEX_SQL};`

const LEXICAL_SQL: Record<LexicalBackend, string> = {
  bm25: `
CREATE EXTENSION IF NOT EXISTS pg_textsearch;
CREATE INDEX ${BM25_INDEX} ON chunks USING bm25 (text) WITH (text_config = 'english');`,
  tsvector: `
ALTER TABLE chunks ADD COLUMN text_tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED;
CREATE INDEX chunks_text_tsv_gin ON chunks USING gin (text_tsv);`,
}

/**
 * The query log is append-only: every write is one INSERT into a heap plus two b-tree entries (id,
 * time), no index that needs rebuilding. Structured parts are jsonb: read whole, rarely filtered.
 * Labels die with their query (retention removes the data, see Store.pruneQueryLogs).
 */
const QUERY_LOG_SQL = `
CREATE TABLE query_logs (
  id text PRIMARY KEY,
  time timestamptz NOT NULL,
  question text NOT NULL,
  retrieval jsonb,
  prompt jsonb,
  answer text,
  model text,
  adapter text,
  timings jsonb NOT NULL,
  usage jsonb,
  error jsonb,
  client text,
  extra jsonb
);
CREATE INDEX query_logs_time_idx ON query_logs (time, id);
CREATE TABLE labels (
  id text PRIMARY KEY,
  query_id text NOT NULL REFERENCES query_logs(id) ON DELETE CASCADE,
  time timestamptz NOT NULL,
  rating text CHECK (rating IN ('good', 'bad')),
  correction text,
  category text,
  source text NOT NULL,
  author text
);
CREATE INDEX labels_query_id_idx ON labels (query_id);
CREATE INDEX labels_time_idx ON labels (time);`

/**
 * API keys of the HTTP server: only sha256 hashes are stored. Revoking keeps the row (when did this
 * name stop working?); the partial unique index lets a name be issued again once its key is revoked.
 */
const API_KEYS_SQL = `
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  name text NOT NULL,
  scope text NOT NULL CHECK (scope IN ('query', 'admin')),
  key_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE UNIQUE INDEX api_keys_active_name_idx ON api_keys (name) WHERE revoked_at IS NULL;`

/** Append-only: never edit a released entry, add a new version instead. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'meta and documents', sql: () => BASE_SQL },
  { version: 2, name: 'chunks with vectors', sql: chunksSql },
  { version: 3, name: 'lexical index', sql: (p) => LEXICAL_SQL[p.lexicalBackend] },
  { version: 4, name: 'query log and labels', sql: () => QUERY_LOG_SQL },
  { version: 5, name: 'api keys', sql: () => API_KEYS_SQL },
  { version: 6, name: 'labeled examples and datasets', sql: () => DATASETS_SQL },
  { version: 7, name: 'adapter registry and eval runs', sql: () => REGISTRY_SQL },
  { version: 8, name: 'scheduled job runs', sql: () => JOB_RUNS_SQL },
  { version: 9, name: 'remote adapters', sql: () => REMOTE_ADAPTERS_SQL },
]

/** Reads what an existing store was built for; null when it was never initialised. */
export async function readSchemaParams(db: SqlExecutor): Promise<SchemaParams | null> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('meta')::text AS t`)
  if (exists.rows[0]?.t == null) return null
  const res = await db.query<{ key: string; value: string }>(
    'SELECT key, value FROM meta WHERE key = ANY($1::text[])',
    [[META_DIMENSIONS, META_MODEL, META_LEXICAL]],
  )
  const m = new Map(res.rows.map((r) => [r.key, r.value]))
  const dims = m.get(META_DIMENSIONS)
  const model = m.get(META_MODEL)
  const lexical = m.get(META_LEXICAL)
  if (dims === undefined || model === undefined || (lexical !== 'bm25' && lexical !== 'tsvector')) return null
  return { dimensions: Number(dims), embeddingModel: model, lexicalBackend: lexical }
}

/** Throws unless `dimensions` is a width the vector column and its HNSW index can hold. */
export function checkDimensions(dimensions: number): void {
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_DIMENSIONS) {
    throw new RagtuneError('STORE_BAD_DIMENSIONS', `expected an integer vector width from 1 to ${MAX_DIMENSIONS}, got ${dimensions}`, {
      details: { dimensions },
      hint: 'pass the embedding model\'s output width as `dimensions`',
    })
  }
}

/** The error a store gives when asked to hold vectors of another model than the one it was built with. */
export function modelMismatch(stored: SchemaParams, wanted: { dimensions: number; embeddingModel: string }): RagtuneError {
  return new RagtuneError(
    'STORE_MODEL_MISMATCH',
    `the index was built with embedding model ${stored.embeddingModel} (dim ${stored.dimensions}), ` +
      `but ${wanted.embeddingModel} (dim ${wanted.dimensions}) was requested; vectors of different models cannot be mixed`,
    {
      details: { stored: { model: stored.embeddingModel, dimensions: stored.dimensions }, requested: wanted },
      hint: `configure ${stored.embeddingModel} again, or re-index with the new model into a fresh data directory (--data-dir, or delete the old one's db folder)`,
    },
  )
}

/**
 * Creates or upgrades the schema in ONE transaction (the caller opens it), so a crash never leaves a
 * half-built store. The parameters of an existing store win; a different model or width is an error.
 */
export async function migrate(db: SqlExecutor, wanted: SchemaParams): Promise<SchemaParams> {
  checkDimensions(wanted.dimensions)
  await db.exec(BOOTSTRAP_SQL)
  const stored = await readSchemaParams(db)
  if (stored && (stored.dimensions !== wanted.dimensions || stored.embeddingModel !== wanted.embeddingModel)) {
    throw modelMismatch(stored, wanted)
  }
  const params = stored ?? wanted
  const applied = await db.query<{ version: number }>('SELECT version FROM schema_migrations')
  const done = new Set(applied.rows.map((r) => r.version))
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue
    await db.exec(m.sql(params))
    await db.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
  }
  if (!stored) {
    await db.query(
      'INSERT INTO meta (key, value) VALUES ($1, $2), ($3, $4), ($5, $6)',
      [META_DIMENSIONS, String(params.dimensions), META_MODEL, params.embeddingModel, META_LEXICAL, params.lexicalBackend],
    )
  }
  return params
}
