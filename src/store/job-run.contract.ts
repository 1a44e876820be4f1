import { beforeAll, describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import type { JobRunRecord } from '../spec/job-run.js'
import type { Store } from '../spec/store.js'

const T0 = Date.parse('2025-05-01T10:00:00.000Z')
const at = (minute: number): string => new Date(T0 + minute * 60_000).toISOString()
const owner = { pid: 4242, hostname: 'host-a', token: 'tok-a' }

function run(id: string, job: string, minute: number, over: Partial<JobRunRecord> = {}): JobRunRecord {
  return { id, job, trigger: 'cron', scheduledFor: at(minute), startedAt: at(minute), finishedAt: null, outcome: 'running', owner, heartbeatAt: at(minute), detail: {}, ...over }
}

/**
 * The job-run part of the Store contract; `getStore` returns a fresh, initialised store (the tests
 * share it in order).
 */
export function describeJobRunContract(name: string, getStore: () => Promise<Store>): void {
  describe(`${name}: job runs`, () => {
    let store: Store
    beforeAll(async () => {
      store = await getStore()
    })

    it('lets one run of a job run at a time, in the database', async () => {
      const first = await store.startJobRun(run('r1', 'reindex', 0))
      expect(first).toMatchObject({ started: true, run: { id: 'r1', outcome: 'running', finishedAt: null, owner } })
      const second = await store.startJobRun(run('r2', 'reindex', 1, { owner: { pid: 1, hostname: 'host-b', token: 'tok-b' } }))
      expect(second).toMatchObject({ started: false, running: { id: 'r1' } })
      expect(await store.getJobRun('r2')).toBeNull()
      // Another job is not blocked.
      expect((await store.startJobRun(run('t1', 'retrain', 1))).started).toBe(true)
      // Simultaneous starts: exactly one wins.
      const racers = await Promise.all(['x1', 'x2', 'x3'].map((id) => store.startJobRun(run(id, 'race', 2))))
      expect(racers.filter((r) => r.started)).toHaveLength(1)
    })

    it('heartbeats and finishes runs; a finished job can start again', async () => {
      expect(await store.heartbeatJobRun('r1', at(5))).toBe(true)
      expect((await store.getJobRun('r1'))?.heartbeatAt).toBe(at(5))
      expect(await store.finishJobRun('r1', { outcome: 'ok', finishedAt: at(6), detail: { indexed: 3 } })).toBe(true)
      expect(await store.heartbeatJobRun('r1', at(7))).toBe(false)
      expect(await store.getJobRun('r1')).toMatchObject({ outcome: 'ok', finishedAt: at(6), detail: { indexed: 3 } })
      expect(await store.finishJobRun('nope', { outcome: 'ok', finishedAt: at(6), detail: {} })).toBe(false)
      expect((await store.startJobRun(run('r3', 'reindex', 8))).started).toBe(true)
    })

    it('fails a running run only while it is running (the stale sweep), keeping its detail', async () => {
      await store.finishJobRun('t1', { outcome: 'ok', finishedAt: at(9), detail: {} })
      expect((await store.startJobRun(run('t2', 'retrain', 10, { detail: { phase: 'train' } }))).started).toBe(true)
      expect(await store.failRunningJobRun('t2', at(11), { error: 'stale' })).toBe(true)
      expect(await store.failRunningJobRun('t2', at(12), { error: 'again' })).toBe(false)
      expect(await store.getJobRun('t2')).toMatchObject({ outcome: 'failed', finishedAt: at(11), detail: { phase: 'train', error: 'stale' } })
    })

    it('stores finished runs as given and lists newest first, by job and outcome', async () => {
      await store.addJobRun(run('s1', 'reindex', 20, { outcome: 'skipped', finishedAt: at(20), detail: { reason: 'running' } }))
      const all = await store.listJobRuns()
      expect(all[0]?.id).toBe('s1')
      expect(all.map((r) => r.startedAt)).toEqual([...all.map((r) => r.startedAt)].sort().reverse())
      expect((await store.listJobRuns({ job: 'reindex' })).map((r) => r.id)).toEqual(['s1', 'r3', 'r1'])
      expect((await store.listJobRuns({ job: 'reindex', outcome: 'running' })).map((r) => r.id)).toEqual(['r3'])
      expect(await store.listJobRuns({ limit: 2 })).toHaveLength(2)
    })

    it('refuses malformed rows', async () => {
      for (const bad of [
        run('b1', 'reindex', 30, { outcome: 'ok' }),
        run('b2', 'Bad Name', 30),
        run('b3', 'x', 30, { trigger: 'later' as JobRunRecord['trigger'] }),
        run('b4', 'x', 30, { startedAt: 'yesterday' }),
      ]) {
        const err = await store.startJobRun(bad).then(() => null, (e: unknown) => e)
        expect(err, bad.id).toBeInstanceOf(RagtuneError)
        expect((err as RagtuneError).code).toBe('STORE_BAD_ARGUMENT')
      }
      const err = await store.addJobRun(run('b5', 'x', 30)).then(() => null, (e: unknown) => e)
      expect((err as RagtuneError).code).toBe('STORE_BAD_ARGUMENT')
    })
  })
}
