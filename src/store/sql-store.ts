import type { AdapterEvent, AdapterRecord } from '../spec/adapter-registry.js'
import type { ApiKeyRecord } from '../spec/api-key.js'
import type { AddLabeledResult, DatasetSplit, DatasetVersion, LabeledExample, LabeledExampleFilter, StoredChunk } from '../spec/dataset.js'
import type { EvalExampleResult, EvalRunFilter, EvalRunRecord } from '../spec/eval-run.js'
import type { JobOutcome, JobRunFilter, JobRunRecord, JobRunStart } from '../spec/job-run.js'
import type { Label, LabelFilter, QueryLogEntry, QueryLogFilter } from '../spec/query-log.js'
import type { DocumentRecord, StoreHit } from '../spec/store.js'
import { AdapterTables } from './adapter-registry-sql.js'
import { ApiKeyTables } from './api-key-sql.js'
import { DatasetTables } from './dataset-sql.js'
import { EvalRunTables } from './eval-run-sql.js'
import { JobRunTables } from './job-run-sql.js'
import { readMeta, writeMeta } from './meta-sql.js'
import type { LexicalBackend, SchemaParams } from './migrations.js'
import type { PgExecutor } from './postgres-database.js'
import { QueryLogTables } from './query-log-sql.js'
import { checkK } from './store-checks.js'
import * as q from './store-sql.js'

/**
 * The database handle both stores hold: a PGlite instance and a `PgDatabase` (a `pg` pool) both run
 * queries, say how many rows a write touched, and run a callback in one transaction.
 */
export interface SqlDatabase extends PgExecutor {
  transaction<T>(fn: (tx: PgExecutor) => Promise<T>): Promise<T>
}

/**
 * What the embedded (PGlite) and the server (PostgreSQL) store do the same way: listing documents,
 * lexical search, and the relational half (query log, labels, API keys, datasets, the adapter
 * registry, eval runs, job runs and meta), all through the shared SQL modules. What really differs
 * stays in each store: pruning the query log (PGlite vacuums itself), promotion (advisory lock and
 * NOTIFY on a server), writes, dense search, stats and bulk loads.
 *
 * Every method is async and goes through `ready()` first, so a closed or new store rejects, never throws.
 */
export abstract class SqlStore<Db extends SqlDatabase> {
  protected abstract readonly lexical: LexicalBackend

  protected constructor(protected readonly db: Db) {}

  /** Throws unless the store is open and has a schema. */
  protected abstract ready(): SchemaParams

  async listDocuments(): Promise<DocumentRecord[]> {
    this.ready()
    return (await this.db.query<q.DocumentRow>(q.LIST_DOCUMENTS_SQL)).rows.map(q.toDocument)
  }

  async searchLexical(query: string, k: number): Promise<StoreHit[]> {
    this.ready()
    checkK(k)
    if (k === 0 || query.trim() === '') return []
    let param = query
    if (this.lexical === 'tsvector') {
      const tsquery = (await this.db.query<{ query: string | null }>(q.OR_TSQUERY_SQL, [query])).rows[0]?.query
      if (tsquery == null) return []
      param = tsquery
    }
    const res = await this.db.query<q.HitRow>(q.LEXICAL_SEARCH_SQL[this.lexical], [param, k])
    return (this.lexical === 'bm25' ? q.keepMatches(res.rows) : res.rows).map(q.toHit)
  }

  async chunkCount(): Promise<number> {
    this.ready()
    return (await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks')).rows[0]?.n ?? 0
  }

  // The query log and API keys: shared SQL (query-log-sql.ts, api-key-sql.ts). pruneQueryLogs differs per store.
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
  // Adapter registry and eval runs: shared SQL (adapter-registry-sql.ts, eval-run-sql.ts); every multi-row write is one
  // transaction. activateAdapter differs per store.
  async addAdapter(record: AdapterRecord, event: AdapterEvent): Promise<void> { return this.inTx((tx) => new AdapterTables(tx).add(record, event)) }
  async getAdapter(name: string): Promise<AdapterRecord | null> { return this.adapters().get(name) }
  async listAdapters(): Promise<AdapterRecord[]> { return this.adapters().list() }
  async getActiveAdapter(): Promise<AdapterRecord | null> { return this.adapters().active() }
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

  async getMeta(key: string): Promise<string | null> {
    this.ready()
    return readMeta(this.db, key)
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.ready()
    return writeMeta(this.db, key, value)
  }

  protected async inTx<T>(fn: (tx: PgExecutor) => Promise<T>): Promise<T> {
    this.ready()
    return this.db.transaction(fn)
  }

  protected logs(): QueryLogTables { this.ready(); return new QueryLogTables(this.db) }
  private keys(): ApiKeyTables { this.ready(); return new ApiKeyTables(this.db) }
  private datasets(): DatasetTables { this.ready(); return new DatasetTables(this.db, (fn) => this.db.transaction(fn)) }
  private adapters(): AdapterTables { this.ready(); return new AdapterTables(this.db) }
  private evalRuns(): EvalRunTables { this.ready(); return new EvalRunTables(this.db) }
  private jobs(): JobRunTables { this.ready(); return new JobRunTables(this.db) }
}
