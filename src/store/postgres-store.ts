import { RagtuneError } from '../errors.js'
import type { ActivateAdapterInput, AdapterRecord } from '../spec/adapter-registry.js'
import type { ActiveAdapterEvents } from '../spec/store-events.js'
import type { ChunkRecord, DocumentRecord, Store, StoreHit, StoreInitOptions, StoreStats } from '../spec/store.js'
import { AdapterTables } from './adapter-registry-sql.js'
import { checkDimensions, migrate, readSchemaParams, type LexicalBackend, type SchemaParams } from './migrations.js'
import { resolveLexical, type LexicalChoice } from './pglite-boot.js'
import { advisoryKey, PgDatabase, type PgDatabaseOptions, type PgExecutor } from './postgres-database.js'
import { PgListener } from './postgres-listener.js'
import { bulkLoadLocked, repairAnnIndex } from './postgres-bulk-load.js'
import { SqlStore } from './sql-store.js'
import { checkK, checkQueryVector, validateChunks } from './store-checks.js'
import * as q from './store-sql.js'

export interface PostgresStoreOptions extends PgDatabaseOptions {
  lexical?: LexicalChoice
}

/**
 * The server store: PostgreSQL with pgvector through `pg`, with the embedded store's migrations and
 * SQL. Many processes may open it at once (several `ragtune serve`, an indexer, the CLI): schema
 * changes, bulk loads, promotions and each document's replacement are serialized by advisory locks,
 * and promotions are announced with NOTIFY (`watchActiveAdapter`). Listing, lexical search and the
 * relational tables (query log, labels, API keys, datasets, the adapter registry, eval runs, job runs,
 * meta) go through the same code as the embedded store (sql-store.ts); only pruning and promotion differ.
 */
export class PostgresStore extends SqlStore<PgDatabase> implements Store, ActiveAdapterEvents {
  /** Non-fatal problems found while opening (e.g. BM25 unavailable, tsvector used instead). */
  readonly warnings: string[]
  private params: SchemaParams | null
  private closed = false
  private bulkDepth = 0
  private iterative: Promise<boolean> | undefined
  private readonly listeners = new Set<PgListener>()
  /** NOTIFY channel of this schema's active-adapter changes (hashed: channel names stop at 63 bytes). */
  private readonly adapterChannel: string

  private constructor(
    db: PgDatabase,
    protected lexical: LexicalBackend,
    private readonly lexicalChoice: LexicalChoice,
    params: SchemaParams | null,
    warnings: string[],
  ) {
    super(db)
    this.adapterChannel = `ragtune_adapters_${BigInt.asUintN(64, BigInt(advisoryKey(db.schema, 'adapter-channel'))).toString(16)}`
    this.params = params
    this.warnings = warnings
  }

  /**
   * Connects and, for a store initialised before, applies migrations added since. A new store needs
   * `init()` to fix its vector width, exactly like the embedded one.
   */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const db = await PgDatabase.connect(opts)
    try {
      const warnings: string[] = []
      const choice = opts.lexical ?? 'auto'
      const stored = await readSchemaParams(db)
      const wantBm25 = stored ? stored.lexicalBackend === 'bm25' : choice !== 'tsvector'
      const bm25 = wantBm25 ? await bm25Error(db) : null
      const lexical = resolveLexical(choice, stored?.lexicalBackend ?? null, bm25, warnings)
      const params = stored ? await migrateLocked(db, stored) : null
      if (params) await repairAnnIndex(db)
      return new PostgresStore(db, lexical, choice, params, warnings)
    } catch (err) {
      await db.close()
      throw err
    }
  }

  async init(opts: StoreInitOptions): Promise<void> {
    this.checkOpen()
    checkDimensions(opts.dimensions)
    await requirePgvector(this.db)
    this.params = await migrateLocked(this.db, { ...opts, lexicalBackend: this.lexical })
    // Another process may have created the schema first, with the other lexical backend: theirs stands.
    if (this.params.lexicalBackend !== this.lexical) {
      const bm25 = this.params.lexicalBackend === 'bm25' ? await bm25Error(this.db) : null
      this.lexical = resolveLexical(this.lexicalChoice, this.params.lexicalBackend, bm25, this.warnings)
    }
  }

  async replaceDocument(doc: DocumentRecord, chunks: ChunkRecord[]): Promise<void> {
    const params = this.ready()
    validateChunks(doc, chunks, params.dimensions)
    await this.write('replace', doc.path, async (tx) => {
      await tx.query(q.DELETE_CHUNKS_SQL, [doc.path])
      await tx.query(q.UPSERT_DOCUMENT_SQL, q.documentParams(doc))
      for (let i = 0; i < chunks.length; i += q.INSERT_BATCH) {
        await tx.query(q.INSERT_CHUNKS_SQL, q.chunkBatchParams(chunks.slice(i, i + q.INSERT_BATCH)))
      }
    })
  }

  async deleteDocument(path: string): Promise<void> {
    this.ready()
    await this.write('delete', path, async (tx) => {
      await tx.query(q.DELETE_CHUNKS_SQL, [path])
      await tx.query(q.DELETE_DOCUMENT_SQL, [path])
    })
  }

  async searchDense(embedding: Float32Array, k: number): Promise<StoreHit[]> {
    const params = this.ready()
    checkK(k)
    checkQueryVector(embedding, params.dimensions, params.embeddingModel)
    if (k === 0) return []
    // pgvector >= 0.8 keeps walking the graph past deleted rows autovacuum has not reclaimed yet.
    const iterative = await this.iterativeScan()
    return this.db.transaction(async (tx) => {
      await tx.query(q.SET_EF_SEARCH_SQL, [String(q.efSearchFor(k))])
      if (iterative) await tx.query(`SELECT set_config('hnsw.iterative_scan', 'strict_order', true)`)
      return (await tx.query<q.HitRow>(q.DENSE_SEARCH_SQL, [q.vectorLiteral(embedding), k])).rows.map(q.toHit)
    })
  }

  /** `diskBytes` is what this schema's tables and their indexes take on the server. */
  async stats(): Promise<StoreStats> {
    this.checkOpen()
    const row = this.params
      ? (await this.db.query<{ d: number; c: number; bytes: string }>(
        `SELECT (SELECT count(*)::int FROM documents) AS d, (SELECT count(*)::int FROM chunks) AS c,
          (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = $1 AND c.relkind = 'r') AS bytes`,
        [this.db.schema],
      )).rows[0]
      : undefined
    return {
      documents: row?.d ?? 0,
      chunks: row?.c ?? 0,
      lexicalBackend: this.lexical,
      dimensions: this.params?.dimensions ?? null,
      embeddingModel: this.params?.embeddingModel ?? null,
      diskBytes: row ? Number(row.bytes) : null,
    }
  }

  /** Autovacuum reclaims the space on a server; no VACUUM here (it would block other writers). */
  async pruneQueryLogs(olderThan: Date): Promise<number> { return this.logs().prune(olderThan) }

  /**
   * The check-then-move of the active pointer runs under a transaction-level advisory lock: two
   * processes promoting at once are serialized, and the second sees the first's result (its
   * `expectedActive` no longer holds: ADAPTER_CONFLICT) instead of silently overwriting it. The move
   * is announced with NOTIFY in the same transaction, so listeners hear of it exactly when it commits.
   */
  async activateAdapter(input: ActivateAdapterInput): Promise<AdapterRecord> {
    return this.inTx(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(this.db.schema, 'promote')])
      const record = await new AdapterTables(tx).activate(input)
      await tx.query('SELECT pg_notify($1, $2)', [this.adapterChannel, JSON.stringify({ active: record.name, id: record.id })])
      return record
    })
  }

  /**
   * One bulk load at a time per schema (an advisory lock; a second indexer waits). On an empty store
   * the HNSW index is dropped and built once at the end; on a store others may be serving from it
   * stays, so their dense search never falls back to a full scan (see postgres-bulk-load.ts).
   */
  async bulkLoad<T>(fn: () => Promise<T>): Promise<T> {
    this.ready()
    // Nested loads run inside the outer one (its lock is held on another connection: waiting would deadlock).
    if (this.bulkDepth > 0) return fn()
    this.bulkDepth++
    try {
      return await bulkLoadLocked(this.db, fn)
    } finally {
      this.bulkDepth--
    }
  }

  async watchActiveAdapter(listener: () => void, opts: { onError?: (err: Error) => void } = {}): Promise<() => Promise<void>> {
    this.ready()
    const started = await PgListener.start({
      newClient: () => this.db.newClient(),
      channel: this.adapterChannel,
      onNotify: listener,
      onReconnect: listener,
      ...(opts.onError ? { onError: opts.onError } : {}),
    })
    this.listeners.add(started)
    return async () => {
      this.listeners.delete(started)
      await started.close()
    }
  }

  /** Stops listening and closes every pooled connection. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.allSettled([...this.listeners].map((l) => l.close()))
    this.listeners.clear()
    await this.db.close()
  }

  protected ready(): SchemaParams {
    this.checkOpen()
    if (!this.params) {
      throw new RagtuneError('STORE_NOT_INITIALISED', 'the store has no schema yet: its vector width is unknown', {
        hint: 'call init({ dimensions, embeddingModel }) once after opening a new store (`ragtune index` does)',
      })
    }
    return this.params
  }

  /** Whether the installed pgvector has iterative index scans (0.8.0 and later); asked once. */
  private iterativeScan(): Promise<boolean> {
    this.iterative ??= this.db
      .query<{ v: string | null }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`)
      .then((res) => {
        const [major = 0, minor = 0] = (res.rows[0]?.v ?? '0.0').split('.').map(Number)
        return major > 0 || minor >= 8
      })
    return this.iterative
  }

  private checkOpen(): void {
    if (this.closed) throw new RagtuneError('STORE_CLOSED', 'the store was closed', { hint: 'open it again with PostgresStore.open()' })
  }

  /**
   * One transaction per document, under a per-path advisory lock: two indexers writing the same
   * document take turns, so the second deletes what the first inserted instead of colliding with it.
   */
  private async write(op: string, path: string, fn: (tx: PgExecutor) => Promise<void>): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, $2::bigint))', [path, advisoryKey(this.db.schema, 'document')])
        await fn(tx)
      })
    } catch (err) {
      if (err instanceof RagtuneError) throw err
      throw new RagtuneError('STORE_WRITE_FAILED', `could not ${op} document ${path}: ${(err as Error).message}; the previous version is kept`, {
        details: { path, op },
        cause: err,
      })
    }
  }
}

/** Schema changes of concurrent openers (two processes starting on a new database) take turns. */
function migrateLocked(db: PgDatabase, wanted: SchemaParams): Promise<SchemaParams> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(db.schema, 'migrate')])
    return migrate(tx, wanted)
  })
}

/** Why BM25 cannot be used here, or null when pg_textsearch is (or can be) installed. */
async function bm25Error(db: PgDatabase): Promise<string | null> {
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS pg_textsearch')
    return null
  } catch (err) {
    return (err as Error).message
  }
}

/**
 * A server without pgvector fails deep inside the first migration; say so up front, with the fix.
 * Only checked while the chunks table does not exist yet (a store built before has what it needs).
 */
async function requirePgvector(db: PgDatabase): Promise<void> {
  const res = await db.query<{ chunks: string | null; vector: boolean }>(
    `SELECT to_regclass('chunks')::text AS chunks,
      EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') OR EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS vector`,
  )
  const row = res.rows[0]
  if (row?.chunks != null) return
  if (row?.vector) {
    // Into public when allowed, so stores in other schemas of this database find the type too
    // (created from migration 2 it would land in this store's schema, first on the search_path).
    await db.exec('CREATE EXTENSION IF NOT EXISTS vector SCHEMA public').catch(() => undefined)
    return
  }
  throw new RagtuneError('STORE_PGVECTOR_MISSING', 'the Postgres server has no pgvector extension: expected `vector` in pg_available_extensions, got nothing', {
    hint: 'install pgvector on the server (e.g. apt install postgresql-16-pgvector, or a managed Postgres that offers it), then run ragtune again',
  })
}
