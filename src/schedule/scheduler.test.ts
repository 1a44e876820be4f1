import { spawnSync } from 'node:child_process'
import { hostname } from 'node:os'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { JobRunRecord } from '../spec/job-run.js'
import { PGliteStore } from '../store/pglite-store.js'
import { parseCron } from './cron.js'
import { processOwner } from './job-owner.js'
import type { JobContext, ScheduledJob } from './scheduled-job.js'
import { Scheduler, type SchedulerClock } from './scheduler.js'

/** A clock the test moves; timers fire when it passes their time. */
class ManualClock implements SchedulerClock {
  private timers: Array<{ at: number; fn: () => void; id: number }> = []
  private nextId = 0
  constructor(private t: number) {}
  now(): Date { return new Date(this.t) }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++
    this.timers.push({ at: this.t + ms, fn, id })
    return id
  }
  clearTimeout(h: unknown): void { this.timers = this.timers.filter((t) => t.id !== h) }
  advanceTo(iso: string): void {
    this.t = Date.parse(iso)
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.t).sort((a, b) => a.at - b.at)[0]
      if (!due) return
      this.clearTimeout(due.id)
      due.fn()
    }
  }
}

/** A job whose runs wait until the test releases them. */
function gatedJob(name: string, cron: string | null): ScheduledJob & { release(): void; runs: JobContext[] } {
  let open: () => void = () => undefined
  let gate = new Promise<void>((r) => (open = r))
  const runs: JobContext[] = []
  return {
    name, cron: cron ? parseCron(cron) : null, description: 'test job', runs,
    release() { open(); gate = new Promise<void>((r) => (open = r)) },
    async run(ctx) {
      runs.push(ctx)
      ctx.detail.step = 'waiting'
      await Promise.race([gate, new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)))])
      ctx.detail.step = 'done'
      return 'ok'
    },
  }
}

const quick = (name: string, cron: string | null, body: (ctx: JobContext) => Promise<'ok' | 'skipped'>): ScheduledJob =>
  ({ name, cron: cron ? parseCron(cron) : null, description: 'test job', run: body })

let store: PGliteStore
const schedulers: Scheduler[] = []
const make = (jobs: ScheduledJob[], clock?: SchedulerClock, over: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}): Scheduler => {
  const s = new Scheduler({ store, jobs, ...(clock ? { clock } : {}), ...over })
  schedulers.push(s)
  return s
}

// One store for the file (Postgres boots in seconds); every test uses its own job names.
beforeAll(async () => {
  store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
})
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.stop()))
})
afterAll(async () => {
  await store?.close()
})

describe('Scheduler', () => {
  it('never runs one job twice at once: a second scheduler on the same store records "skipped"', async () => {
    const job = gatedJob('reindex', null)
    const a = make([job])
    const b = make([job])
    const first = a.runNow('reindex')
    await expect.poll(() => job.runs.length).toBe(1)
    const second = await b.runNow('reindex')
    expect(second).toMatchObject({ job: 'reindex', trigger: 'manual', outcome: 'skipped', detail: { reason: 'already-running', runningId: job.runs[0]!.runId } })
    expect(job.runs).toHaveLength(1)
    job.release()
    expect(await first).toMatchObject({ outcome: 'ok', detail: { step: 'done' } })
    expect((await store.listJobRuns({ job: 'reindex' })).map((r) => r.outcome)).toEqual(['skipped', 'ok'])
  })

  it('records a failure with the error and what the job produced before it', async () => {
    const s = make([quick('fails', null, async (ctx) => {
      ctx.detail.dataset = { id: 'ds-1' }
      throw new Error('disk full')
    })])
    const run = await s.runNow('fails')
    expect(run).toMatchObject({ outcome: 'failed', detail: { dataset: { id: 'ds-1' }, error: { code: 'INTERNAL', message: 'disk full' } } })
    expect(run.finishedAt).not.toBeNull()
    await expect(s.runNow('nope')).rejects.toMatchObject({ code: 'SCHEDULE_UNKNOWN_JOB' })
  })

  it('fires on cron times (UTC) and records the time each run stands for', async () => {
    const clock = new ManualClock(Date.parse('2025-06-01T02:58:00Z'))
    await store.addJobRun(finished('yesterday', 'nightly', '2025-05-31T03:00:05.000Z'))
    const ran: string[] = []
    const s = make([quick('nightly', '0 3 * * *', async (ctx) => (ran.push(ctx.trigger), 'ok'))], clock)
    expect(await s.start()).toEqual({ staleFailed: [], caughtUp: [] })
    expect(s.nextRuns()).toEqual([{ job: 'nightly', cron: '0 3 * * *', next: new Date('2025-06-01T03:00:00Z') }])
    clock.advanceTo('2025-06-01T02:59:59Z')
    await s.idle()
    expect(ran).toEqual([])
    clock.advanceTo('2025-06-01T03:00:00Z')
    await s.idle()
    clock.advanceTo('2025-06-02T03:00:30Z')
    await s.idle()
    const runs = await store.listJobRuns({ job: 'nightly' })
    expect(runs.map((r) => [r.trigger, r.scheduledFor, r.outcome])).toEqual([
      ['cron', '2025-06-02T03:00:00.000Z', 'ok'],
      ['cron', '2025-06-01T03:00:00.000Z', 'ok'],
      ['cron', '2025-05-31T03:00:05.000Z', 'ok'],
    ])
  })

  it('catches up once on start when a cron time passed after the last run, and not again', async () => {
    const clock = new ManualClock(Date.parse('2025-06-05T10:00:00Z'))
    await store.addJobRun(finished('old', 'catchup', '2025-06-02T03:00:00.000Z'))
    // A run lost to a crash after the cron time does not count as done.
    await store.addJobRun({ ...finished('lost', 'catchup', '2025-06-05T04:00:00.000Z'), outcome: 'failed', detail: { stale: true } })
    // Ran after its last cron time: nothing missed.
    await store.addJobRun(finished('recent', 'hourly', '2025-06-05T10:00:00.000Z'))
    const counts: Record<string, number> = {}
    const job = (name: string, cron: string): ScheduledJob => quick(name, cron, async () => ((counts[name] = (counts[name] ?? 0) + 1), 'ok'))
    const jobs = [job('catchup', '0 3 * * *'), job('hourly', '0 * * * *'), job('never-ran', '0 3 * * 1')]
    const first = make(jobs, clock)
    expect(await first.start()).toEqual({ staleFailed: [], caughtUp: ['catchup', 'never-ran'] })
    await first.idle()
    await first.stop()
    expect(counts).toEqual({ catchup: 1, 'never-ran': 1 })
    expect((await store.listJobRuns({ job: 'catchup', limit: 1 }))[0]).toMatchObject({ trigger: 'startup-catchup', scheduledFor: '2025-06-05T03:00:00.000Z', outcome: 'ok' })
    // 2025-06-05 is a Thursday: the weekly job stands for Monday's time.
    expect((await store.listJobRuns({ job: 'never-ran', limit: 1 }))[0]).toMatchObject({ trigger: 'startup-catchup', scheduledFor: '2025-06-02T03:00:00.000Z' })
    clock.advanceTo('2025-06-05T10:30:00Z')
    expect((await make(jobs, clock).start()).caughtUp).toEqual([])
  })

  it('marks runs left running by dead processes failed on start, and runs the job again', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!
    const clock = new ManualClock(Date.parse('2025-06-05T10:00:00Z'))
    const now = clock.now().toISOString()
    const minutesAgo = (m: number): string => new Date(clock.now().getTime() - m * 60_000).toISOString()
    await store.startJobRun(running('crashed', 'stale-a', { pid: dead, hostname: hostname(), token: 't-dead' }, now, now))
    await store.startJobRun(running('quiet', 'stale-b', { pid: 1, hostname: 'other-host', token: 't-x' }, minutesAgo(60), minutesAgo(30)))
    await store.startJobRun(running('alive', 'stale-c', { pid: 1, hostname: 'other-host', token: 't-y' }, minutesAgo(60), minutesAgo(1)))
    const s = make([quick('stale-a', null, async () => 'ok')], clock)
    const { staleFailed } = await s.start()
    expect(staleFailed.map((r) => r.id).sort()).toEqual(['crashed', 'quiet'])
    expect(await store.getJobRun('crashed')).toMatchObject({ outcome: 'failed', finishedAt: now, detail: { stale: true, error: { code: 'JOB_STALE', message: expect.stringMatching(new RegExp(`process ${dead} on this host, is gone`)) } } })
    expect((await store.getJobRun('quiet'))?.detail.error).toMatchObject({ message: expect.stringMatching(/no heartbeat .* for 1800 s/) })
    expect((await store.getJobRun('alive'))?.outcome).toBe('running')
    expect((await s.runNow('stale-a')).outcome).toBe('ok')
  })

  it('stop() aborts a running job, which is recorded as failed, never left running', async () => {
    const job = gatedJob('stopped', null)
    const s = make([job])
    const run = s.runNow('stopped')
    await expect.poll(() => job.runs.length).toBe(1)
    await s.stop()
    expect(await run).toMatchObject({ outcome: 'failed', detail: { step: 'waiting', error: { message: 'the scheduler is stopping' } } })
  })
})

function finished(id: string, job: string, at: string): JobRunRecord {
  return { id, job, trigger: 'cron', scheduledFor: at, startedAt: at, finishedAt: at, outcome: 'ok', owner: processOwner(), heartbeatAt: at, detail: {} }
}

function running(id: string, job: string, owner: JobRunRecord['owner'], startedAt: string, heartbeatAt: string): JobRunRecord {
  return { id, job, trigger: 'cron', scheduledFor: null, startedAt, finishedAt: null, outcome: 'running', owner, heartbeatAt, detail: {} }
}
