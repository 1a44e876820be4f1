import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AutoTokenizer } from '@huggingface/transformers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RagtuneError } from '../../errors.js'
import { generateTinyModel } from '../tiny/tiny-model.js'
import { BGE_QUERY_INSTRUCTION, TransformersEmbeddingModel } from './transformers-embedding-model.js'

let root: string
let dir: string
let model: TransformersEmbeddingModel

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ragtune-embed-'))
  dir = (await generateTinyModel(join(root, 'tiny-embedder'), { kind: 'encoder' })).dir
  model = await TransformersEmbeddingModel.load({ model: dir, offline: true })
})
afterAll(async () => {
  await model?.dispose()
  await rm(root, { recursive: true, force: true })
})

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * (b[i] as number), 0)

describe('TransformersEmbeddingModel on the tiny encoder', () => {
  it('returns one unit vector of the configured dimension per text', async () => {
    expect(model.dimensions).toBe(64)
    expect(model.pooling).toBe('cls')
    expect(model.normalize).toBe(true)
    const vectors = await model.doEmbed(['alpha beta', 'gamma', ''], { kind: 'document' })
    expect(vectors).toHaveLength(3)
    for (const v of vectors.slice(0, 2)) {
      expect(v).toHaveLength(64)
      expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 5)
    }
    expect(vectors[2]!.every((x) => Number.isFinite(x))).toBe(true)
    expect(await model.doEmbed([], { kind: 'document' })).toEqual([])
  })

  it('counts tokens exactly as the tokenizer encodes them, without special tokens', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true })
    for (const text of ['', 'Hello, world!', 'Retrieval-augmented generation (RAG) with LoRA adapters: 512 tokens/chunk.', 'naïve café ünïcode 東京']) {
      expect(model.countTokens(text)).toBe(tokenizer.encode(text, { add_special_tokens: false }).length)
    }
    expect(model.maxInputTokens).toBe(510)
  })

  it('gives the same vector for a text alone or in a padded batch, in any batch size', async () => {
    const texts = ['short text', 'a much longer text with many more words than the first one has in it', 'mid sized text here']
    const [alone] = await model.doEmbed(['short text'], { kind: 'document' })
    const batched = await model.doEmbed(texts, { kind: 'document' })
    const small = await TransformersEmbeddingModel.load({ model: dir, offline: true, batchSize: 2 })
    const inTwos = await small.doEmbed(texts, { kind: 'document' })
    await small.dispose()
    alone!.forEach((v, i) => expect(batched[0]![i]).toBeCloseTo(v, 5))
    batched.forEach((vector, j) => vector.forEach((v, i) => expect(inTwos[j]![i]).toBeCloseTo(v, 5)))
  })

  it('truncates inputs longer than the model allows', async () => {
    const long = Array.from({ length: 1500 }, (_, i) => `word${i}`).join(' ')
    expect(model.countTokens(long)).toBeGreaterThan(model.maxInputTokens)
    const [v] = await model.doEmbed([long], { kind: 'document' })
    expect(Math.sqrt(dot(v!, v!))).toBeCloseTo(1, 5)
  })

  it('tracks shared words (bag-of-words weights), so retrieval tests have a right answer', async () => {
    const [query, a, b, c] = await model.doEmbed(
      [
        'battery storage for solar panels',
        'how to size battery storage for home solar panels',
        'the history of medieval castles in france',
        'recipes for a quick weeknight pasta dinner',
      ],
      { kind: 'document' },
    )
    expect(dot(query!, a!)).toBeGreaterThan(dot(query!, b!) + 0.2)
    expect(dot(query!, a!)).toBeGreaterThan(dot(query!, c!) + 0.2)
  })

  it('applies the query instruction to queries only', async () => {
    expect(model.queryInstruction).toBeNull()
    const [q, d] = [...(await model.doEmbed(['solar'], { kind: 'query' })), ...(await model.doEmbed(['solar'], { kind: 'document' }))]
    expect(Array.from(q!)).toEqual(Array.from(d!))

    const instructed = await TransformersEmbeddingModel.load({ model: dir, offline: true, queryInstruction: 'search: ' })
    const [query] = await instructed.doEmbed(['solar'], { kind: 'query' })
    const [doc, prefixed] = await instructed.doEmbed(['solar', 'search: solar'], { kind: 'document' })
    await instructed.dispose()
    expect(Array.from(query!)).toEqual(Array.from(prefixed!))
    expect(Array.from(query!)).not.toEqual(Array.from(doc!))
  })

  it('defaults to the bge instruction for bge models, and null turns it off', async () => {
    const bgeDir = join(root, 'my-bge-small')
    await cp(dir, bgeDir, { recursive: true })
    const bge = await TransformersEmbeddingModel.load({ model: bgeDir, offline: true })
    const off = await TransformersEmbeddingModel.load({ model: bgeDir, offline: true, queryInstruction: null })
    expect(bge.queryInstruction).toBe(BGE_QUERY_INSTRUCTION)
    expect(off.queryInstruction).toBeNull()
    await Promise.all([bge.dispose(), off.dispose()])
  })

  it('stops between batches when the signal fires', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(model.doEmbed(['x'], { kind: 'document', signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' })
  })
})

describe('missing models', () => {
  it('throws MODEL_NOT_FOUND naming the folder and the setting to change', async () => {
    const missing = join(root, 'nowhere')
    const error = await TransformersEmbeddingModel.load({ model: missing, offline: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RagtuneError)
    expect(error).toMatchObject({ code: 'MODEL_NOT_FOUND' })
    expect((error as Error).message).toContain(missing)
    expect((error as Error).message).toContain('models.embedder')
  })

  it('throws MODEL_NOT_FOUND offline for a hub id that is not cached', async () => {
    const cacheDir = join(root, 'empty-cache')
    const error = await TransformersEmbeddingModel.load({ model: 'Xenova/bge-small-en-v1.5', offline: true, cacheDir }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'MODEL_NOT_FOUND' })
    expect((error as Error).message).toContain('config.json')
    expect((error as Error).message).toContain('offline')
  })

  it('throws MODEL_NOT_FOUND naming the ONNX file when only the graph is missing', async () => {
    const partial = join(root, 'no-onnx')
    await cp(dir, partial, { recursive: true })
    await rm(join(partial, 'onnx'), { recursive: true })
    const error = await TransformersEmbeddingModel.load({ model: partial, offline: true }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'MODEL_NOT_FOUND' })
    expect((error as Error).message).toContain('onnx/model.onnx')
  })
})
