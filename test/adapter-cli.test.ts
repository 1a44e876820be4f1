import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TINY_LLAMA_BASE_OPTIONS } from '../src/models/tiny-llama/ensure-tiny-llama.js'
import { writeTinyLora } from '../src/models/tiny-llama/tiny-lora.js'
import type { AdapterRecord } from '../src/spec/adapter-registry.js'
import type { EvalRunRecord } from '../src/spec/eval-run.js'
import { ragtune } from './helpers/cli.js'
import { indexedWorkspace, ragtuneOk, tinyConfig } from './helpers/serve.js'

// The whole loop through the built CLI on tiny random-weight models: register two adapters, evaluate
// base and one adapter on a held-out set, compare, gate, force, roll back. The numbers mean nothing
// (random weights); the test checks the mechanics and the records.
let cwd: string
const json = async <T>(...args: string[]): Promise<T> => JSON.parse(await ragtuneOk(cwd, ...args, '--json')) as T

const SET = [
  { id: 'p1', question: 'Which port does the heartbeat use?', answer: '7500', goldDocIds: ['ports.md'], category: 'facts' },
  { id: 'p2', question: 'Does the heartbeat use UDP?', label: 'yes', goldDocIds: ['ports.md'], category: 'yes-no' },
  { id: 'k1', question: 'How often are master keys rotated?', answer: 'every 90 days', goldDocIds: ['keys.md'], category: 'facts' },
  { id: 'k2', question: 'Are keys rotated daily?', label: 'no', goldDocIds: ['keys.md'], category: 'yes-no' },
  { messages: [{ role: 'user', content: 'Which tool rotates keys?' }, { role: 'assistant', content: 'skyctl' }], metadata: { id: 'k3', category: 'facts', goldDocIds: ['keys.md'] } },
]

beforeAll(async () => {
  cwd = await indexedWorkspace(
    {
      'ports.md': '# Ports\n\nThe heartbeat uses port 7500 over UDP on the back-end network.',
      'keys.md': '# Keys\n\nRotate the master keys every 90 days with skyctl keys rotate.',
    },
    tinyConfig({ generator: { maxTokens: 8 } }),
  )
  await writeTinyLora(path.join(cwd, 'a1.gguf'), TINY_LLAMA_BASE_OPTIONS, { seed: 7 })
  await writeTinyLora(path.join(cwd, 'a2.gguf'), TINY_LLAMA_BASE_OPTIONS, { seed: 8 })
  await writeFile(path.join(cwd, 'heldout.jsonl'), SET.map((r) => JSON.stringify(r)).join('\n') + '\n')
})

afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

describe('ragtune adapter + eval run/compare', () => {
  it('registers adapters checked against the base model', async () => {
    const a1 = await json<AdapterRecord>('adapter', 'add', 'a1', 'a1.gguf', '--dataset-version', 'ds-1')
    expect(a1).toMatchObject({ name: 'a1', status: 'candidate', datasetVersion: 'ds-1', filePath: path.join(cwd, 'a1.gguf'), baseModel: expect.stringMatching(/^tiny-llama-q8_0\.gguf@/) })
    await ragtuneOk(cwd, 'adapter', 'add', 'a2', 'a2.gguf', '--parent', 'a1')
    const bad = await ragtune(cwd, 'adapter', 'add', 'a3', 'heldout.jsonl')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/error \[ADAPTER_MISMATCH\]/)
    const list = await json<AdapterRecord[]>('adapter', 'list')
    expect(list.map((a) => [a.name, a.status])).toEqual([['base', 'candidate'], ['a1', 'candidate'], ['a2', 'candidate']])
  })

  it('documents the eval set format and the metrics in --help', async () => {
    const help = await ragtuneOk(cwd, 'eval', 'run', '--help')
    expect(help).toMatch(/"goldDocIds"/)
    expect(help).toMatch(/"messages"/)
    expect(help).toMatch(/label_accuracy +0\/1/)
    expect(await ragtuneOk(cwd, 'adapter', 'promote', '--help')).toMatch(/lower end of the 95% paired/)
  })

  it('evaluates base and an adapter on the held-out set without logging the questions', async () => {
    const base = await json<EvalRunRecord>('eval', 'run', '--adapter', 'base', '--set', 'heldout.jsonl')
    const a1 = await json<EvalRunRecord>('eval', 'run', '--adapter', 'a1', '--set', 'heldout.jsonl')
    expect(base).toMatchObject({ adapter: 'base', adapterId: null, setName: 'heldout', examples: 5, settings: { checks: 'analyze', maxTokens: 8 } })
    expect(a1).toMatchObject({ adapter: 'a1', adapterId: expect.stringMatching(/^a1@[0-9a-f]{12}$/), setSha256: base.setSha256 })
    for (const metric of ['recall', 'mrr', 'ndcg', 'exact_match', 'f1', 'label_accuracy', 'format_ok', 'citation_accuracy', 'refusal', 'latency_ms']) {
      expect(a1.summary).toHaveProperty(metric)
    }
    expect(a1.summary.recall).toBe(1)
    const runs = await json<EvalRunRecord[]>('eval', 'runs')
    expect(runs.map((r) => r.id)).toEqual([a1.id, base.id])
    expect(await json<unknown[]>('logs')).toEqual([])
    const text = await ragtuneOk(cwd, 'eval', 'runs')
    expect(text).toMatch(/heldout/)
  })

  it('compares the runs with intervals, tests and a chart', async () => {
    const { comparison, decision } = await json<{ comparison: { pairs: number; overall: Array<{ metric: string; diff: { low: number; high: number } }>; categories: Array<{ category: string }> }; decision: { primary: { metric: string } } }>(
      'eval', 'compare', 'base', 'a1', '--out', 'report',
    )
    expect(comparison.pairs).toBe(5)
    expect(comparison.categories.map((c) => c.category)).toEqual(['facts', 'yes-no'])
    expect(decision.primary.metric).toBe('label_accuracy')
    const md = await readFile(path.join(cwd, 'report', 'report.md'), 'utf8')
    expect(md).toMatch(/^# A\/B comparison: a1 vs base/)
    expect(md).toMatch(/### yes-no \(2 pairs\)/)
    expect(await readFile(path.join(cwd, 'report', 'report.svg'), 'utf8')).toMatch(/^<svg [\s\S]*label_accuracy: a1 \(B\) vs base \(A\)[\s\S]*<\/svg>\n$/)
    expect(JSON.parse(await readFile(path.join(cwd, 'report', 'report.json'), 'utf8'))).toHaveProperty('decision.primary.metric', 'label_accuracy')
  })

  it('gates promotion, records a forced override, and rolls back', async () => {
    // The tiny model never says yes or no: both sides score 0, and a tie does not pass the gate.
    const rejected = await ragtune(cwd, 'adapter', 'promote', 'a1')
    expect(rejected.code).toBe(1)
    expect(rejected.stderr).toMatch(/error \[GATE_REJECTED\]: "a1" does not beat "base"/)
    expect((await ragtune(cwd, 'adapter', 'promote', 'a2')).stderr).toMatch(/\[EVAL_MISSING\]/)
    expect((await ragtune(cwd, 'adapter', 'promote', 'a1', '--force')).code).toBe(2)

    const forced = await json<{ forced: boolean; previous: string | null; active: AdapterRecord; decision: { pass: boolean } }>('adapter', 'promote', 'a1', '--force', '--reason', 'tiny test')
    expect(forced).toMatchObject({ forced: true, previous: null, active: { name: 'a1', status: 'active' }, decision: { pass: false } })
    await ragtuneOk(cwd, 'adapter', 'promote', 'a2', '--force', '--reason', 'second')
    const ask = await json<{ adapter: string }>('ask', 'Which port?')
    expect(ask.adapter).toMatch(/^a2@/)

    const back = await json<{ active: AdapterRecord; previous: string }>('adapter', 'rollback', '--reason', 'a2 was worse')
    expect(back).toMatchObject({ previous: 'a2', active: { name: 'a1' } })
    const list = await json<AdapterRecord[]>('adapter', 'list')
    expect(list.filter((a) => a.status === 'active').map((a) => a.name)).toEqual(['a1'])
    const shown = await json<{ evalRuns: EvalRunRecord[]; history: Array<{ action: string; forced: boolean; reason: string | null }> }>('adapter', 'show', 'a1')
    expect(shown.evalRuns).toHaveLength(1)
    expect(shown.history.map((e) => [e.action, e.forced, e.reason])).toEqual([['add', false, null], ['promote', true, 'tiny test'], ['promote', true, 'second'], ['rollback', false, 'a2 was worse']])
  })

  it('removes only adapters that are not active', async () => {
    const inUse = await ragtune(cwd, 'adapter', 'rm', 'a1')
    expect(inUse.stderr).toMatch(/\[ADAPTER_IN_USE\]/)
    await ragtuneOk(cwd, 'adapter', 'rm', 'a2', '--reason', 'superseded')
    expect((await json<AdapterRecord[]>('adapter', 'list')).map((a) => a.name)).toEqual(['base', 'a1'])
    expect((await ragtune(cwd, 'adapter', 'show', 'a2')).stderr).toMatch(/\[ADAPTER_UNKNOWN\]/)
  })
})
