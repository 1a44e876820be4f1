import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ragtune } from './helpers/cli.js'
import { newQueryId } from '../src/observe/query-log.js'
import type { Label, QueryLogEntry } from '../src/spec/query-log.js'
import { PGliteStore } from '../src/store/pglite-store.js'
import { sampleEntry } from '../src/store/query-log.contract.js'


const HOUR = 3_600_000
let cwd: string
/** Newest first, as the CLI lists them: an hour old, 30 hours old and failed, three days old. */
let seeded: QueryLogEntry[]

beforeAll(async () => {
  cwd = await mkdtemp(path.join(tmpdir(), 'ragtune-logs-cli-'))
  await writeFile(path.join(cwd, 'ragtune.config.json'), JSON.stringify({ models: { offline: true, embedder: { model: 'tiny' }, reranker: { model: 'tiny' } } }))
  const at = (hoursAgo: number): string => new Date(Date.now() - hoursAgo * HOUR).toISOString()
  seeded = [
    { ...sampleEntry(newQueryId(), 0), time: at(1), client: 'cli' },
    { ...sampleEntry(newQueryId(), 0), time: at(30), answer: null, usage: null, adapter: null, error: { code: 'GENERATOR_FAILED', message: 'the model process died' } },
    { ...sampleEntry(newQueryId(), 0), time: at(72), question: 'An old question\nover two lines' },
  ]
  // The store the CLI opens: <dataDir>/db, initialised as a first `ragtune index` would.
  const store = await PGliteStore.open({ dataDir: path.join(cwd, '.ragtune', 'db') })
  try {
    await store.init({ dimensions: 64, embeddingModel: 'tiny' })
    for (const e of seeded) await store.appendQueryLog(e)
  } finally {
    await store.close()
  }
})

afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

describe('ragtune logs and feedback', () => {
  it('lists the log newest first as a table, or as JSON filtered by --since', async () => {
    const list = await ragtune(cwd, 'logs')
    expect(list.code).toBe(0)
    const lines = list.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^time \(UTC\)\s+id\s+question\s+adapter\s+latency\s+error\s+label$/)
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[1])).toEqual(seeded.map((e) => e.id))
    expect(lines[2]).toMatch(/base\s+900 ms\s+GENERATOR_FAILED\s+-$/)
    expect(lines[3]).toContain('An old question over two lines')

    const recent = await ragtune(cwd, 'logs', '--since', '2d', '--json', '--limit', '5')
    expect(recent.code).toBe(0)
    expect(JSON.parse(recent.stdout)).toEqual(seeded.slice(0, 2).map((e) => ({ ...e, labels: [] })))
  })

  it('shows one query in full: sources with scores, prompt, error', async () => {
    const show = await ragtune(cwd, 'logs', 'show', seeded[1]!.id)
    expect(show.code).toBe(0)
    expect(show.stdout).toContain(`query ${seeded[1]!.id}`)
    expect(show.stdout).toMatch(/error \[GENERATOR_FAILED\]:\n\s+the model process died/)
    expect(show.stdout).toMatch(/\[1\] guide\.md › Guide › Keys\n\s+dense #2 0\.813 · lexical #1 7\.500 · fused 0\.0325 · rerank 4\.250/)
    expect(show.stdout).toMatch(/prompt \(template grounded-v1\):\n\s+--- system\n\s+Answer from the sources\./)
    const missing = await ragtune(cwd, 'logs', 'show', 'no-such-id')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/QUERY_NOT_FOUND.*no-such-id/)
  })

  it('records feedback, which then shows in the log; refuses bad flags and unknown ids', async () => {
    const id = seeded[1]!.id
    const fb = await ragtune(cwd, 'feedback', id, '--bad', '--category', 'format', '--correction', 'Restart the model.', '--json')
    expect(fb.code).toBe(0)
    const label = JSON.parse(fb.stdout) as Label
    expect(label).toMatchObject({ queryId: id, rating: 'bad', category: 'format', correction: 'Restart the model.', source: 'cli' })

    const show = await ragtune(cwd, 'logs', 'show', id, '--json')
    expect(JSON.parse(show.stdout)).toEqual({ ...seeded[1], labels: [label] })

    const unknown = await ragtune(cwd, 'feedback', 'no-such-id', '--good')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/error \[QUERY_NOT_FOUND\]: no logged query has id "no-such-id"/)
    const both = await ragtune(cwd, 'feedback', id, '--good', '--bad')
    expect([both.code, both.stderr]).toEqual([2, expect.stringMatching(/one of --good or --bad, got both/)])
    const none = await ragtune(cwd, 'feedback', id)
    expect([none.code, none.stderr]).toEqual([2, expect.stringMatching(/expected --good or --bad/)])
  })

  it('exports JSON Lines that round-trip, to stdout or a file, and checks its flags', async () => {
    const all = await ragtune(cwd, 'logs', 'export', '--format', 'jsonl')
    expect(all.code).toBe(0)
    expect(all.stderr).toMatch(/exported 3 queries/)
    const lines = all.stdout.trimEnd().split('\n')
    expect(lines.map((l) => JSON.parse(l))).toEqual(seeded)

    const file = path.join(cwd, 'recent.jsonl')
    const recent = await ragtune(cwd, 'logs', 'export', '--out', file, '--since', new Date(Date.now() - 48 * HOUR).toISOString())
    expect(recent.code).toBe(0)
    expect((await readFile(file, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l).id)).toEqual([seeded[0]!.id, seeded[1]!.id])

    const csv = await ragtune(cwd, 'logs', 'export', '--format', 'csv')
    expect([csv.code, csv.stderr]).toEqual([2, expect.stringMatching(/--format expects jsonl, got "csv"/)])
    const badSince = await ragtune(cwd, 'logs', '--since', 'yesterday')
    expect([badSince.code, badSince.stderr]).toEqual([2, expect.stringMatching(/--since expected an age like 30m, 12h or 14d/)])
  })
})
