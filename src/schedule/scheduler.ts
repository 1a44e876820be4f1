import { RagtuneError } from '../errors.js'
import type { JobOwner, JobRunRecord, JobTrigger } from '../spec/job-run.js'
import type { Store } from '../spec/store.js'
import { nextCronTime, previousCronTime, type CronSchedule } from './cron.js'
import { processOwner, staleReason } from './job-owner.js'
import { failStale, runJob } from './run-job.js'
import type { ScheduledJob } from './scheduled-job.js'

/** Time and timers, replaceable so tests can move the clock instead of waiting for 03:00. */
export interface SchedulerClock {
  now(): Date
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const REAL_CLOCK: SchedulerClock = {
  now: () => new Date(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

export interface SchedulerOptions {
  store: Store
  jobs: ScheduledJob[]
  owner?: JobOwner
  clock?: SchedulerClock
  /** Default 15 s. */
  heartbeatMs?: number
  /** Default 10 min: long enough that a busy event loop (a training step) is not taken for a dead process. */
  staleAfterMs?: number
  /** Progress lines (run started, finished, stale rows found). */
  log?: (message: string) => void
}

/** What `start` found and did. */
export interface SchedulerStart {
  /** Runs left `running` by a dead process, now marked failed. */
  staleFailed: JobRunRecord[]
  /** Jobs whose cron time passed while nothing ran, started once now. */
  caughtUp: string[]
}

/** setTimeout's limit (~24.8 days); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Runs jobs on their cron schedules, records every run in the store and never runs one job twice at
 * once (the store's guard, see runJob). On start it fails runs a crashed process left `running` and
 * catches up once on each job whose last cron time passed after its last run (so a server that was
 * down at 03:00 re-indexes when it comes back, once, however many nights it missed; a job that never
 * ran runs once on the first start).
 */
export class Scheduler {
  private readonly owner: JobOwner
  private readonly clock: SchedulerClock
  private readonly heartbeatMs: number
  private readonly staleAfterMs: number
  private readonly log: (message: string) => void
  private readonly timers = new Map<string, unknown>()
  private readonly inflight = new Set<Promise<JobRunRecord>>()
  private readonly stopping = new AbortController()

  constructor(private readonly opts: SchedulerOptions) {
    this.owner = opts.owner ?? processOwner()
    this.clock = opts.clock ?? REAL_CLOCK
    this.heartbeatMs = opts.heartbeatMs ?? 15_000
    this.staleAfterMs = opts.staleAfterMs ?? 10 * 60_000
    this.log = opts.log ?? (() => undefined)
    const names = new Set<string>()
    for (const j of opts.jobs) {
      if (names.has(j.name)) throw new RagtuneError('USAGE', `two scheduled jobs are named "${j.name}"`, { hint: 'give every job its own name' })
      names.add(j.name)
    }
  }

  get jobs(): readonly ScheduledJob[] {
    return this.opts.jobs
  }

  /** Sweeps stale runs, starts catch-up runs (not awaited: see `idle`) and arms the cron timers. */
  async start(): Promise<SchedulerStart> {
    const staleFailed = await this.failStaleRuns()
    const caughtUp: string[] = []
    for (const job of this.opts.jobs) {
      if (!job.cron) continue
      const missed = await this.missedTime(job.name, job.cron)
      if (missed) {
        caughtUp.push(job.name)
        this.launch(job, 'startup-catchup', missed)
      }
      this.arm(job, job.cron)
    }
    return { staleFailed, caughtUp }
  }

  /** Runs a job now (`ragtune schedule run <job>`) and resolves with its record once it ended. */
  runNow(name: string, trigger: JobTrigger = 'manual'): Promise<JobRunRecord> {
    const job = this.opts.jobs.find((j) => j.name === name)
    if (!job) {
      return Promise.reject(new RagtuneError('SCHEDULE_UNKNOWN_JOB', `expected a job name (${this.opts.jobs.map((j) => j.name).join(', ')}), got "${name}"`, {
        details: { job: name },
        hint: 'list the jobs with `ragtune schedule status`',
      }))
    }
    return this.launch(job, trigger, null)
  }

  /** The next cron time of each job (null: runs only by hand). */
  nextRuns(): Array<{ job: string; cron: string | null; next: Date | null }> {
    const now = this.clock.now()
    return this.opts.jobs.map((j) => ({ job: j.name, cron: j.cron?.source ?? null, next: j.cron ? nextCronTime(j.cron, now) : null }))
  }

  /** Resolves when no run started by this scheduler is in progress. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
  }

  /** Stops the timers, asks running jobs to stop (they record `failed`, ABORTED) and waits for them. */
  async stop(): Promise<void> {
    for (const handle of this.timers.values()) this.clock.clearTimeout(handle)
    this.timers.clear()
    this.stopping.abort(new Error('the scheduler is stopping'))
    await this.idle()
  }

  private launch(job: ScheduledJob, trigger: JobTrigger, scheduledFor: Date | null): Promise<JobRunRecord> {
    const run = runJob(this.opts.store, job, {
      trigger, scheduledFor, owner: this.owner, now: () => this.clock.now(), heartbeatMs: this.heartbeatMs, staleAfterMs: this.staleAfterMs,
      signal: this.stopping.signal, log: this.log,
    })
    this.inflight.add(run)
    const forget = (): void => void this.inflight.delete(run)
    run.then(forget, (err: unknown) => {
      forget()
      // A run that could not even be recorded (the store failed): say so; the next tick tries again.
      this.log(`${job.name}: could not record the run: ${(err as Error).message}`)
    })
    return run
  }

  /** Waits for the next cron time of `job`, runs it, and arms again. */
  private arm(job: ScheduledJob, cron: CronSchedule): void {
    if (this.stopping.signal.aborted) return
    const next = nextCronTime(cron, this.clock.now())
    if (!next) return
    const wait = (): void => {
      const ms = next.getTime() - this.clock.now().getTime()
      this.timers.set(job.name, this.clock.setTimeout(() => {
        if (this.clock.now().getTime() < next.getTime()) return wait()
        this.launch(job, 'cron', next).catch(() => undefined)
        this.arm(job, cron)
      }, Math.min(Math.max(ms, 0), MAX_TIMER_MS)))
    }
    wait()
  }

  /**
   * The cron time a catch-up run should stand for, or null when a run started after it. A job that
   * never ran counts as having missed its last time (a first start checks at once), and a run lost
   * to a crash does not count as done.
   */
  private async missedTime(name: string, cron: CronSchedule): Promise<Date | null> {
    const last = (await this.opts.store.listJobRuns({ job: name, limit: 20 })).find((r) => r.detail.stale !== true)
    const due = previousCronTime(cron, this.clock.now())
    return due && (!last || due.getTime() > Date.parse(last.startedAt)) ? due : null
  }

  private async failStaleRuns(): Promise<JobRunRecord[]> {
    const failed: JobRunRecord[] = []
    const now = this.clock.now()
    for (const run of await this.opts.store.listJobRuns({ outcome: 'running', limit: 1000 })) {
      const why = staleReason(run, { self: this.owner, now, staleAfterMs: this.staleAfterMs })
      if (why === null || !(await failStale(this.opts.store, run, why, now))) continue
      this.log(`${run.job}: run ${run.id} was left running (${why}); marked failed`)
      failed.push((await this.opts.store.getJobRun(run.id))!)
    }
    return failed
  }
}
