/**
 * Why a scheduled job ran: its cron time came (`cron`), a cron time passed while nothing was
 * running and the scheduler caught up once on start (`startup-catchup`), or someone asked
 * (`manual`: `ragtune schedule run <job>`).
 */
export type JobTrigger = 'cron' | 'startup-catchup' | 'manual'

/**
 * `running` until it ends; `ok` it did its work; `skipped` it had nothing to do (too few new labels)
 * or another run of the same job was already running; `failed` it threw, or it was left running by
 * a process that died (found stale).
 */
export type JobOutcome = 'running' | 'ok' | 'failed' | 'skipped'

/** Who runs a job: stale rows are recognised by a dead pid on this host or a heartbeat gone quiet. */
export interface JobOwner {
  pid: number
  hostname: string
  /** Random per process: a restarted process that got the same pid (containers) is not the old owner. */
  token: string
}

/** One run of one job, as the `job_runs` table keeps it. */
export interface JobRunRecord {
  /** Time-sortable id (ULID). */
  id: string
  /** The job's name, e.g. `reindex` or `retrain`. */
  job: string
  trigger: JobTrigger
  /** The cron time this run stands for (cron and catch-up runs); null for manual runs. */
  scheduledFor: string | null
  /** ISO 8601 (UTC, milliseconds). */
  startedAt: string
  /** Null while running. */
  finishedAt: string | null
  outcome: JobOutcome
  owner: JobOwner
  /** Last sign of life of a running run. */
  heartbeatAt: string
  /** What the run produced (ids of datasets, adapters, eval runs, index counts), and `error` when it failed. */
  detail: Record<string, unknown>
}

export interface JobRunFilter {
  job?: string
  outcome?: JobOutcome
  /** Newest first; default 100. */
  limit?: number
}

/** Outcome of `startJobRun`: the new running row, or the run that already holds the job. */
export type JobRunStart = { started: true; run: JobRunRecord } | { started: false; running: JobRunRecord }

/**
 * The jobs part of the Store. "At most one running run per job" is a unique partial index, so two
 * schedulers sharing one database (two processes on a server store, or two in one process) can
 * never both run a job: the second insert loses in the database, not in a flag in memory.
 */
export interface JobRunStore {
  /**
   * Inserts `run` (outcome `running`) unless a run of the same job is running; then returns that
   * one and inserts nothing. Any other outcome in `run` is STORE_BAD_ARGUMENT.
   */
  startJobRun(run: JobRunRecord): Promise<JobRunStart>
  /** Stores a run that is already over (e.g. `skipped` because another was running). */
  addJobRun(run: JobRunRecord): Promise<void>
  /** Refreshes a running run's heartbeat; false when the run is no longer running. */
  heartbeatJobRun(id: string, at: string): Promise<boolean>
  /**
   * Ends a run: sets outcome (not `running`), finish time and detail. Returns false when no run has
   * that id. A run found stale and failed meanwhile is overwritten: what really happened wins.
   */
  finishJobRun(id: string, end: { outcome: Exclude<JobOutcome, 'running'>; finishedAt: string; detail: Record<string, unknown> }): Promise<boolean>
  /** Ends a run only if it is still running (a stale run's sweep); false when it ended meanwhile. */
  failRunningJobRun(id: string, at: string, detail: Record<string, unknown>): Promise<boolean>
  getJobRun(id: string): Promise<JobRunRecord | null>
  /** Newest first (start time, then id). */
  listJobRuns(filter?: JobRunFilter): Promise<JobRunRecord[]>
}
