import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateTinyModel } from '../tiny/tiny-model.js'
import { TransformersReranker } from './transformers-reranker.js'

let root: string
let dir: string
let reranker: TransformersReranker

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ragtune-rerank-'))
  dir = (await generateTinyModel(join(root, 'tiny-reranker'), { kind: 'cross-encoder' })).dir
  reranker = await TransformersReranker.load({ model: dir, offline: true })
})
afterAll(async () => {
  await reranker?.dispose()
  await rm(root, { recursive: true, force: true })
})

const passages = [
  'Battery storage lets a home keep solar energy for the evening.',
  'Medieval castles were built on hills for defence.',
  'A quick pasta dinner takes twenty minutes.',
  'Solar panels convert sunlight into electricity.',
  'x',
]

describe('TransformersReranker on the tiny cross-encoder', () => {
  it('returns one finite score per passage, in order', async () => {
    const scores = await reranker.doRerank('how do solar batteries work?', passages)
    expect(scores).toHaveLength(passages.length)
    expect(scores.every(Number.isFinite)).toBe(true)
    expect(new Set(scores).size).toBeGreaterThan(1)
    expect(await reranker.doRerank('anything', [])).toEqual([])
  })

  it('is deterministic and independent of batching', async () => {
    const a = await reranker.doRerank('how do solar batteries work?', passages)
    const b = await reranker.doRerank('how do solar batteries work?', passages)
    const small = await TransformersReranker.load({ model: dir, offline: true, batchSize: 2 })
    const c = await small.doRerank('how do solar batteries work?', passages)
    await small.dispose()
    expect(b).toEqual(a)
    c.forEach((score, i) => expect(score).toBeCloseTo(a[i]!, 5))
    const [alone] = await reranker.doRerank('how do solar batteries work?', [passages[1]!])
    expect(alone).toBeCloseTo(a[1]!, 5)
  })

  it('scores passages longer than the model allows', async () => {
    const long = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' ')
    const [score] = await reranker.doRerank('query', [long])
    expect(Number.isFinite(score)).toBe(true)
  })

  it('stops when the signal has fired', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(reranker.doRerank('q', ['p'], { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('refuses an embedding model (no logits output) with UNSUPPORTED_MODEL', async () => {
    const encoderDir = (await generateTinyModel(join(root, 'tiny-encoder'), { kind: 'encoder' })).dir
    const wrong = await TransformersReranker.load({ model: encoderDir, offline: true })
    await expect(wrong.doRerank('q', ['p'])).rejects.toMatchObject({ code: 'UNSUPPORTED_MODEL' })
    await wrong.dispose()
  })

  it('throws MODEL_NOT_FOUND naming models.reranker when the folder is missing', async () => {
    const error = await TransformersReranker.load({ model: join(root, 'missing-reranker'), offline: true }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'MODEL_NOT_FOUND' })
    expect((error as Error).message).toContain('models.reranker')
  })
})
