import type { ActivateAdapterInput, AdapterEvent, AdapterRecord } from '../spec/adapter-registry.js'
import type { ApiKeyRecord } from '../spec/api-key.js'
import type { AddLabeledResult, DatasetSplit, DatasetVersion, LabeledExample, LabeledExampleFilter, StoredChunk } from '../spec/dataset.js'
import type { EvalExampleResult, EvalRunFilter, EvalRunRecord } from '../spec/eval-run.js'
import type { JobOutcome, JobRunFilter, JobRunRecord, JobRunStart } from '../spec/job-run.js'
import type { Label, LabelFilter, QueryLogEntry, QueryLogFilter } from '../spec/query-log.js'
import { AdapterTables } from './adapter-registry-sql.js'
import { ApiKeyTables } from './api-key-sql.js'
import { DatasetTables } from './dataset-sql.js'
import { EvalRunTables } from './eval-run-sql.js'
import { JobRunTables } from './job-run-sql.js'
import type { SchemaParams } from './migrations.js'
import { advisoryKey, type PgDatabase, type PgExecutor } from './postgres-database.js'
import { QueryLogTables } from './query-log-sql.js'
import { readMeta, writeMeta } from './meta-sql.js'

/**
 * The relational half of the Postgres store: query log, labels, API keys, datasets, the adapter
 * registry, eval runs, job runs and meta, all through the same SQL modules as the embedded store.
 * Only promotion differs: it is serialized by an advisory lock across processes and announced with
 * NOTIFY in the same transaction, so listeners hear of it exactly when it commits.
 */
export abstract class PostgresTables {
  /** NOTIFY channel of this schema's active-adapter changes (hashed: channel names stop at 63 bytes). */
  protected readonly adapterChannel: string

  protected constructor(protected readonly db: PgDatabase) {
    this.adapterChannel = `ragtune_adapters_${BigInt.asUintN(64, BigInt(advisoryKey(db.schema, 'adapter-channel'))).toString(16)}`
  }

  /** Throws unless the store is open and has a schema. */
  protected abstract ready(): SchemaParams

  async appendQueryLog(entry: QueryLogEntry): Promise<void> { return this.logs().append(entry) }
  async getQueryLog(id: string): Promise<QueryLogEntry | null> { return this.logs().get(id) }
  async listQueryLogs(filter?: QueryLogFilter): Promise<QueryLogEntry[]> { return this.logs().list(filter) }
  async addLabel(label: Label): Promise<void> { return this.logs().addLabel(label) }
  async listLabels(filter?: LabelFilter): Promise<Label[]> { return this.logs().listLabels(filter) }
  /** Autovacuum reclaims the space on a server; no VACUUM here (it would block other writers). */
  async pruneQueryLogs(olderThan: Date): Promise<number> { return this.logs().prune(olderThan) }
  async addApiKey(key: ApiKeyRecord): Promise<void> { return this.keys().add(key) }
  async listApiKeys(): Promise<ApiKeyRecord[]> { return this.keys().list() }
  async revokeApiKey(name: string, at = new Date().toISOString()): Promise<ApiKeyRecord> { return this.keys().revoke(name, at) }
  async addLabeledExamples(examples: LabeledExample[]): Promise<AddLabeledResult> { return this.datasets().addLabeled(examples) }
  async listLabeledExamples(filter?: LabeledExampleFilter): Promise<LabeledExample[]> { return this.datasets().listLabeled(filter) }
  async saveDataset(version: DatasetVersion, records: Array<{ split: DatasetSplit; record: unknown }>): Promise<void> { return this.datasets().save(version, records) }
  async getDataset(ref: { id: string } | { hash: string }): Promise<DatasetVersion | null> { return 'id' in ref ? this.datasets().get(ref.id) : this.datasets().findByHash(ref.hash) }
  async listDatasets(): Promise<DatasetVersion[]> { return this.datasets().list() }
  async listDatasetRecords(id: string, split: DatasetSplit): Promise<unknown[]> { return this.datasets().records(id, split) }
  async getChunks(query: { ids: string[] } | { documentPaths: string[] }): Promise<StoredChunk[]> { return this.datasets().chunks(query) }
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
  async startJobRun(run: JobRunRecord): Promise<JobRunStart> { return this.jobs().start(run) }
  async addJobRun(run: JobRunRecord): Promise<void> { return this.jobs().add(run) }
  async heartbeatJobRun(id: string, at: string): Promise<boolean> { return this.jobs().heartbeat(id, at) }
  async finishJobRun(id: string, end: { outcome: Exclude<JobOutcome, 'running'>; finishedAt: string; detail: Record<string, unknown> }): Promise<boolean> { return this.jobs().finish(id, end) }
  async failRunningJobRun(id: string, at: string, detail: Record<string, unknown>): Promise<boolean> { return this.jobs().failRunning(id, at, detail) }
  async getJobRun(id: string): Promise<JobRunRecord | null> { return this.jobs().get(id) }
  async listJobRuns(filter?: JobRunFilter): Promise<JobRunRecord[]> { return this.jobs().list(filter) }

  /**
   * The check-then-move of the active pointer runs under a transaction-level advisory lock: two
   * processes promoting at once are serialized, and the second sees the first's result (its
   * `expectedActive` no longer holds: ADAPTER_CONFLICT) instead of silently overwriting it.
   */
  async activateAdapter(input: ActivateAdapterInput): Promise<AdapterRecord> {
    return this.inTx(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(this.db.schema, 'promote')])
      const record = await new AdapterTables(tx).activate(input)
      await tx.query('SELECT pg_notify($1, $2)', [this.adapterChannel, JSON.stringify({ active: record.name, id: record.id })])
      return record
    })
  }

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

  private logs(): QueryLogTables { this.ready(); return new QueryLogTables(this.db) }
  private keys(): ApiKeyTables { this.ready(); return new ApiKeyTables(this.db) }
  private datasets(): DatasetTables { this.ready(); return new DatasetTables(this.db, (fn) => this.db.transaction(fn)) }
  private adapters(): AdapterTables { this.ready(); return new AdapterTables(this.db) }
  private evalRuns(): EvalRunTables { this.ready(); return new EvalRunTables(this.db) }
  private jobs(): JobRunTables { this.ready(); return new JobRunTables(this.db) }
}
