import type { ChunkRecord, DocumentRecord, StoreHit } from '../spec/store.js'
import { BM25_INDEX, META_DEAD_CHUNKS, type LexicalBackend } from './migrations.js'

/*
 * The statements every SQL store runs, kept apart from any driver so the embedded (PGlite) and the
 * server (`pg`) store stay one dialect. Every user value travels as a bind parameter.
 */

const HIT_COLUMNS = 'id, document_path, heading_path, text, ordinal'

/** Rows are inserted this many at a time: few round trips, yet bounded message size (~4 MB at 384-d). */
export const INSERT_BATCH = 500

export const UPSERT_DOCUMENT_SQL = `
INSERT INTO documents (path, content_hash, size, format, title, chunk_count, indexed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (path) DO UPDATE SET
  content_hash = EXCLUDED.content_hash, size = EXCLUDED.size, format = EXCLUDED.format,
  title = EXCLUDED.title, chunk_count = EXCLUDED.chunk_count, indexed_at = EXCLUDED.indexed_at`

export const DELETE_CHUNKS_SQL = 'DELETE FROM chunks WHERE document_path = $1'
export const DELETE_DOCUMENT_SQL = 'DELETE FROM documents WHERE path = $1'

/** One statement per batch: parallel arrays unnested into rows. */
export const INSERT_CHUNKS_SQL = `
INSERT INTO chunks (id, document_path, ordinal, text, heading_path, token_count, embedding)
SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::jsonb[], $6::int[], $7::text[]::vector[])`

/** Running count of deleted chunk rows not yet vacuumed; kept in meta so it survives restarts. */
export const ADD_DEAD_CHUNKS_SQL = `
INSERT INTO meta (key, value) VALUES ('${META_DEAD_CHUNKS}', $1::text)
ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + EXCLUDED.value::bigint)::text
RETURNING value::bigint AS dead`

export const RESET_DEAD_CHUNKS_SQL = `UPDATE meta SET value = '0' WHERE key = '${META_DEAD_CHUNKS}'`

export const LIST_DOCUMENTS_SQL = `
SELECT path, content_hash, size, format, title, chunk_count, indexed_at FROM documents ORDER BY path`

/** `<=>` is cosine distance; ordering by it (then id for ties) lets the HNSW index answer. */
export const DENSE_SEARCH_SQL = `
SELECT ${HIT_COLUMNS}, 1 - (embedding <=> $1::vector) AS score
FROM chunks ORDER BY embedding <=> $1::vector, id LIMIT $2`

/** HNSW only returns `ef_search` candidates; asking for more than that silently truncates results. */
export const SET_EF_SEARCH_SQL = `SELECT set_config('hnsw.ef_search', $1, true)`

/** Twice k leaves room for deleted rows not yet vacuumed; pgvector caps ef_search at 1000. */
export function efSearchFor(k: number): number {
  return Math.min(1000, Math.max(40, k * 2))
}

/**
 * Free text to an OR of its English lexemes. plainto/websearch_to_tsquery AND the terms, which is
 * wrong for retrieval; building the tsquery text from the lexemes (each quoted, quotes and
 * backslashes escaped) means no user character is ever read as a tsquery operator. NULL when the
 * text has no lexemes (only stop words or punctuation).
 */
export const OR_TSQUERY_SQL = `
SELECT nullif(array_to_string(array(
  SELECT '''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || ''''
  FROM unnest(tsvector_to_array(to_tsvector('english', $1))) AS lexeme
), ' | '), '')::text AS query`

/**
 * BM25 scores come back negated (`<@>` sorts ascending); negate again so higher is better. Every
 * evaluation of `<@>` re-tokenises the chunk, so there is no WHERE clause (it doubled the query time):
 * the index scan yields matching rows only, and `keepMatches` drops the zero-score rows a sequential
 * scan plan could add.
 */
const BM25_SEARCH_SQL = `
SELECT ${HIT_COLUMNS}, -(text <@> to_bm25query($1, '${BM25_INDEX}')) AS score
FROM chunks
ORDER BY text <@> to_bm25query($1, '${BM25_INDEX}'), id LIMIT $2`

/** `$1` is the tsquery from OR_TSQUERY_SQL; a real parameter lets the planner use the GIN index. */
const TSVECTOR_SEARCH_SQL = `
SELECT ${HIT_COLUMNS}, ts_rank_cd(text_tsv, $1::tsquery) AS score
FROM chunks
WHERE text_tsv @@ $1::tsquery
ORDER BY score DESC, id LIMIT $2`

export const LEXICAL_SEARCH_SQL: Record<LexicalBackend, string> = {
  bm25: BM25_SEARCH_SQL,
  tsvector: TSVECTOR_SEARCH_SQL,
}

export interface HitRow {
  id: string
  document_path: string
  heading_path: string[]
  text: string
  ordinal: number
  score: number
}

export interface DocumentRow {
  path: string
  content_hash: string
  size: number | string
  format: string
  title: string | null
  chunk_count: number
  indexed_at: Date | string
}

/** BM25 hits must match at least one term; a non-matching row scores 0 (tsvector filters in SQL). */
export function keepMatches(rows: HitRow[]): HitRow[] {
  return rows.filter((r) => Number(r.score) > 0)
}

export function toHit(r: HitRow): StoreHit {
  return {
    chunkId: r.id,
    documentPath: r.document_path,
    headingPath: r.heading_path,
    text: r.text,
    ordinal: r.ordinal,
    score: Number(r.score),
  }
}

/** Timestamps come back as Date (timestamptz); the manifest speaks ISO strings. */
export function toDocument(r: DocumentRow): DocumentRecord {
  const doc: DocumentRecord = {
    path: r.path,
    contentHash: r.content_hash,
    size: Number(r.size),
    format: r.format,
    chunkCount: r.chunk_count,
    indexedAt: new Date(r.indexed_at).toISOString(),
  }
  if (r.title !== null) doc.title = r.title
  return doc
}

export function documentParams(doc: DocumentRecord): unknown[] {
  return [doc.path, doc.contentHash, doc.size, doc.format, doc.title ?? null, doc.chunkCount, doc.indexedAt]
}

/**
 * pgvector's text form. Nine significant digits round-trip every float32 exactly and are ~40% shorter
 * than JS's shortest double form, which matters at 5,000 × 384 numbers per indexing run.
 */
export function vectorLiteral(v: Float32Array): string {
  let s = '['
  for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ',') + (v[i] as number).toPrecision(9)
  return s + ']'
}

/** Parallel arrays for INSERT_CHUNKS_SQL. */
export function chunkBatchParams(chunks: readonly ChunkRecord[]): unknown[] {
  return [
    chunks.map((c) => c.id),
    chunks.map((c) => c.documentPath),
    chunks.map((c) => c.ordinal),
    chunks.map((c) => c.text),
    chunks.map((c) => JSON.stringify(c.headingPath)),
    chunks.map((c) => c.tokenCount),
    chunks.map((c) => vectorLiteral(c.embedding)),
  ]
}
