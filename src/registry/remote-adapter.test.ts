import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OpenAIFake } from '../../test/hosted/openai-fake.js'
import type { LoadedConfig } from '../config/load-config.js'
import { parseConfig } from '../config/load-config.js'
import { RagtuneError } from '../errors.js'
import type { AdapterRecord } from '../spec/adapter-registry.js'
import type { EvalExampleResult } from '../spec/eval-run.js'
import { PGliteStore } from '../store/pglite-store.js'
import { promoteAdapter } from './promote.js'
import { addRemoteAdapter } from './remote-adapter.js'
import { activeChoice, adapterChoice } from './serving.js'

const FT = 'ft:gpt-4o-mini-2024-07-18:my-org::9sXkBlCz'
const SET = 'd'.repeat(64)
let store: PGliteStore
let fake: OpenAIFake
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-remote-adapter-'))
  fake = await OpenAIFake.start({ apiKey: 'sk-remote' })
  store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
})
afterAll(async () => {
  await store?.close()
  await fake?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

function config(provider: 'openai' | 'llama'): LoadedConfig {
  process.env.RAGTUNE_TEST_REMOTE_KEY = 'sk-remote'
  return { config: parseConfig({ generator: { provider, baseURL: fake.baseURL, model: 'gpt-4o-mini-2024-07-18', apiKeyEnv: 'RAGTUNE_TEST_REMOTE_KEY' } }), baseDir: dir, file: null }
}

/** One stored eval run of `record`; `score` is its label accuracy on every example. */
async function evalRun(record: AdapterRecord, id: string, right: (i: number) => boolean): Promise<void> {
  const results: EvalExampleResult[] = Array.from({ length: 40 }, (_, i) => ({ runId: id, exampleId: `q${i}`, category: 'format', question: 'q', answer: 'a', metrics: { label_accuracy: right(i) ? 1 : 0 }, detail: {} }))
  await store.addEvalRun({ id, time: new Date().toISOString(), setName: 'heldout', setSha256: SET, adapter: record.name, adapterId: record.id, model: 'gpt-4o-mini-2024-07-18', settings: {}, summary: {}, examples: results.length, warnings: [] }, results)
}

describe('remote adapters (hosted fine-tunes)', () => {
  it('are registered with the model id instead of a file, and read back as written', async () => {
    const r = await addRemoteAdapter(store, { name: 'ft-v1', remoteModel: FT, baseModel: 'gpt-4o-mini-2024-07-18', datasetVersion: 'ds-1', trainingConfig: { backend: 'openai', jobId: 'ftjob-1' }, detail: { jobId: 'ftjob-1' } })
    expect(r).toMatchObject({ name: 'ft-v1', filePath: null, fileSha256: null, remoteModel: FT, baseModel: 'gpt-4o-mini-2024-07-18', status: 'candidate' })
    expect(r.id).toMatch(/^ft-v1@[0-9a-f]{12}$/)
    expect(await store.getAdapter('ft-v1')).toEqual(r)
    const [added] = await store.listAdapterEvents({ adapter: 'ft-v1' })
    expect(added?.detail).toEqual({ remoteModel: FT, jobId: 'ftjob-1' })
    const dup = await addRemoteAdapter(store, { name: 'ft-v1', remoteModel: FT, baseModel: 'x' }).catch((e: unknown) => e)
    expect((dup as RagtuneError).code).toBe('ADAPTER_EXISTS')
  })

  it('the store refuses a row with both a file and a remote model, or neither', async () => {
    const base = { name: 'bad', id: 'bad@1', baseModel: null, baseModelSha256: null, datasetVersion: null, trainingConfig: null, parent: null, status: 'candidate' as const, createdAt: new Date().toISOString(), activatedAt: null }
    const event = { id: 'e-bad', time: new Date().toISOString(), action: 'add' as const, adapter: 'bad', previous: null, forced: false, reason: null, detail: null }
    const both = await store.addAdapter({ ...base, filePath: '/x.gguf', fileSha256: 'a'.repeat(64), remoteModel: FT }, event).catch((e: unknown) => e)
    const neither = await store.addAdapter({ ...base, filePath: null, fileSha256: null }, event).catch((e: unknown) => e)
    expect((both as RagtuneError).code).toBe('STORE_BAD_ARGUMENT')
    expect((neither as RagtuneError).code).toBe('STORE_BAD_ARGUMENT')
  })

  it('pass the A/B gate and promotion unchanged, then the openai generator serves them by model id', async () => {
    const ft = (await store.getAdapter('ft-v1'))!
    await evalRun((await store.getAdapter('base'))!, 'run-base', (i) => i < 10)
    await evalRun(ft, 'run-ft', (i) => i < 36)
    const promoted = await promoteAdapter(store, 'ft-v1')
    expect(promoted.decision?.pass).toBe(true)
    expect(promoted.active.remoteModel).toBe(FT)

    const choice = await activeChoice(config('openai'), dir, store)
    expect(choice.key).toBe(ft.id)
    const generator = await choice.load()
    expect(generator.adapter).toBe(FT)
    const out = await generator.doGenerate([{ role: 'user', content: 'which port?' }])
    expect(out.text).toBe(`answer from ${FT} [1]`)
    expect((fake.service.calls('/v1/chat/completions').at(-1)!.json as { model: string }).model).toBe(FT)
    await generator.dispose()
  })

  it('a local (llama) generator refuses them with the settings that serve them', async () => {
    const choice = await adapterChoice(config('llama'), dir, store, 'ft-v1')
    const err = await choice.load().catch((e: unknown) => e)
    expect((err as RagtuneError).code).toBe('ADAPTER_REMOTE')
    expect((err as Error).message).toContain('set generator.provider to "openai"')
  })
})
