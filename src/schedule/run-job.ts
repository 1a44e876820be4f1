import { RagtuneError } from '../errors.js'
import { ulid } from '../observe/ulid.js'
import type { JobOwner, JobRunRecord, JobTrigger } from '../spec/job-run.js'
import type { Store } from '../spec/store.js'
import { staleReason } from './job-owner.js'
import type { ScheduledJob } from './scheduled-job.js'

export interface RunJobOptions {
  trigger: JobTrigger
  /** The cron time this run stands for; null for manual runs. */
  scheduledFor: Date | null
  owner: JobOwner
  now: () => Date
  /** How often a running run proves it is alive. */
  heartbeatMs: number
  /** A running row quiet for longer than this is stale (see staleReason). */
  staleAfterMs: number
  signal: AbortSignal
  log: (message: string) => void
}

/**
 * Runs one job once and records it. The database decides whether it may run: the insert of the
 * `running` row loses to another run of the same job (unique partial index), and then a `skipped`
 * row says which run held it. A holder found stale (its process died) is marked failed first, and
 * the start is tried again. While running, a heartbeat keeps the row fresh; the end (ok, skipped,
 * failed with the error) is written with whatever the job produced.
 */
export async function runJob(store: Store, job: ScheduledJob, opts: RunJobOptions): Promise<JobRunRecord> {
  const startedAt = opts.now().toISOString()
  const row: JobRunRecord = {
    id: ulid(), job: job.name, trigger: opts.trigger, scheduledFor: opts.scheduledFor?.toISOString() ?? null, startedAt, finishedAt: null,
    outcome: 'running', owner: opts.owner, heartbeatAt: startedAt, detail: {},
  }
  let start = await store.startJobRun(row)
  if (!start.started) {
    const why = staleReason(start.running, { self: opts.owner, now: opts.now(), staleAfterMs: opts.staleAfterMs })
    if (why !== null && (await failStale(store, start.running, why, opts.now()))) {
      opts.log(`${job.name}: run ${start.running.id} was left running (${why}); marked failed`)
      start = await store.startJobRun(row)
    }
  }
  if (!start.started) {
    const { running } = start
    const skipped: JobRunRecord = {
      ...row, outcome: 'skipped', finishedAt: opts.now().toISOString(),
      detail: { reason: 'already-running', runningId: running.id, runningSince: running.startedAt, runningOwner: running.owner },
    }
    await store.addJobRun(skipped)
    opts.log(`${job.name}: skipped, run ${running.id} (pid ${running.owner.pid} on ${running.owner.hostname}) is still running`)
    return skipped
  }

  const detail: Record<string, unknown> = {}
  const beat = setInterval(() => {
    store.heartbeatJobRun(row.id, opts.now().toISOString()).catch((err: unknown) => opts.log(`${job.name}: heartbeat failed: ${(err as Error).message}`))
  }, opts.heartbeatMs)
  beat.unref()
  let outcome: 'ok' | 'skipped' | 'failed'
  opts.log(`${job.name}: started (${opts.trigger}) as run ${row.id}`)
  try {
    outcome = await job.run({ runId: row.id, trigger: opts.trigger, signal: opts.signal, detail, log: (m) => opts.log(`${job.name}: ${m}`) })
  } catch (err) {
    outcome = 'failed'
    const e = err instanceof RagtuneError ? err : null
    detail.error = { code: e?.code ?? 'INTERNAL', message: (err as Error)?.message ?? String(err) }
  } finally {
    clearInterval(beat)
  }
  await store.finishJobRun(row.id, { outcome, finishedAt: opts.now().toISOString(), detail })
  opts.log(`${job.name}: ${outcome}${outcome === 'failed' ? ` — ${(detail.error as { message: string }).message.split('\n')[0]}` : ''}`)
  return (await store.getJobRun(row.id))!
}

/** Marks a stale running row failed (only if it still runs); true when this call did it. */
export async function failStale(store: Store, run: JobRunRecord, why: string, now: Date): Promise<boolean> {
  return store.failRunningJobRun(run.id, now.toISOString(), {
    stale: true,
    error: { code: 'JOB_STALE', message: `left running by a process that stopped without finishing it: ${why}` },
  })
}
