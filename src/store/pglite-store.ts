import { mkdir, readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { PGlite, Transaction } from '@electric-sql/pglite'
import { RagtuneError } from '../errors.js'
import type { ActivateAdapterInput, AdapterRecord } from '../spec/adapter-registry.js'
import type { ChunkRecord, DocumentRecord, Store, StoreHit, StoreInitOptions, StoreStats } from '../spec/store.js'
import { AdapterTables } from './adapter-registry-sql.js'
import { acquireDirLock, type DirLock } from './dir-lock.js'
import {
  checkDimensions, DROP_HNSW_INDEX_SQL, HNSW_INDEX_SQL, migrate, readSchemaParams, type LexicalBackend, type SchemaParams,
} from './migrations.js'
import { bootPostgres, resolveLexical, type LexicalChoice } from './pglite-boot.js'
import { SqlStore } from './sql-store.js'
import { checkK, checkQueryVector, validateChunks } from './store-checks.js'
import * as q from './store-sql.js'

export type { LexicalChoice } from './pglite-boot.js'

export interface PGliteStoreOptions {
  /** Directory holding the database; undefined keeps everything in memory (tests, throwaway runs). */
  dataDir?: string
  lexical?: LexicalChoice
}

/**
 * The embedded store: real Postgres (PGlite) in-process with pgvector HNSW for dense search and
 * pg_textsearch BM25 (or tsvector) for lexical search, so chunks, vectors, the full-text index and
 * the manifest change together in one transaction and can never drift apart. Listing, lexical search
 * and the relational tables are shared with the server store (sql-store.ts).
 */
export class PGliteStore extends SqlStore<PGlite> implements Store {
  /** Non-fatal problems found while opening (e.g. BM25 unavailable, tsvector used instead). */
  readonly warnings: string[]
  private params: SchemaParams | null
  private closed = false
  private bulkDepth = 0

  private constructor(
    db: PGlite,
    private readonly dataDir: string | null,
    private readonly lock: DirLock | null,
    protected readonly lexical: LexicalBackend,
    params: SchemaParams | null,
    warnings: string[],
  ) {
    super(db)
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

  /** Vacuums after deleting, as PGlite runs no autovacuum. */
  async pruneQueryLogs(olderThan: Date): Promise<number> {
    const n = await this.logs().prune(olderThan)
    if (n > 0) await this.db.exec('VACUUM (ANALYZE) query_logs, labels')
    return n
  }

  /** PGlite is one connection owned by this process: a plain transaction serializes promotions (no advisory lock, no NOTIFY). */
  async activateAdapter(input: ActivateAdapterInput): Promise<AdapterRecord> { return this.inTx((tx) => new AdapterTables(tx).activate(input)) }

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

  protected ready(): SchemaParams {
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
