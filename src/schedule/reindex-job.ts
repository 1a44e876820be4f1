import type { RagtuneConfig } from '../config/schema.js'
import { indexFolder, type IndexReport } from '../ingest/indexer.js'
import type { EmbeddingModel } from '../spec/embedding-model.js'
import type { Store } from '../spec/store.js'
import type { CronSchedule } from './cron.js'
import type { ScheduledJob } from './scheduled-job.js'

export interface ReindexJobOptions {
  store: Store
  embedder: EmbeddingModel
  /** Absolute folder to index (docs.root resolved against the config's folder). */
  root: string
  config: RagtuneConfig
  cron: CronSchedule | null
}

/** The counts a run records: enough to see in `ragtune jobs` what a night's re-index did. */
export function indexSummary(r: IndexReport): Record<string, unknown> {
  return {
    root: r.root, added: r.plan.added.length, changed: r.plan.changed.length, deleted: r.plan.deleted.length, unchanged: r.plan.unchanged.length,
    chunksWritten: r.chunksWritten, chunksDeleted: r.chunksDeleted, skipped: r.skipped.map((s) => ({ path: s.path, code: s.code })), durationMs: Math.round(r.durationMs),
  }
}

/**
 * `reindex`: brings the index in line with docs.root through the indexer's change detection, so a
 * nightly run over an unchanged folder hashes files and writes nothing.
 */
export function reindexJob(opts: ReindexJobOptions): ScheduledJob {
  return {
    name: 'reindex',
    cron: opts.cron,
    description: `re-index ${opts.root} (only added, changed and deleted files are touched)`,
    async run(ctx) {
      const { config } = opts
      const report = await indexFolder({
        root: opts.root, store: opts.store, embedder: opts.embedder, chunking: config.chunking, include: config.docs.include, exclude: config.docs.exclude,
        maxFileBytes: config.docs.maxFileBytes, batchSize: config.models.embedder.batchSize, signal: ctx.signal,
      })
      Object.assign(ctx.detail, indexSummary(report))
      ctx.log(`${report.plan.added.length} added, ${report.plan.changed.length} changed, ${report.plan.deleted.length} deleted, ${report.chunksWritten} chunks written`)
      return 'ok'
    },
  }
}
