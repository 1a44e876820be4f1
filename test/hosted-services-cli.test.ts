import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ragtune } from './helpers/cli.js'
import { makeCorpus } from './helpers/corpus.js'
import { startCohereFake } from './hosted/cohere-fake.js'
import type { FakeService } from './hosted/fake-service.js'
import { OpenAIFake } from './hosted/openai-fake.js'
import { PineconeFake } from './hosted/pinecone-fake.js'

/*
 * The guide's hosted stack from the CLI, each service replaced by a local server speaking its
 * recorded API (no hosted service is reachable here): vectors in Pinecone, Cohere rerank, OpenAI
 * fine-tuning, and the fine-tuned model served by name after promotion.
 */
const KEYS = { RAGTUNE_TEST_PC_KEY: 'pc-cli', RAGTUNE_TEST_CO_KEY: 'co-cli', RAGTUNE_TEST_OAI_KEY: 'sk-cli' }
let cwd: string
let pinecone: PineconeFake
let cohere: FakeService
let openai: OpenAIFake

beforeAll(async () => {
  Object.assign(process.env, KEYS)
  pinecone = await PineconeFake.start({ apiKey: KEYS.RAGTUNE_TEST_PC_KEY, indexName: 'docs-index', dimension: 64 })
  cohere = await startCohereFake(KEYS.RAGTUNE_TEST_CO_KEY)
  openai = await OpenAIFake.start({ apiKey: KEYS.RAGTUNE_TEST_OAI_KEY, stepsToFinish: 2 })
  cwd = await makeCorpus({
    'docs/keys.md': '# Keys\n\nRotate the master keys every 90 days with skyctl keys rotate.',
    'docs/ports.md': '# Ports\n\nThe heartbeat uses port 7500 over UDP on the back-end network.',
    'docs/backups.md': '# Backups\n\nBackups run nightly; restore with skyctl restore.',
  }, 'ragtune-hosted-cli-')
  const config = {
    docs: { root: 'docs' },
    models: { embedder: { model: 'tiny' }, reranker: { provider: 'cohere', cohere: { apiKeyEnv: 'RAGTUNE_TEST_CO_KEY', baseURL: cohere.url } } },
    store: { vectors: { provider: 'pinecone', index: 'docs-index', namespace: 'cli', apiKeyEnv: 'RAGTUNE_TEST_PC_KEY', host: pinecone.url } },
    generator: { provider: 'openai', baseURL: openai.baseURL, model: 'gpt-4o-mini-2024-07-18', apiKeyEnv: 'RAGTUNE_TEST_OAI_KEY' },
  }
  await writeFile(path.join(cwd, 'ragtune.config.json'), JSON.stringify(config, null, 2))
  const records = Array.from({ length: 10 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `<sources>[1] Port ${7000 + i}.</sources>\n\nQuestion: which port? ${i}` }, { role: 'assistant', content: `Port ${7000 + i} [1].` }] }))
  await writeFile(path.join(cwd, 'train.jsonl'), records.join('\n') + '\n')
})

afterAll(async () => {
  for (const k of Object.keys(KEYS)) delete process.env[k]
  await Promise.allSettled([pinecone?.close(), cohere?.close(), openai?.close()])
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

describe('hosted services from the CLI (recorded API shapes)', () => {
  it('indexes vectors into Pinecone and searches them fused with local lexical hits, reranked by Cohere', async () => {
    const index = await ragtune(cwd, 'index')
    expect(index.code, index.stderr).toBe(0)
    expect(pinecone.ids('cli').length).toBeGreaterThanOrEqual(3)
    const search = await ragtune(cwd, 'search', 'how', 'often', 'rotate', 'master', 'keys', '--json')
    expect(search.code, search.stderr).toBe(0)
    const res = JSON.parse(search.stdout) as { rerankerModel: string; hits: Array<{ documentPath: string; scores: { dense?: unknown; lexical?: unknown; rerank?: number } }> }
    expect(res.rerankerModel).toBe('cohere:rerank-english-v3.0')
    expect(res.hits[0]!.documentPath).toBe('keys.md')
    expect(res.hits[0]!.scores.rerank).toBeCloseTo(3 / 5) // rotate, master, keys of the five query words
    expect(res.hits.some((h) => h.scores.dense !== undefined)).toBe(true)
    expect(pinecone.service.calls('/query').length).toBeGreaterThan(0)
    expect(cohere.calls('/v2/rerank')).toHaveLength(1)
  })

  it('trains on OpenAI, registers the fine-tune, and after promotion `ask` is answered by it', async () => {
    const train = await ragtune(cwd, 'train', '--backend', 'openai', '--dataset', 'train.jsonl', '--out', 'adapters/ft-v1', '--openai-base-url', openai.baseURL, '--poll-seconds', '0.01', '--epochs', '2', '--register', '--json')
    expect(train.code, train.stderr).toBe(0)
    const result = JSON.parse(train.stdout) as { fineTunedModel: string; jobId: string; registered: string; losses: number[] }
    expect(result.fineTunedModel).toMatch(/^ft:gpt-4o-mini-2024-07-18:my-org::/)
    expect(result.registered).toMatch(/^ft-v1@[0-9a-f]{12}$/)
    expect(result.losses).toHaveLength(2)
    expect(JSON.parse(await readFile(path.join(cwd, 'adapters/ft-v1/openai-job.json'), 'utf8')).jobId).toBe(result.jobId)

    const resumed = await ragtune(cwd, 'train', '--backend', 'openai', '--dataset', 'train.jsonl', '--out', 'adapters/ft-v1', '--openai-base-url', openai.baseURL, '--poll-seconds', '0.01', '--resume', '--register', '--rank', '8')
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stderr).toContain(`attached to fine-tuning job ${result.jobId}`)
    expect(resumed.stderr).toContain('--rank does not apply to --backend openai')
    expect(openai.jobs.size).toBe(1)

    const show = await ragtune(cwd, 'adapter', 'show', 'ft-v1')
    expect(show.stdout).toContain(`remote model   ${result.fineTunedModel}`)
    const promote = await ragtune(cwd, 'adapter', 'promote', 'ft-v1', '--force', '--reason', 'recorded-response test')
    expect(promote.code, promote.stderr).toBe(0)
    const ask = await ragtune(cwd, 'ask', 'how', 'often', 'are', 'keys', 'rotated?', '--json')
    expect(ask.code, ask.stderr).toBe(0)
    const answer = JSON.parse(ask.stdout) as { answer: string; adapter: string }
    expect(answer.answer).toBe(`answer from ${result.fineTunedModel} [1]`)
    expect(answer.adapter).toBe(result.fineTunedModel)
  })

  it('a missing key stops before any request, naming the variable', async () => {
    const before = openai.service.requests.length
    const { RAGTUNE_TEST_OAI_KEY: _drop, ...env } = process.env
    const child = await import('node:child_process')
    const { BIN } = await import('./helpers/cli.js')
    const r = child.spawnSync(process.execPath, [BIN, 'train', '--backend', 'openai', '--dataset', 'train.jsonl', '--out', 'adapters/ft-v2', '--openai-base-url', openai.baseURL], { cwd, env, encoding: 'utf8' })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('HOSTED_NO_KEY')
    expect(r.stderr).toContain('RAGTUNE_TEST_OAI_KEY')
    expect(openai.service.requests.length).toBe(before)
  })
})
