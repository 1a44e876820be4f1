import path from 'node:path'
import type { LoadedConfig } from '../config/load-config.js'
import { RagtuneError } from '../errors.js'
import type { AdapterRecord } from '../spec/adapter-registry.js'
import type { EmbeddingModel } from '../spec/embedding-model.js'
import type { Reranker } from '../spec/reranker.js'
import type { Store } from '../spec/store.js'
import { parseCron } from './cron.js'
import { reindexJob } from './reindex-job.js'
import { retrainJob } from './retrain-job.js'
import type { ScheduledJob } from './scheduled-job.js'

/** The loop's jobs, known without loading any model (for `ragtune schedule status` and argument checks). */
export const LOOP_JOB_NAMES = ['reindex', 'retrain'] as const
export type LoopJobName = (typeof LOOP_JOB_NAMES)[number]

/** Each job's cron text from the config's `schedule` section (null: by hand only). */
export function loopJobCrons(schedule: LoadedConfig['config']['schedule']): Record<LoopJobName, string | null> {
  return { reindex: schedule.reindexCron, retrain: schedule.retrainCron }
}

export interface LoopJobsInput {
  loaded: LoadedConfig
  dataDir: string
  store: Store
  embedder: EmbeddingModel | undefined
  reranker: Reranker | undefined
  /** `ragtune serve` swaps the served adapter here after a scheduled promotion. */
  onPromoted?: (active: AdapterRecord) => Promise<void>
}

/**
 * The loop's scheduled jobs (`reindex`, `retrain`) from the config's `schedule` section, bound to an
 * open store and models: `ragtune serve --schedule` passes the server's own, `ragtune schedule` its
 * workspace's. A job whose cron is null is still listed, to run by hand.
 */
export function loopJobs(input: LoopJobsInput): ScheduledJob[] {
  const { config } = input.loaded
  if (!input.embedder) {
    throw new RagtuneError('SCHEDULE_NO_EMBEDDER', 'the scheduled jobs need the embedding model (re-indexing embeds, the dataset retrieves), but none was loaded', {
      hint: 'open the workspace with the embedder (this is a bug when it happens from a ragtune command)',
    })
  }
  const crons = loopJobCrons(config.schedule)
  const cron = (text: string | null) => (text === null ? null : parseCron(text))
  return [
    reindexJob({ store: input.store, embedder: input.embedder, root: path.resolve(input.loaded.baseDir, config.docs.root), config, cron: cron(crons.reindex) }),
    retrainJob({ ...input, cron: cron(crons.retrain) }),
  ]
}
