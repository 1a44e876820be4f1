import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyzeRules } from '../src/analyze/rules.js'
import { answer, type AnswerOptions } from '../src/answer/answer.js'
import { buildDataset } from '../src/dataset/build-dataset.js'
import { llamaTokenCounter } from '../src/dataset/llama-token-counter.js'
import type { TokenCounter } from '../src/dataset/token-count.js'
import { indexFolder } from '../src/ingest/indexer.js'
import { LlamaCppGenerator } from '../src/models/llama/llama-cpp-generator.js'
import { llamaRuntime } from '../src/models/llama/llama-runtime.js'
import { TransformersEmbeddingModel } from '../src/models/transformers/transformers-embedding-model.js'
import { recordFeedback } from '../src/observe/feedback.js'
import { PGliteStore } from '../src/store/pglite-store.js'
import { tokenizeRecords } from '../src/train/data/tokenize-records.js'
import { parseTrainingRecord } from '../src/train/data/training-records.js'
import { tinyLlama } from './fixtures/tiny-llama.js'
import { tinyModelDirs } from './fixtures/tiny-models.js'
import { makeCorpus } from './helpers/corpus.js'

let store: PGliteStore
let embedder: TransformersEmbeddingModel
let generator: LlamaCppGenerator
let counter: TokenCounter
let root: string
let modelPath: string
const retrieval = { mode: 'hybrid', denseK: 20, lexicalK: 20, candidates: 20, rrfK: 60, topK: 3, rerank: false } as const
const opts = (extra: Partial<AnswerOptions> = {}): AnswerOptions => ({ retrieval, maxTokens: 16, ...extra })

beforeAll(async () => {
  const [dirs, llama] = await Promise.all([tinyModelDirs(), tinyLlama()])
  embedder = await TransformersEmbeddingModel.load({ model: dirs.embedder, offline: true })
  generator = await LlamaCppGenerator.load({ modelPath: llama.f32 })
  counter = await llamaTokenCounter(llama.f32)
  modelPath = llama.f32
  store = await PGliteStore.open({})
  await store.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
  root = await makeCorpus({
    'keys.md': '# Keys\n\nRotate the master keys every 90 days with skyctl keys rotate.',
    'ports.md': '# Ports\n\nThe heartbeat uses port 7500 over UDP on the back-end network.',
    'quotas.md': '# Quotas\n\nEach project may hold 40 buckets; ask support for more.',
    'alerts.md': '# Alerts\n\nPage the on-call engineer when disk usage passes 85 percent.',
  })
  await indexFolder({ root, store, embedder, chunking: { chunkTokens: 128, overlapTokens: 16 }, include: ['**/*'], exclude: [], maxFileBytes: 1 << 20, batchSize: 8 })
})

afterAll(async () => {
  await Promise.allSettled([generator?.dispose(), counter?.dispose?.(), store?.close(), embedder?.dispose()])
  if (root) await rm(root, { recursive: true, force: true })
})

describe('training prompts equal inference prompts', () => {
  it('a corrected query becomes a record whose prompt is exactly the one inference logged', async () => {
    const asked = await answer({ store, embedder, generator }, 'Which port does the heartbeat use?', opts())
    const logged = (await store.getQueryLog(asked.queryId))!
    const n = asked.sources.findIndex((s) => s.path === 'ports.md') + 1
    expect(n).toBeGreaterThan(0)
    await recordFeedback(store, { queryId: asked.queryId, rating: 'bad', category: 'ungrounded', correction: `The heartbeat uses port 7500 over UDP [${n}].`, source: 'cli' })
    const schemaQ = await answer({ store, embedder, generator }, 'How many buckets may a project hold?', opts({ jsonSchema: { type: 'object', properties: { buckets: { type: 'integer' } }, required: ['buckets'] } }))
    await recordFeedback(store, { queryId: schemaQ.queryId, correction: '{"buckets": 40}', category: 'schema', source: 'cli' })

    const built = await buildDataset({ store, embedder }, { retrieval, rules: analyzeRules(), p: 1, evalFraction: 0, tokenCounter: counter, failingCategories: [] })
    expect(built.report.split.leakage).toBe(0)
    const rec = built.train.find((r) => r.metadata.queryId === asked.queryId)!
    expect(rec.messages.slice(0, 2)).toEqual(logged.prompt!.messages)
    expect(rec.messages.slice(0, 2)).toEqual(asked.messages)
    expect(rec.messages[2]).toEqual({ role: 'assistant', content: `The heartbeat uses port 7500 over UDP [${n}].` })
    expect(rec.metadata).toMatchObject({ oracle: 'retrieved', categories: expect.arrayContaining(['ungrounded']), source: 'log', labelId: expect.any(String) })

    const jsonRec = built.train.find((r) => r.metadata.queryId === schemaQ.queryId)!
    expect(jsonRec.messages.slice(0, 2)).toEqual(schemaQ.messages)
    expect(jsonRec.messages[0]!.content).toContain('Reply with JSON only, matching this JSON Schema:')
    expect(jsonRec.messages[2]!.content).toBe('{"buckets": 40}')

    // Exact length: the prompt part is counted as the generator counted it when it answered.
    expect(built.report.length).toMatchObject({ exact: true, tokenizer: expect.stringMatching(/^gguf:tiny-llama-f32\.gguf$/) })
    expect(await counter.count(rec.messages.slice(0, 2))).toBe(asked.usage.promptTokens)
    expect(rec.metadata.tokens).toBeGreaterThan(asked.usage.promptTokens)
    // The length filter counts exactly the tokens the trainer trains on.
    const vocab = await (await llamaRuntime(false)).loadModel({ modelPath, vocabOnly: true, gpuLayers: 0 })
    try {
      const trained = tokenizeRecords(vocab, [parseTrainingRecord(rec, 'train.jsonl', 1)], 1 << 20).examples[0]!
      expect(rec.metadata.tokens).toBe(trained.tokens.length)
    } finally {
      await vocab.dispose()
    }
  })
})
