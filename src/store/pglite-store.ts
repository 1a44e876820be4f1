import { mkdir, readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { PGlite, Transaction } from '@electric-sql/pglite'
import { RagtuneError } from '../errors.js'
import type { ActivateAdapterInput, AdapterEvent, AdapterRecord } from '../spec/adapter-registry.js'
import type { ApiKeyRecord } from '../spec/api-key.js'
import type { EvalExampleResult, EvalRunFilter, EvalRunRecord } from '../spec/eval-run.js'
import type { JobOutcome, JobRunFilter, JobRunRecord, JobRunStart } from '../spec/job-run.js'
import type { AddLabeledResult, DatasetSplit, DatasetVersion, LabeledExample, LabeledExampleFilter, StoredChunk } from '../spec/dataset.js'
import type { Label, LabelFilter, QueryLogEntry, QueryLogFilter } from '../spec/query-log.js'
import type { ChunkRecord, DocumentRecord, Store, StoreHit, StoreInitOptions, StoreStats } from '../spec/store.js'
import { AdapterTables } from './adapter-registry-sql.js'
import { ApiKeyTables } from './api-key-sql.js'
import { DatasetTables } from './dataset-sql.js'
import { acquireDirLock, type DirLock } from './dir-lock.js'
import { EvalRunTables } from './eval-run-sql.js'
import { JobRunTables } from './job-run-sql.js'
import {
  checkDimensions, DROP_HNSW_INDEX_SQL, HNSW_INDEX_SQL, migrate, readSchemaParams, type LexicalBackend, type SchemaParams,
} from './migrations.js'
import { bootPostgres, resolveLexical, type LexicalChoice } from './pglite-boot.js'
import { QueryLogTables } from './query-log-sql.js'
import { checkK, checkQueryVector, validateChunks } from './store-checks.js'
import * as q from './store-sql.js'
import { readMeta, writeMeta } from './meta-sql.js'

export type { LexicalChoice } from './pglite-boot.js'

export interface PGliteStoreOptions {
  /** Directory holding the database; undefined keeps everything in memory (tests, throwaway runs). */
  dataDir?: string
  lexical?: LexicalChoice
}

/**
 * The embedded store: real Postgres (PGlite) in-process with pgvector HNSW for dense search and
 * pg_textsearch BM25 (or tsvector) for lexical search, so chunks, vectors, the full-text index and
 * the manifest change together in one transaction and can never drift apart.
 */
export class PGliteStore implements Store {
  /** Non-fatal problems found while opening (e.g. BM25 unavailable, tsvector used instead). */
  readonly warnings: string[]
  private params: SchemaParams | null
  private closed = false
  private bulkDepth = 0

  private constructor(
    private readonly db: PGlite,
    private readonly dataDir: string | null,
    private readonly lock: DirLock | null,
    private readonly lexical: LexicalBackend,
    params: SchemaParams | null,
    warnings: string[],
  ) {
    this.params = params
    this.warnings = warnings
  }

  /**
   * Opens (creating if needed) a store. A store initialised before is usable at once; a new one
   * needs `init()` to fix its vector width. Start-up costs seconds (Postgres boots in WebAssembly),
   * so open one store per process and share it.
   */
  static async open(opts: PGliteStoreOptions = {}): Promise<PGliteStore> {
    const choice = opts.lexical ?? 'auto'
    const dataDir = opts.dataDir === undefined ? null : resolve(opts.dataDir)
    let lock: DirLock | null = null
    if (dataDir) {
      await mkdir(dataDir, { recursive: true })
      lock = await acquireDirLock(dataDir)
    }
    try {
      const warnings: string[] = []
      // A data directory holding a BM25 index cannot even start without pg_textsearch loaded.
      const { db, bm25Error } = await bootPostgres(dataDir, choice !== 'tsvector' || dataDir !== null)
      try {
        const stored = await readSchemaParams(db)
        const lexical = resolveLexical(choice, stored?.lexicalBackend ?? null, bm25Error, warnings)
        // Apply migrations added since this store was created, so an opened store is current, and
        // rebuild the ANN index if a bulk load died before putting it back.
        const params = stored ? await db.transaction((tx) => migrate(tx, stored)) : null
        if (params) await buildAnnIndex(db)
        return new PGliteStore(db, dataDir, lock, lexical, params, warnings)
      } catch (err) {
        await db.close()
        throw err
      }
    } catch (err) {
      await lock?.release()
      throw err
    }
  }

  async init(opts: StoreInitOptions): Promise<void> {
    this.checkOpen()
    checkDimensions(opts.dimensions)
    const wanted: SchemaParams = { ...opts, lexicalBackend: this.lexical }
    this.params = await this.db.transaction((tx) => migrate(tx, wanted))
  }

  async listDocuments(): Promise<DocumentRecord[]> {
    this.ready()
    const res = await this.db.query<q.DocumentRow>(q.LIST_DOCUMENTS_SQL)
    return res.rows.map(q.toDocument)
  }

  async replaceDocument(doc: DocumentRecord, chunks: ChunkRecord[]): Promise<void> {
    const params = this.ready()
    validateChunks(doc, chunks, params.dimensions)
    await this.write('replace', doc.path, async (tx) => {
      const deleted = await tx.query(q.DELETE_CHUNKS_SQL, [doc.path])
      await tx.query(q.UPSERT_DOCUMENT_SQL, q.documentParams(doc))
      for (let i = 0; i < chunks.length; i += q.INSERT_BATCH) {
        await tx.query(q.INSERT_CHUNKS_SQL, q.chunkBatchParams(chunks.slice(i, i + q.INSERT_BATCH)))
      }
      return deleted.affectedRows ?? 0
    })
  }

  async deleteDocument(path: string): Promise<void> {
    this.ready()
    await this.write('delete', path, async (tx) => {
      const deleted = await tx.query(q.DELETE_CHUNKS_SQL, [path])
      await tx.query(q.DELETE_DOCUMENT_SQL, [path])
      return deleted.affectedRows ?? 0
    })
  }

  async searchDense(embedding: Float32Array, k: number): Promise<StoreHit[]> {
    const params = this.ready()
    checkK(k)
    checkQueryVector(embedding, params.dimensions, params.embeddingModel)
    if (k === 0) return []
    return this.db.transaction(async (tx) => {
      await tx.query(q.SET_EF_SEARCH_SQL, [String(q.efSearchFor(k))])
      const res = await tx.query<q.HitRow>(q.DENSE_SEARCH_SQL, [q.vectorLiteral(embedding), k])
      return res.rows.map(q.toHit)
    })
  }

  async searchLexical(query: string, k: number): Promise<StoreHit[]> {
    this.ready()
    checkK(k)
    if (k === 0 || query.trim() === '') return []
    let param = query
    if (this.lexical === 'tsvector') {
      const built = await this.db.query<{ query: string | null }>(q.OR_TSQUERY_SQL, [query])
      const tsquery = built.rows[0]?.query
      if (tsquery == null) return []
      param = tsquery
    }
    const res = await this.db.query<q.HitRow>(q.LEXICAL_SEARCH_SQL[this.lexical], [param, k])
    return (this.lexical === 'bm25' ? q.keepMatches(res.rows) : res.rows).map(q.toHit)
  }

  async chunkCount(): Promise<number> {
    this.ready()
    const res = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks')
    return res.rows[0]?.n ?? 0
  }

  async stats(): Promise<StoreStats> {
    this.checkOpen()
    const counts = this.params
      ? (await this.db.query<{ d: number; c: number }>('SELECT (SELECT count(*)::int FROM documents) AS d, (SELECT count(*)::int FROM chunks) AS c')).rows[0]
      : undefined
    return {
      documents: counts?.d ?? 0,
      chunks: counts?.c ?? 0,
      lexicalBackend: this.lexical,
      dimensions: this.params?.dimensions ?? null,
      embeddingModel: this.params?.embeddingModel ?? null,
      diskBytes: this.dataDir ? await directoryBytes(this.dataDir) : null,
    }
  }

  // The query log and API keys: shared SQL (query-log-sql.ts, api-key-sql.ts); async so a closed or new store rejects, never throws.
  async appendQueryLog(entry: QueryLogEntry): Promise<void> { return this.logs().append(entry) }
  async getQueryLog(id: string): Promise<QueryLogEntry | null> { return this.logs().get(id) }
  async listQueryLogs(filter?: QueryLogFilter): Promise<QueryLogEntry[]> { return this.logs().list(filter) }
  async addLabel(label: Label): Promise<void> { return this.logs().addLabel(label) }
  async listLabels(filter?: LabelFilter): Promise<Label[]> { return this.logs().listLabels(filter) }
  async addApiKey(key: ApiKeyRecord): Promise<void> { return this.keys().add(key) }
  async listApiKeys(): Promise<ApiKeyRecord[]> { return this.keys().list() }
  async revokeApiKey(name: string, at = new Date().toISOString()): Promise<ApiKeyRecord> { return this.keys().revoke(name, at) }
  // Imported labels and dataset versions: shared SQL (dataset-sql.ts).
  async addLabeledExamples(examples: LabeledExample[]): Promise<AddLabeledResult> { return this.datasets().addLabeled(examples) }
  async listLabeledExamples(filter?: LabeledExampleFilter): Promise<LabeledExample[]> { return this.datasets().listLabeled(filter) }
  async saveDataset(version: DatasetVersion, records: Array<{ split: DatasetSplit; record: unknown }>): Promise<void> { return this.datasets().save(version, records) }
  async getDataset(ref: { id: string } | { hash: string }): Promise<DatasetVersion | null> { return 'id' in ref ? this.datasets().get(ref.id) : this.datasets().findByHash(ref.hash) }
  async listDatasets(): Promise<DatasetVersion[]> { return this.datasets().list() }
  async listDatasetRecords(id: string, split: DatasetSplit): Promise<unknown[]> { return this.datasets().records(id, split) }
  async getChunks(query: { ids: string[] } | { documentPaths: string[] }): Promise<StoredChunk[]> { return this.datasets().chunks(query) }
  // Adapter registry and eval runs: shared SQL (adapter-registry-sql.ts, eval-run-sql.ts); every multi-row write is one transaction.
  async addAdapter(record: AdapterRecord, event: AdapterEvent): Promise<void> { return this.inTx((tx) => new AdapterTables(tx).add(record, event)) }
  async getAdapter(name: string): Promise<AdapterRecord | null> { return this.adapters().get(name) }
  async listAdapters(): Promise<AdapterRecord[]> { return this.adapters().list() }
  async getActiveAdapter(): Promise<AdapterRecord | null> { return this.adapters().active() }
  async activateAdapter(input: ActivateAdapterInput): Promise<AdapterRecord> { return this.inTx((tx) => new AdapterTables(tx).activate(input)) }
  async removeAdapter(name: string, event: AdapterEvent): Promise<void> { return this.inTx((tx) => new AdapterTables(tx).remove(name, event)) }
  async listAdapterEvents(filter?: { adapter?: string }): Promise<AdapterEvent[]> { return this.adapters().events(filter) }
  async addEvalRun(run: EvalRunRecord, results: EvalExampleResult[]): Promise<void> { return this.inTx((tx) => new EvalRunTables(tx).add(run, results)) }
  async getEvalRun(id: string): Promise<EvalRunRecord | null> { return this.evalRuns().get(id) }
  async listEvalRuns(filter?: EvalRunFilter): Promise<EvalRunRecord[]> { return this.evalRuns().list(filter) }
  async listEvalResults(runId: string): Promise<EvalExampleResult[]> { return this.evalRuns().results(runId) }
  // Scheduled job runs: shared SQL (job-run-sql.ts); the partial unique index on running rows is the no-concurrent-run guard.
  async startJobRun(run: JobRunRecord): Promise<JobRunStart> { return this.jobs().start(run) }
  async addJobRun(run: JobRunRecord): Promise<void> { return this.jobs().add(run) }
  async heartbeatJobRun(id: string, at: string): Promise<boolean> { return this.jobs().heartbeat(id, at) }
  async finishJobRun(id: string, end: { outcome: Exclude<JobOutcome, 'running'>; finishedAt: string; detail: Record<string, unknown> }): Promise<boolean> { return this.jobs().finish(id, end) }
  async failRunningJobRun(id: string, at: string, detail: Record<string, unknown>): Promise<boolean> { return this.jobs().failRunning(id, at, detail) }
  async getJobRun(id: string): Promise<JobRunRecord | null> { return this.jobs().get(id) }
  async listJobRuns(filter?: JobRunFilter): Promise<JobRunRecord[]> { return this.jobs().list(filter) }

  /** Vacuums after deleting, as PGlite runs no autovacuum. */
  async pruneQueryLogs(olderThan: Date): Promise<number> {
    const n = await this.logs().prune(olderThan)
    if (n > 0) await this.db.exec('VACUUM (ANALYZE) query_logs, labels')
    return n
  }

  async getMeta(key: string): Promise<string | null> {
    this.ready()
    return readMeta(this.db, key)
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.ready()
    return writeMeta(this.db, key, value)
  }

  /** Shuts Postgres down (flushing the data directory) and releases the directory lock. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await this.db.close()
    } finally {
      await this.lock?.release()
    }
  }

  /**
   * For runs that write a large share of the store (a first index, a re-index after a model change).
   * Keeping the HNSW graph current row by row costs ~9 ms per 384-d chunk in WebAssembly; building
   * it once after the run costs ~2 ms per chunk (measured at 5,000 chunks). Meanwhile dense search stays correct (an exact
   * scan) and every document is still written in its own transaction; a run that dies half way
   * leaves the index missing, and the next open rebuilds it. Not worth it for a few changed files
   * in a large store: the rebuild covers every chunk.
   */
  async bulkLoad<T>(fn: () => Promise<T>): Promise<T> {
    this.ready()
    if (this.bulkDepth === 0) await this.db.exec(DROP_HNSW_INDEX_SQL)
    this.bulkDepth++
    let result: T
    try {
      result = await fn()
    } catch (err) {
      // Keep the caller's error and exit quickly (Ctrl-C): the next open rebuilds the missing index.
      this.bulkDepth--
      throw err
    }
    if (--this.bulkDepth === 0 && !this.closed) await buildAnnIndex(this.db)
    return result
  }

  private checkOpen(): void {
    if (this.closed) throw new RagtuneError('STORE_CLOSED', 'the store was closed', { hint: 'open it again with PGliteStore.open()' })
  }

  private logs(): QueryLogTables { this.ready(); return new QueryLogTables(this.db) }
  private keys(): ApiKeyTables { this.ready(); return new ApiKeyTables(this.db) }
  private datasets(): DatasetTables { this.ready(); return new DatasetTables(this.db, (fn) => this.db.transaction(fn)) }
  private adapters(): AdapterTables { this.ready(); return new AdapterTables(this.db) }
  private evalRuns(): EvalRunTables { this.ready(); return new EvalRunTables(this.db) }
  private jobs(): JobRunTables { this.ready(); return new JobRunTables(this.db) }
  private async inTx<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> { this.ready(); return this.db.transaction(fn) }

  private ready(): SchemaParams {
    this.checkOpen()
    if (!this.params) {
      throw new RagtuneError('STORE_NOT_INITIALISED', 'the store has no schema yet: its vector width is unknown', {
        hint: 'call init({ dimensions, embeddingModel }) once after opening a new store',
      })
    }
    return this.params
  }

  /**
   * One transaction per write; a failure rolls it back and says which document it was. `fn` returns
   * how many chunk rows it deleted, which feeds the vacuum policy below.
   */
  private async write(op: string, path: string, fn: (tx: Transaction) => Promise<number>): Promise<void> {
    let dead: number
    try {
      dead = await this.db.transaction(async (tx) => {
        const deleted = await fn(tx)
        if (deleted === 0) return 0
        const res = await tx.query<{ dead: number }>(q.ADD_DEAD_CHUNKS_SQL, [deleted])
        return Number(res.rows[0]?.dead ?? 0)
      })
    } catch (err) {
      if (err instanceof RagtuneError) throw err
      throw new RagtuneError('STORE_WRITE_FAILED', `could not ${op} document ${path}: ${(err as Error).message}; the previous version is kept`, {
        details: { path, op },
        ...(/no space left on device/i.test((err as Error).message) ? { hint: 'free space on the disk that holds the data folder, then run the same command again: it continues where this one stopped' } : {}),
        cause: err,
      })
    }
    if (dead > 0) await this.vacuumIfNeeded(dead)
  }

  /**
   * PGlite runs no autovacuum. Deleted chunks stay in the HNSW graph and crowd its ef_search
   * candidates (a re-indexed corpus can return no dense hits at all) and skew BM25 corpus
   * statistics, so vacuum once dead rows reach a tenth of the live ones.
   */
  private async vacuumIfNeeded(dead: number): Promise<void> {
    if (dead < VACUUM_MIN_DEAD || dead < (await this.chunkCount()) * VACUUM_DEAD_RATIO) return
    await this.db.exec('VACUUM (ANALYZE) chunks')
    await this.db.query(q.RESET_DEAD_CHUNKS_SQL)
  }
}

async function buildAnnIndex(db: PGlite): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('maintenance_work_mem', '256MB', true)`)
    await tx.exec(HNSW_INDEX_SQL)
  })
}

const VACUUM_MIN_DEAD = 100
const VACUUM_DEAD_RATIO = 0.1

async function directoryBytes(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    total += (await stat(join(entry.parentPath ?? entry.path, entry.name)).catch(() => ({ size: 0 }))).size
  }
  return total
}
