import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureTinyLlama, TINY_LLAMA_BASE_OPTIONS } from '../src/models/tiny-llama/ensure-tiny-llama.js'
import { writeTinyLora } from '../src/models/tiny-llama/tiny-lora.js'
import { ensureTinyModels } from '../src/models/tiny/ensure-tiny-models.js'
import { TransformersEmbeddingModel } from '../src/models/transformers/transformers-embedding-model.js'
import { makeCorpus } from './helpers/corpus.js'
import { startCompatServer, type CompatServer } from './helpers/openai-compatible-server.js'
import { post, ragtuneOk, startServe, type ServeProcess } from './helpers/serve.js'

// ragtune against remote OpenAI-compatible model servers, the scale path's model side: embeddings
// from a /v1/embeddings server (TEI-like) and generation from a vLLM-like server that loads LoRA
// adapters at runtime on promotion. The server is test/helpers/openai-compatible-server.ts, running
// the real tiny encoder and tiny Llama.
let work: string
let compat: CompatServer
let embedder: TransformersEmbeddingModel
let serve: ServeProcess | undefined
const DOCS = {
  'docs/ports.md': '# Ports\n\nThe heartbeat uses port 7500 over UDP on the back-end network.',
  'docs/keys.md': '# Keys\n\nRotate the master keys every 90 days with skyctl keys rotate.',
}

beforeAll(async () => {
  work = await makeCorpus({}, 'ragtune-remote-')
  embedder = await TransformersEmbeddingModel.load({ model: (await ensureTinyModels(path.join(work, 'models'))).embedder, offline: true })
  compat = await startCompatServer({ embedder, chatModelPath: (await ensureTinyLlama(path.join(work, 'models'))).q8_0, chatModel: 'tiny-base' })
})
afterAll(async () => {
  if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL')
  await compat?.close()
  await embedder?.dispose()
  if (work) await rm(work, { recursive: true, force: true })
})

async function workspace(name: string, config: Record<string, unknown>): Promise<string> {
  const cwd = path.join(work, name)
  for (const [rel, text] of Object.entries(DOCS)) {
    await mkdir(path.dirname(path.join(cwd, rel)), { recursive: true })
    await writeFile(path.join(cwd, rel), text)
  }
  await writeFile(path.join(cwd, 'ragtune.config.json'), JSON.stringify(config))
  return cwd
}

describe('remote models over the OpenAI API', () => {
  it('indexes and searches with embeddings from a /v1/embeddings server', async () => {
    const cwd = await workspace('embed', {
      models: { offline: true, embedder: { provider: 'openai', model: 'tiny-encoder', batchSize: 8, openai: { baseURL: compat.baseURL, maxInputTokens: 128 } }, reranker: { model: 'tiny' } },
      retrieval: { rerank: false },
    })
    const before = compat.requests.filter((r) => r.path === '/v1/embeddings').length
    const report = JSON.parse(await ragtuneOk(cwd, 'index', 'docs', '--json')) as { chunksWritten: number }
    expect(report.chunksWritten).toBeGreaterThanOrEqual(2)
    expect(compat.requests.filter((r) => r.path === '/v1/embeddings').length).toBeGreaterThan(before)
    const status = JSON.parse(await ragtuneOk(cwd, 'status', '--json')) as { store: { embeddingModel: string; dimensions: number } }
    expect(status.store).toMatchObject({ embeddingModel: 'tiny-encoder', dimensions: embedder.dimensions })
    const hits = JSON.parse(await ragtuneOk(cwd, 'search', 'heartbeat port', '--mode', 'dense', '--json')) as { hits: Array<{ documentPath: string }> }
    expect(hits.hits.length).toBeGreaterThan(0)
  })

  it('loads the promoted adapter into a vLLM-style server and serves it by name', async () => {
    const cwd = await workspace('vllm', {
      models: { offline: true, embedder: { model: 'tiny' }, reranker: { model: 'tiny' } },
      retrieval: { mode: 'lexical', rerank: false },
      generator: { provider: 'openai', baseURL: compat.baseURL, model: 'tiny-base', maxTokens: 8, vllm: { loadAdapters: true } },
    })
    await ragtuneOk(cwd, 'index', 'docs')
    for (const [name, seed] of [['a1', 7], ['a2', 8]] as const) {
      await mkdir(path.join(cwd, 'adapters', name), { recursive: true })
      await writeTinyLora(path.join(cwd, 'adapters', name, 'adapter.gguf'), TINY_LLAMA_BASE_OPTIONS, { seed })
      await ragtuneOk(cwd, 'adapter', 'add', name, `adapters/${name}/adapter.gguf`)
    }
    serve = await startServe(cwd, '--no-auth')
    const ask = async (): Promise<{ adapter: string | null; answer: string }> =>
      (await (await post(`${serve!.url}/v1/answer`, { question: 'Which port does the heartbeat use?' })).json()) as { adapter: string | null; answer: string }
    expect((await ask()).adapter).toBeNull()
    const promote = async (name: string): Promise<number> => (await post(`${serve!.url}/v1/adapters/${name}/promote`, { force: true, reason: 'test' })).status

    expect(await promote('a1')).toBe(200)
    expect(compat.loaded.get('a1')).toBe(path.join(cwd, 'adapters', 'a1'))
    const a1 = await ask()
    expect(a1.adapter).toBe('a1')
    expect(compat.requests.at(-1)).toMatchObject({ path: '/v1/chat/completions', body: { model: 'a1' } })

    expect(await promote('a2')).toBe(200)
    const a2 = await ask()
    expect(a2.adapter).toBe('a2')
    expect(a2.answer).not.toBe(a1.answer)
    // Back to a1, which the server still holds: "already loaded" is success, not an error.
    expect(await promote('a1')).toBe(200)
    expect((await ask()).answer).toBe(a1.answer)
    expect(compat.requests.filter((r) => r.path === '/v1/load_lora_adapter').map((r) => r.body.lora_name)).toEqual(['a1', 'a2', 'a1'])
  })
})
