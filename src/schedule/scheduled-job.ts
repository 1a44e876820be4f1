import type { JobTrigger } from '../spec/job-run.js'
import type { CronSchedule } from './cron.js'

/** What a job gets while it runs. */
export interface JobContext {
  runId: string
  trigger: JobTrigger
  /** Fires on shutdown (Ctrl-C, SIGTERM): stop at the next safe point. */
  signal: AbortSignal
  /**
   * What the run produced so far (ids, counts, decisions). Fill it as you go: it is stored with the
   * outcome, and a run that fails half way still records what it left behind (a dataset, an adapter).
   */
  detail: Record<string, unknown>
  /** One line of progress for the operator (stderr of serve / schedule start). */
  log(message: string): void
}

/**
 * One operation of the loop that can run by itself. `run` resolves `ok` when it did its work and
 * `skipped` when there was nothing to do; it throws when it failed.
 */
export interface ScheduledJob {
  /** Lowercase letters, digits and "-": the name in the jobs table and in `ragtune schedule run <job>`. */
  name: string
  /** When it runs by itself; null: only by hand. */
  cron: CronSchedule | null
  /** One line for `--help` and `schedule status`. */
  description: string
  run(ctx: JobContext): Promise<'ok' | 'skipped'>
}
