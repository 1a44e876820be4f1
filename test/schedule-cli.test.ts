import { spawn } from 'node:child_process'
import { rm, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AdapterRecord } from '../src/spec/adapter-registry.js'
import type { EvalRunRecord } from '../src/spec/eval-run.js'
import type { JobRunRecord } from '../src/spec/job-run.js'
import { BIN, ragtune } from './helpers/cli.js'
import { indexedWorkspace, ragtuneOk, startServe, tinyConfig } from './helpers/serve.js'

// The loop on a schedule through the built CLI, on tiny random-weight models: the gate's verdicts mean
// nothing here; the test checks that what is recorded matches what happened.
const CHILD = fileURLToPath(new URL('./helpers/job-child.ts', import.meta.url))
const TOPICS: Array<[string, string, Array<[string, string]>]> = [
  ['keys.md', 'Rotate the master keys every 90 days with skyctl keys rotate.', [['How often are master keys rotated?', 'Every 90 days.'], ['Which tool rotates keys?', 'skyctl keys rotate.'], ['What rotates every 90 days?', 'The master keys.']]],
  ['ports.md', 'The heartbeat uses port 7500 over UDP on the back-end network.', [['Which port does the heartbeat use?', 'Port 7500.'], ['Which protocol carries the heartbeat?', 'UDP.'], ['Where does the heartbeat travel?', 'On the back-end network.']]],
  ['quotas.md', 'Each project may hold 40 buckets; ask support for more.', [['How many buckets may a project hold?', '40 buckets.'], ['Who raises the bucket quota?', 'Support.'], ['What limit applies to buckets?', '40 per project.']]],
  ['alerts.md', 'Page the on-call engineer when disk usage passes 85 percent.', [['When is the on-call engineer paged?', 'When disk passes 85 percent.'], ['Who gets paged for disk usage?', 'The on-call engineer.'], ['What disk usage triggers a page?', '85 percent.']]],
  ['backups.md', 'Snapshots run nightly at 02:00 and are kept for 14 days.', [['When do snapshots run?', 'Nightly at 02:00.'], ['How long are snapshots kept?', '14 days.'], ['How often do snapshots run?', 'Every night.']]],
  ['regions.md', 'The primary region is eu-west; the standby is us-east.', [['Which region is primary?', 'eu-west.'], ['Which region is the standby?', 'us-east.'], ['Is us-east the primary region?', 'No, it is the standby.']]],
]
const SCHEDULE = { minNewLabels: 8, train: { epochs: 1, batchSize: 2, gradAccum: 1, rank: 4, maxLength: 1024 } }

let cwd: string
const json = async <T>(...args: string[]): Promise<T> => JSON.parse(await ragtuneOk(cwd, ...args, '--json')) as T
const labels = (batch: number): string => TOPICS.flatMap(([doc, , qa]) => qa.filter((_, i) => (batch === 1 ? i < 2 : i === 2)).map(([q, a]) =>
  JSON.stringify({ instruction: q, input: '', output: a, metadata: { goldDocuments: [doc] } }))).join('\n') + '\n'
const config = (extra: Record<string, unknown> = {}): string => JSON.stringify({
  ...tinyConfig({ generator: { maxTokens: 8 } }), chunking: { chunkTokens: 128, overlapTokens: 16 }, retrieval: { topK: 2 }, schedule: SCHEDULE, ...extra,
})

beforeAll(async () => {
  cwd = await indexedWorkspace(Object.fromEntries(TOPICS.map(([doc, text]) => [doc, `# ${doc}\n\n${text}\n`])), JSON.parse(config()) as Record<string, unknown>)
  await writeFile(path.join(cwd, 'batch1.jsonl'), labels(1))
  await writeFile(path.join(cwd, 'batch2.jsonl'), labels(2))
}, 300_000)

afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

describe('ragtune schedule / jobs / serve --schedule / index --watch', () => {
  it('explains itself in --help', async () => {
    expect(await ragtuneOk(cwd, 'schedule', '--help')).toMatch(/reindex[\s\S]*retrain[\s\S]*always in UTC[\s\S]*serve --schedule/)
    expect(await ragtuneOk(cwd, 'jobs', '--help')).toMatch(/--limit <n>[\s\S]*startup-catchup/)
    expect(await ragtuneOk(cwd, 'serve', '--help')).toMatch(/--schedule/)
    expect(await ragtuneOk(cwd, 'index', '--help')).toMatch(/--watch/)
    expect(await ragtuneOk(cwd, 'jobs')).toMatch(/no job runs yet/)
    const bad = await ragtune(cwd, 'schedule', 'run', 'cleanup')
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/expected a job name \(reindex, retrain\), got "cleanup"/) })
  })

  it('serve --schedule catches up on first start, retrains, promotes past an open gate and swaps the served adapter', async () => {
    await ragtuneOk(cwd, 'labels', 'import', 'batch1.jsonl', '--format', 'guide')
    // A gate that cannot reject: this test is about the swap, not the verdict.
    await writeFile(path.join(cwd, 'ragtune.config.json'), config({ eval: { gate: { minLowerBound: -1, categoryTolerance: 1 } } }))
    const serve = await startServe(cwd, '--no-auth', '--schedule')
    try {
      expect(serve.stdout()).toMatch(/schedule \(UTC\), catching up on reindex, retrain:\n {2}reindex {2}0 3 \* \* \* {2}next \d{4}-/)
      let serving = ''
      await expect.poll(async () => {
        const res = await fetch(`${serve.url}/v1/adapters`)
        serving = ((await res.json()) as { serving: { adapter: string | null } }).serving.adapter ?? ''
        return serving
      }, { timeout: 240_000, interval: 500 }).toMatch(/^auto-[0-9a-z]{26}@[0-9a-f]{12}$/)
    } finally {
      serve.child.kill('SIGTERM')
      expect(await serve.exited).toBe(0)
    }
    const runs = await json<JobRunRecord[]>('jobs')
    const retrain = runs.find((r) => r.job === 'retrain')!
    expect(runs.find((r) => r.job === 'reindex')).toMatchObject({ trigger: 'startup-catchup', outcome: 'ok', detail: { added: 0, changed: 0, deleted: 0 } })
    expect(retrain).toMatchObject({ trigger: 'startup-catchup', outcome: 'ok', detail: { promoted: true, newLabels: { count: 12, fromImports: 12, needed: 8 }, gate: { pass: true } } })
    const active = (await json<AdapterRecord[]>('adapter', 'list')).find((a) => a.status === 'active')
    expect(active).toMatchObject({ name: (retrain.detail.adapter as { name: string }).name, datasetVersion: (retrain.detail.dataset as { id: string }).id })
  }, 300_000)

  it('schedule run retrain: skipped without new labels; with them, records exactly what the gate decided', async () => {
    await writeFile(path.join(cwd, 'ragtune.config.json'), config())
    expect(await ragtuneOk(cwd, 'schedule', 'run', 'retrain')).toMatch(/retrain skipped .*: 0 new labeled example\(s\), 8 needed/)

    await ragtuneOk(cwd, 'labels', 'import', 'batch2.jsonl', '--format', 'guide')
    // Only 6 new: lower the bar for this run.
    await writeFile(path.join(cwd, 'ragtune.config.json'), config({ schedule: { ...SCHEDULE, minNewLabels: 6 } }))
    const previous = (await json<AdapterRecord[]>('adapter', 'list')).find((a) => a.status === 'active')!
    const run = await json<JobRunRecord>('schedule', 'run', 'retrain')
    expect(run).toMatchObject({ outcome: 'ok', detail: { newLabels: { count: 6 }, adapter: { reused: false }, training: { steps: expect.any(Number) } } })
    const d = run.detail as { promoted: boolean; adapter: { name: string }; dataset: { id: string }; eval: { runs: Record<string, string>; sha256: string }; gate: { pass: boolean; reasons: string[] } }
    expect(d.promoted).toBe(d.gate.pass)
    const adapters = await json<AdapterRecord[]>('adapter', 'list')
    const candidate = adapters.find((a) => a.name === d.adapter.name)!
    expect(candidate).toMatchObject({ datasetVersion: d.dataset.id, status: d.promoted ? 'active' : 'candidate' })
    expect(adapters.find((a) => a.name === previous.name)!.status).toBe(d.promoted ? 'retired' : 'active')
    if (!d.promoted) expect(d.gate.reasons.length).toBeGreaterThan(0)
    // Both sides were evaluated on the dataset's held-out split and stored.
    const evalRuns = await json<EvalRunRecord[]>('eval', 'runs')
    expect(Object.keys(d.eval.runs).sort()).toEqual([previous.name, d.adapter.name].sort())
    for (const [adapter, id] of Object.entries(d.eval.runs)) expect(evalRuns.find((r) => r.id === id)).toMatchObject({ adapter, setSha256: d.eval.sha256 })
  }, 300_000)

  it('schedule run reindex touches only the edited and deleted files', async () => {
    await writeFile(path.join(cwd, 'docs', 'keys.md'), '# Keys\n\nRotate the master keys every 30 days now.\n')
    await unlink(path.join(cwd, 'docs', 'regions.md'))
    const run = await json<JobRunRecord>('schedule', 'run', 'reindex')
    expect(run).toMatchObject({ outcome: 'ok', trigger: 'manual', detail: { added: 0, changed: 1, deleted: 1, unchanged: 4 } })
  }, 120_000)

  it('marks a run left running by a killed process failed, then runs the job', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path.join(cwd, '.ragtune', 'db'), 'reindex'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const crashedId = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        const m = /running (\S+)/.exec(b.toString())
        if (m) resolve(m[1]!)
      })
      child.on('exit', (code) => reject(new Error(`child exited ${code}: ${stderr}`)))
    })
    const exited = new Promise((r) => child.on('exit', r))
    child.kill('SIGKILL')
    await exited
    const run = await json<JobRunRecord>('schedule', 'run', 'reindex')
    expect(run.outcome).toBe('ok')
    const crashed = (await json<JobRunRecord[]>('jobs', '--job', 'reindex')).find((r) => r.id === crashedId)
    expect(crashed).toMatchObject({ outcome: 'failed', owner: { pid: child.pid }, detail: { stale: true, error: { code: 'JOB_STALE', message: expect.stringMatching(new RegExp(`process ${child.pid} on this host, is gone`)) } } })
  }, 120_000)

  it('ragtune jobs and schedule status list the history with outcomes', async () => {
    const text = await ragtuneOk(cwd, 'jobs')
    expect(text).toMatch(/run\s+job\s+trigger\s+started \(UTC\)\s+took\s+outcome\s+summary/)
    expect(text).toMatch(/retrain\s+startup-catchup\s+\S+ \S+\s+\S+\s+ok\s+promoted auto-/)
    expect(text).toMatch(/reindex\s+manual\s+.*failed\s+\[JOB_STALE\]/)
    expect(text).toMatch(/retrain\s+manual\s+.*skipped\s+0 new labeled example\(s\), 8 needed/)
    const skipped = await json<JobRunRecord[]>('jobs', '--outcome', 'skipped', '--limit', '1')
    expect(skipped).toMatchObject([{ job: 'retrain', trigger: 'manual', outcome: 'skipped', detail: { newLabels: { count: 0, needed: 8 } } }])
    const status = await json<{ jobs: Array<{ job: string; cron: string; next: string; last: JobRunRecord }> }>('schedule', 'status')
    expect(status.jobs.map((j) => [j.job, j.cron, j.last.job])).toEqual([['reindex', '0 3 * * *', 'reindex'], ['retrain', '0 * * * *', 'retrain']])
    expect(status.jobs[0]!.next).toMatch(/T03:00:00\.000Z$/)
  }, 60_000)

  it('index --watch re-indexes an edit and a deletion, and Ctrl-C stops it cleanly', async () => {
    const child = spawn(process.execPath, [BIN, 'index', 'docs', '--watch', '--json'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    const reports = (): Array<{ plan: { changed: string[]; deleted: string[] } }> => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    await expect.poll(() => err, { timeout: 60_000 }).toMatch(/watching .* for changes/)
    await writeFile(path.join(cwd, 'docs', 'ports.md'), '# Ports\n\nThe heartbeat moved to port 7600.\n')
    await expect.poll(() => reports().some((r) => r.plan.changed.includes('ports.md')), { timeout: 30_000 }).toBe(true)
    await unlink(path.join(cwd, 'docs', 'alerts.md'))
    await expect.poll(() => reports().some((r) => r.plan.deleted.includes('alerts.md')), { timeout: 30_000 }).toBe(true)
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(err).toMatch(/stopped watching/)
    const search = await json<{ hits: Array<{ documentPath: string }> }>('search', 'heartbeat port', '--mode', 'lexical', '--no-rerank')
    expect(JSON.stringify(search)).toMatch(/7600/)
  }, 120_000)
})
