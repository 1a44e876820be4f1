import { describe, expect, it } from 'vitest'
import type { JobRunRecord } from '../spec/job-run.js'
import { formatNextRuns, jobSummary } from './job-summary.js'

const run = (over: Partial<JobRunRecord>): JobRunRecord => ({
  id: 'r', job: 'retrain', trigger: 'cron', scheduledFor: null, startedAt: '2025-06-01T03:00:00.000Z', finishedAt: '2025-06-01T03:01:00.000Z', outcome: 'ok',
  owner: { pid: 7, hostname: 'h', token: 't' }, heartbeatAt: '2025-06-01T03:00:30.000Z', detail: {}, ...over,
})
const gate = (pass: boolean) => ({ pass, primary: { metric: 'f1', a: 0.5, b: pass ? 0.75 : 0.25 }, reasons: pass ? [] : ['worse'] })

describe('jobSummary', () => {
  it('says in one line what each kind of run did', () => {
    expect(jobSummary(run({ outcome: 'running' }))).toBe('running (pid 7 on h, heartbeat 03:00:30)')
    expect(jobSummary(run({ outcome: 'failed', detail: { dataset: { id: 'D1' }, adapter: { name: 'auto-d1' }, error: { code: 'ABORTED', message: 'stopped\n  fix: x' } } })))
      .toBe('[ABORTED] stopped (produced: dataset D1, adapter auto-d1)')
    expect(jobSummary(run({ outcome: 'skipped', detail: { reason: 'already-running', runningId: 'r0' } }))).toBe('another run (r0) was running')
    expect(jobSummary(run({ outcome: 'skipped', detail: { newLabels: { count: 3, needed: 200 } } }))).toBe('3 new labeled example(s), 200 needed')
    expect(jobSummary(run({ job: 'reindex', detail: { added: 1, changed: 2, deleted: 0, chunksWritten: 9, skipped: [{ path: 'x.pdf' }] } })))
      .toBe('1 added, 2 changed, 0 deleted, 9 chunk(s) written, 1 skipped')
    expect(jobSummary(run({ detail: { newLabels: {}, dataset: {}, adapter: { name: 'auto-a' }, promoted: true, gate: gate(true) } }))).toBe('promoted auto-a (f1 0.500 → 0.750)')
    expect(jobSummary(run({ detail: { newLabels: {}, dataset: {}, adapter: { name: 'auto-b' }, promoted: false, gate: gate(false) } }))).toBe('kept auto-b as candidate: gate rejected (f1 0.500 → 0.250)')
    expect(jobSummary(run({ outcome: 'skipped', detail: { newLabels: {}, dataset: {}, adapter: { name: 'auto-c' }, promoted: false } }))).toBe('auto-c, trained on this dataset, is already active')
  })

  it('lists next cron times in UTC', () => {
    expect(formatNextRuns([{ job: 'reindex', cron: '0 3 * * *', next: new Date('2025-06-02T03:00:00Z') }, { job: 'retrain', cron: null, next: null }]))
      .toBe('  reindex  0 3 * * *  next 2025-06-02 03:00\n  retrain  by hand only')
  })
})
