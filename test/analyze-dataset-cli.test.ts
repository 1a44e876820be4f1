import { access, chmod, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportPeft } from '../src/train/adapter-io/convert.js'
import { tinyAdapter } from './fixtures/tiny-lora-weights.js'
import { ragtune } from './helpers/cli.js'
import { makeCorpus } from './helpers/corpus.js'

let cwd: string

beforeAll(async () => {
  cwd = await makeCorpus({
    'docs/keys.md': '# Keys\n\nRotate the master keys every 90 days with skyctl keys rotate.',
    'docs/ports.md': '# Ports\n\nThe heartbeat uses port 7500 over UDP on the back-end network.',
    'docs/quotas.md': '# Quotas\n\nEach project may hold 40 buckets; ask support for more.',
    'docs/alerts.md': '# Alerts\n\nPage the on-call engineer when disk usage passes 85 percent.',
    'ragtune.config.json': JSON.stringify({
      docs: { root: 'docs' },
      models: { offline: true, embedder: { model: 'tiny' }, reranker: { model: 'tiny' } },
      chunking: { chunkTokens: 128, overlapTokens: 16 },
      retrieval: { topK: 2 },
      generator: { model: 'tiny', maxTokens: 12 },
      analyze: { minExamplesPerCategory: 2 },
    }),
    'labels.jsonl': [
      { instruction: 'How often are the master keys rotated?', input: '', output: 'Every 90 days.', category: 'hedging', metadata: { goldDocuments: ['keys.md'] } },
      { instruction: 'How many buckets may a project hold?', input: '', output: '40 buckets.', metadata: { goldDocuments: ['quotas.md'] } },
      { instruction: 'When is the on-call engineer paged?', input: '', output: 'When disk usage passes 85 percent.', metadata: { goldDocuments: ['alerts.md'] } },
    ].map((l) => JSON.stringify(l)).join('\n'),
    'bad-labels.jsonl': '{"instruction": "ok?", "output": "ok"}\n{"instruction": "broken", "output": 42}\n',
  }, 'ragtune-analyze-cli-')
}, 300_000)

afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

describe('ragtune analyze, labels and dataset', () => {
  it('explain themselves in --help', async () => {
    const top = await ragtune(cwd, '--help')
    for (const cmd of ['analyze', 'labels', 'dataset']) expect(top.stdout).toMatch(new RegExp(`\\n\\s+${cmd}\\b`))
    expect((await ragtune(cwd, 'analyze', '--help')).stdout).toMatch(/failure rates\s+by\s+category[\s\S]*--since <when>[\s\S]*--judge/)
    expect((await ragtune(cwd, 'dataset', 'build', '--help')).stdout).toMatch(/SAME\s+pipeline\s+and\s+k\s+as\s+inference[\s\S]*--p <p>[\s\S]*--max-length <n>/)
    expect((await ragtune(cwd, 'labels', 'import', '--help')).stdout).toMatch(/line\s+\(or\s+record\)/)
  })

  it('runs the loop: ask, feedback, import labels, analyze, build, export', async () => {
    expect((await ragtune(cwd, 'index')).code).toBe(0)
    const ask = await ragtune(cwd, 'ask', 'Which port does the heartbeat use?', '--json')
    expect(ask.code).toBe(0)
    const asked = JSON.parse(ask.stdout) as { queryId: string; sources: Array<{ n: number; path: string }> }
    // The tiny reranker's order is arbitrary: cite whichever source came first.
    const n = asked.sources[0]!.n
    expect((await ragtune(cwd, 'feedback', asked.queryId, '--bad', '--category', 'tone', '--correction', `Port 7500 over UDP [${n}].`)).code).toBe(0)

    const bad = await ragtune(cwd, 'labels', 'import', 'bad-labels.jsonl', '--format', 'guide')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/error \[DATASET_INVALID\]: bad-labels\.jsonl: line 2, field "output"/)
    const imported = await ragtune(cwd, 'labels', 'import', 'labels.jsonl', '--format', 'guide', '--json')
    expect(JSON.parse(imported.stdout)).toMatchObject({ read: 3, added: 3 })
    expect((await ragtune(cwd, 'labels', 'list')).stdout).toMatch(/guide\s+3\s+hedging 1/)

    const analysis = await ragtune(cwd, 'analyze', '--since', '1d', '--json')
    expect(analysis.code).toBe(0)
    const report = JSON.parse(analysis.stdout)
    expect(report).toMatchObject({ queries: 1, answered: 1, trend: { bucket: 'day' } })
    expect(report.categories.find((c: { category: string }) => c.category === 'tone')).toMatchObject({ exampleQueryIds: [asked.queryId], trainingExamples: 1, lacksExamples: true })
    const judged = JSON.parse((await ragtune(cwd, 'analyze', '--judge', '--json')).stdout)
    expect(judged.judge).toMatchObject({ judged: 1 })
    const md = await ragtune(cwd, 'analyze')
    expect(md.stdout).toMatch(/# ragtune failure analysis[\s\S]*## Failure rates by category[\s\S]*## Training data coverage/)

    const build = await ragtune(cwd, 'dataset', 'build', '--eval-fraction', '0.3', '--json')
    expect(build.code).toBe(0)
    const built = JSON.parse(build.stdout)
    expect(built.report.split.leakage).toBe(0)
    expect(built.report.items.kept.train + built.report.items.kept.eval).toBe(4)
    expect(built.report.length).toMatchObject({ exact: true, tokenizer: 'gguf:tiny-llama-q8_0.gguf' })
    const trainFile = built.files.find((f: string) => f.endsWith('train.openai.jsonl'))
    const records = (await readFile(trainFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
    for (const r of records) {
      expect(Object.keys(r)).toEqual(['messages', 'metadata'])
      expect(r.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user', 'assistant'])
    }
    const human = await ragtune(cwd, 'dataset', 'build', '--eval-fraction', '0.3')
    expect(human.stdout).toMatch(/identical to stored dataset .* \(same hash\)[\s\S]*leakage 0/)

    const list = await ragtune(cwd, 'dataset', 'list', '--json')
    expect(JSON.parse(list.stdout).map((v: { id: string }) => v.id)).toEqual([built.version.id])
    const out = path.join(cwd, 'hf')
    const exported = await ragtune(cwd, 'dataset', 'export', built.version.id, '--format', 'hf', '--out', out)
    expect(exported.code).toBe(0)
    await access(path.join(out, 'data', 'train.jsonl'))
    expect(await readFile(path.join(out, 'README.md'), 'utf8')).toContain(built.version.hash)
    const missing = await ragtune(cwd, 'dataset', 'export', 'nope', '--out', out)
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/DATASET_NOT_FOUND/)])

    // The GPU backend trains on a stored version's train split and registers what it made; a fake
    // interpreter speaks the job's protocol in place of transformers + peft (not installed here).
    const gpuOut = path.join(cwd, 'adapters', 'gpu-v1')
    await exportPeft(tinyAdapter(), { dir: path.join(gpuOut, 'adapter'), heads: 4, kvHeads: 2, baseModelName: 'tiny' })
    const fakePython = path.join(cwd, 'fake-python')
    const fakeJob = fileURLToPath(new URL('../src/train/python/testdata/fake-job.py', import.meta.url))
    await writeFile(fakePython, `#!/bin/sh\nexec python3 '${fakeJob}' job "$@"\n`)
    await chmod(fakePython, 0o755)
    const gpu = await ragtune(cwd, 'train', '--backend', 'python', '--hf-model', 'tiny', '--python', fakePython, '--dataset', `dataset:${built.version.id}`,
      '--out', gpuOut, '--register', '--threads', '2', '--json')
    expect(gpu.code, gpu.stderr).toBe(0)
    expect(JSON.parse(gpu.stdout).registered).toMatch(/^gpu-v1@/)
    expect(gpu.stderr).toMatch(/--threads applies to ragtune's CPU kernels, not to --backend python; ignored/)
    const job = JSON.parse(await readFile(path.join(gpuOut, 'job-config.json'), 'utf8'))
    expect(job.dataset).toBe(path.join(gpuOut, 'dataset', 'train.openai.jsonl'))
    const adapters = JSON.parse((await ragtune(cwd, 'adapter', 'list', '--json')).stdout)
    expect(adapters.find((a: { name: string }) => a.name === 'gpu-v1')).toMatchObject({ status: 'candidate', datasetVersion: built.version.id })
  }, 400_000)
})
