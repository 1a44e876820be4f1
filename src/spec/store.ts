import type { AdapterRegistryStore } from './adapter-registry.js'
import type { ApiKeyRecord } from './api-key.js'
import type { AddLabeledResult, DatasetSplit, DatasetVersion, LabeledExample, LabeledExampleFilter, StoredChunk } from './dataset.js'
import type { EvalRunStore } from './eval-run.js'
import type { JobRunStore } from './job-run.js'
import type { Label, LabelFilter, QueryLogEntry, QueryLogFilter } from './query-log.js'

/** One row of the manifest: what was indexed for a file, so the next run can tell what changed. */
export interface DocumentRecord {
  /** Path relative to the indexed root, forward slashes. */
  path: string
  /** sha256 hex of the file's bytes. */
  contentHash: string
  size: number
  format: string
  title?: string
  chunkCount: number
  indexedAt: string
}

export interface ChunkRecord {
  id: string
  documentPath: string
  ordinal: number
  text: string
  headingPath: string[]
  tokenCount: number
  embedding: Float32Array
}

export interface StoreHit {
  chunkId: string
  documentPath: string
  headingPath: string[]
  text: string
  ordinal: number
  /** Stage score: cosine similarity for dense, BM25 (or ts_rank) for lexical; higher is better. */
  score: number
}

export interface StoreStats {
  documents: number
  chunks: number
  lexicalBackend: 'bm25' | 'tsvector'
  dimensions: number | null
  embeddingModel: string | null
  /** Bytes on disk of the data directory, when persisted. */
  diskBytes: number | null
}

export interface StoreInitOptions {
  /** Vector width; a store created for another width refuses to open (clear error, no silent mixing). */
  dimensions: number
  embeddingModel: string
}

/** Adapter registry, eval runs and scheduled job runs live in the same schema (spec/adapter-registry.ts, spec/eval-run.ts, spec/job-run.ts). */
export interface Store extends AdapterRegistryStore, EvalRunStore, JobRunStore {
  /** Creates or migrates the schema; checks dimensions and embedding model against what is stored. */
  init(opts: StoreInitOptions): Promise<void>
  /** The manifest. */
  listDocuments(): Promise<DocumentRecord[]>
  /** Replaces the document's chunks and its manifest row in ONE transaction. */
  replaceDocument(doc: DocumentRecord, chunks: ChunkRecord[]): Promise<void>
  /** Removes the document's chunks and manifest row in one transaction; a missing path is a no-op. */
  deleteDocument(path: string): Promise<void>
  searchDense(embedding: Float32Array, k: number): Promise<StoreHit[]>
  searchLexical(query: string, k: number): Promise<StoreHit[]>
  chunkCount(): Promise<number>
  stats(): Promise<StoreStats>
  /**
   * Runs a large write with index maintenance deferred (e.g. HNSW rebuilt once at the end), when the
   * store can do that; stores without it simply run `fn`. A crash inside leaves a store that repairs
   * its indexes on the next open.
   */
  bulkLoad?<T>(fn: () => Promise<T>): Promise<T>
  /**
   * Appends one query log row: a single INSERT, cheap enough to run on every query. Strings are
   * stored as given except NUL characters (Postgres text cannot hold them), which become U+FFFD so a
   * log write never fails on content.
   */
  appendQueryLog(entry: QueryLogEntry): Promise<void>
  /** One logged query, or null when the id is unknown (or was pruned). */
  getQueryLog(id: string): Promise<QueryLogEntry | null>
  /** Newest first (time, then id); pass the last id of a page as `afterId` for the next page. */
  listQueryLogs(filter?: QueryLogFilter): Promise<QueryLogEntry[]>
  /** Adds a label to a logged query; an unknown `queryId` throws QUERY_NOT_FOUND. */
  addLabel(label: Label): Promise<void>
  /** Oldest first, so the last label of a query is its current judgement. */
  listLabels(filter?: LabelFilter): Promise<Label[]>
  /**
   * Deletes queries logged before `olderThan` and returns how many. Their labels go with them
   * (cascade): retention means the data is gone, and a label without its query cannot train anything.
   */
  pruneQueryLogs(olderThan: Date): Promise<number>
  /**
   * Stores a new API key (its hash, never the key). A second active key with the same name is
   * API_KEY_EXISTS: names identify callers in the log, so they must not be ambiguous.
   */
  addApiKey(key: ApiKeyRecord): Promise<void>
  /** Every key, revoked ones included, oldest first (then by id). */
  listApiKeys(): Promise<ApiKeyRecord[]>
  /** Revokes the active key of that name and returns it; no active key of that name is API_KEY_NOT_FOUND. */
  revokeApiKey(name: string, at?: string): Promise<ApiKeyRecord>
  /**
   * Stores imported labels in ONE transaction (a bad batch lands nothing); ids already present are
   * skipped, so importing a file twice adds nothing.
   */
  addLabeledExamples(examples: LabeledExample[]): Promise<AddLabeledResult>
  /** Imported labels, oldest import first. */
  listLabeledExamples(filter?: LabeledExampleFilter): Promise<LabeledExample[]>
  /** Stores a dataset version with its records in one transaction; a version with the same hash is DATASET_EXISTS. */
  saveDataset(version: DatasetVersion, records: Array<{ split: DatasetSplit; record: unknown }>): Promise<void>
  /** One dataset version (by id, or by content hash), or null. */
  getDataset(ref: { id: string } | { hash: string }): Promise<DatasetVersion | null>
  /** Every stored version, newest first. */
  listDatasets(): Promise<DatasetVersion[]>
  /** The records of one split in build order; an unknown id is DATASET_NOT_FOUND. */
  listDatasetRecords(id: string, split: DatasetSplit): Promise<unknown[]>
  /**
   * Indexed chunks by id (in the order asked; ids no longer indexed are left out) or every chunk of
   * the given documents (by path, then ordinal): how a gold chunk retrieval missed is found again.
   */
  getChunks(query: { ids: string[] } | { documentPaths: string[] }): Promise<StoredChunk[]>
  getMeta(key: string): Promise<string | null>
  setMeta(key: string, value: string): Promise<void>
  close(): Promise<void>
}
