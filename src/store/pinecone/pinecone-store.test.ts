import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PineconeFake } from '../../../test/hosted/pinecone-fake.js'
import { RagtuneError } from '../../errors.js'
import { retrieve } from '../../retrieve/retrieve.js'
import type { EmbeddingModel } from '../../spec/embedding-model.js'
import type { ChunkRecord, Store } from '../../spec/store.js'
import { PGliteStore } from '../pglite-store.js'
import { describeStoreContract } from '../store.contract.js'
import { documentPrefix, vectorId, withPineconeVectors } from './pinecone-store.js'
import { PineconeVectors, type PineconeVectorsOptions } from './pinecone-vectors.js'

/** Resolves to the error a call must fail with (a success fails the test). */
const unexpected = (): never => {
  throw new Error('expected the call to fail')
}
const asError = (e: unknown): RagtuneError => e as RagtuneError

const KEY = 'pc-test-key'
const fakes: PineconeFake[] = []
afterAll(async () => {
  for (const f of fakes) await f.close()
})

async function startFake(dimension: number, metric: 'cosine' | 'euclidean' = 'cosine'): Promise<PineconeFake> {
  const fake = await PineconeFake.start({ apiKey: KEY, indexName: 'docs-index', dimension, metric })
  fakes.push(fake)
  return fake
}

function connect(fake: PineconeFake, extra: Partial<PineconeVectorsOptions> = {}): Promise<PineconeVectors> {
  return PineconeVectors.connect({ index: 'docs-index', namespace: 'docs', apiKey: KEY, apiKeyEnv: 'PINECONE_API_KEY', controllerHostUrl: fake.url, policy: { baseDelayMs: 1, timeoutMs: 2000 }, ...extra })
}

// The whole Store contract, with dense search answered by the (fake) Pinecone index.
describeStoreContract('PGlite + Pinecone vectors', async () => {
  const fake = await startFake(8)
  return withPineconeVectors({ local: await PGliteStore.open({ lexical: 'tsvector' }), vectors: await connect(fake) })
})

const DIM = 4
const MODEL = 'test/model-4d'
const vec = (...xs: number[]): Float32Array => Float32Array.from({ length: DIM }, (_, i) => xs[i] ?? 0)
const doc = (path: string, n: number, hash = 'h1') => ({ path, contentHash: hash, size: 10, format: 'md', chunkCount: n, indexedAt: '2025-06-01T00:00:00.000Z' })
const chunk = (path: string, id: string, text: string, embedding: Float32Array, ordinal = 0): ChunkRecord => ({ id, documentPath: path, ordinal, text, headingPath: ['H'], tokenCount: 3, embedding })

describe('PineconeStore', () => {
  let fake: PineconeFake
  let store: Store
  let warnings: string[]
  let delays: number[]

  beforeEach(async () => {
    fake = await startFake(DIM)
    warnings = []
    delays = []
    const vectors = await connect(fake, { sleep: async (ms) => void delays.push(ms) })
    store = withPineconeVectors({ local: await PGliteStore.open({ lexical: 'tsvector' }), vectors, onWarning: (m) => warnings.push(m) })
    await store.init({ dimensions: DIM, embeddingModel: MODEL })
  })
  afterEach(async () => {
    await store?.close()
  })

  it('keeps vectors in Pinecone under document-prefixed ids with metadata, never the text; re-indexing and deleting clean up', async () => {
    await store.replaceDocument(doc('a.md', 2), [chunk('a.md', 'a0', 'alpha text', vec(1)), chunk('a.md', 'a1', 'beta text', vec(0, 1), 1)])
    expect(fake.ids('docs')).toEqual([vectorId('a.md', 'a0'), vectorId('a.md', 'a1')].sort())
    const upsert = fake.service.calls('/vectors/upsert')[0]!.json as { vectors: Array<{ metadata: Record<string, string> }>; namespace: string }
    expect(upsert.namespace).toBe('docs')
    expect(upsert.vectors[0]!.metadata).toEqual({ documentPath: 'a.md', chunkId: 'a0', model: MODEL })
    expect(JSON.stringify(upsert)).not.toContain('alpha text')
    expect(vectorId('a.md', 'a0').startsWith(documentPrefix('a.md'))).toBe(true)

    await store.replaceDocument(doc('a.md', 1, 'h2'), [chunk('a.md', 'a2', 'gamma', vec(0, 0, 1))])
    expect(fake.ids('docs')).toEqual([vectorId('a.md', 'a2')])
    await store.deleteDocument('a.md')
    expect(fake.ids('docs')).toEqual([])
    expect(await store.chunkCount()).toBe(0)
  })

  it('searches Pinecone filtered by embedding model and serves only chunks committed locally', async () => {
    await store.replaceDocument(doc('a.md', 1), [chunk('a.md', 'a0', 'alpha', vec(1))])
    // An orphan (a crashed write's vector) and another model's vector in the same namespace.
    fake.namespaces.get('docs')!.set(vectorId('a.md', 'ghost'), { values: [1, 0, 0, 0], metadata: { documentPath: 'a.md', chunkId: 'ghost', model: MODEL } })
    fake.namespaces.get('docs')!.set('other#x', { values: [1, 0, 0, 0], metadata: { documentPath: 'x.md', chunkId: 'x', model: 'other/model' } })
    const hits = await store.searchDense(vec(1), 10)
    expect(hits).toEqual([{ chunkId: 'a0', documentPath: 'a.md', headingPath: ['H'], text: 'alpha', ordinal: 0, score: 1 }])
    const query = fake.service.calls('/query').at(-1)!.json as { filter: unknown; topK: number; includeMetadata: boolean }
    expect(query).toMatchObject({ filter: { model: { $eq: MODEL } }, topK: 10, includeMetadata: true })
  })

  it('fuses Pinecone dense hits with local lexical hits (RRF) in retrieve()', async () => {
    await store.replaceDocument(doc('keys.md', 1), [chunk('keys.md', 'k0', 'rotate the master keys every 90 days', vec(0, 1))])
    await store.replaceDocument(doc('ports.md', 1), [chunk('ports.md', 'p0', 'the heartbeat uses port 7500', vec(1))])
    const embedder = { id: MODEL, dimensions: DIM, doEmbed: async () => [vec(1)], countTokens: () => 1, dispose: async () => {} } as unknown as EmbeddingModel
    const r = await retrieve({ store, embedder }, 'rotate keys', { mode: 'hybrid', denseK: 5, lexicalK: 5, candidates: 5, rrfK: 60, topK: 2, rerank: false })
    const byId = new Map(r.hits.map((h) => [h.chunkId, h.scores]))
    expect(byId.get('p0')?.dense?.rank).toBe(1)
    expect(byId.get('k0')?.lexical?.rank).toBe(1)
  })

  it('an index of another width is refused at init, naming both widths', async () => {
    const wide = await startFake(8)
    const other = withPineconeVectors({ local: await PGliteStore.open({}), vectors: await connect(wide) })
    try {
      const err = await other.init({ dimensions: DIM, embeddingModel: MODEL }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RagtuneError)
      expect((err as RagtuneError).code).toBe('STORE_DIMENSION_MISMATCH')
      expect((err as Error).message).toContain('holds 8-d vectors')
      expect((err as Error).message).toContain('dimension 4')
    } finally {
      await other.close()
    }
  })

  it('a refused key, an unknown index and a euclidean index fail at connect with what to fix', async () => {
    const bad = await connect(fake, { apiKey: 'wrong' }).then(unexpected, asError)
    expect(bad.code).toBe('HOSTED_AUTH')
    expect(bad.message).toContain('refused the API key in PINECONE_API_KEY (HTTP 401)')
    const missing = await connect(fake, { index: 'nope' }).then(unexpected, asError)
    expect(missing.code).toBe('HOSTED_NOT_FOUND')
    expect(missing.message).toContain('create a serverless index named "nope"')
    const euclid = await startFake(DIM, 'euclidean')
    expect((await connect(euclid).then(unexpected, asError)).code).toBe('PINECONE_METRIC')
  })

  it('retries rate limits (Retry-After), 5xx and timeouts through the official client', async () => {
    await store.replaceDocument(doc('a.md', 1), [chunk('a.md', 'a0', 'alpha', vec(1))])
    fake.service.fail('/query', { status: 429, headers: { 'retry-after': '1' }, body: { code: 8, message: 'Request failed. You have reached the max read units per second.', details: [] } })
    fake.service.fail('/vectors/upsert', { status: 503, body: { code: 14, message: 'unavailable', details: [] } }, { reset: true })
    expect((await store.searchDense(vec(1), 3)).map((h) => h.chunkId)).toEqual(['a0'])
    expect(delays[0]).toBe(1000)
    await store.replaceDocument(doc('b.md', 1), [chunk('b.md', 'b0', 'beta', vec(0, 1))])
    expect(fake.ids('docs')).toContain(vectorId('b.md', 'b0'))
    expect(delays).toHaveLength(3)

    const slow = await connect(fake, { host: fake.url, policy: { retries: 1, timeoutMs: 150, baseDelayMs: 1 } })
    fake.service.fail('/query', { hang: true }, { hang: true })
    const err = await slow.query(vec(1), 3, { model: { $eq: MODEL } }).then(unexpected, asError)
    expect(err.code).toBe('HOSTED_TIMEOUT')
  })

  it('a failed upsert leaves the previous version searchable; a failed cleanup is only a warning', async () => {
    await store.replaceDocument(doc('a.md', 1), [chunk('a.md', 'a0', 'old falcon', vec(1))])
    fake.service.fail('/vectors/upsert', { status: 400, body: { code: 3, message: 'Metadata size is 41 KB, which exceeds the limit of 40 KB per vector', details: [] } })
    const err = await store.replaceDocument(doc('a.md', 1, 'h2'), [chunk('a.md', 'a1', 'new', vec(0, 1))]).then(unexpected, asError)
    expect(err.code).toBe('HOSTED_REQUEST_FAILED')
    expect(err.message).toContain('exceeds the limit of 40 KB')
    expect((await store.searchDense(vec(1), 3)).map((h) => h.chunkId)).toEqual(['a0'])
    expect((await store.listDocuments())[0]?.contentHash).toBe('h1')

    fake.service.fail('/vectors/list', ...Array.from({ length: 5 }, () => ({ status: 500 })))
    await store.replaceDocument(doc('a.md', 1, 'h3'), [chunk('a.md', 'a2', 'newest', vec(0, 0, 1))])
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('could not delete old Pinecone vectors of a.md')
    expect((await store.searchDense(vec(1), 3)).map((h) => h.chunkId)).toEqual(['a2'])
  })

  it('lists every page of a large document before deleting it', async () => {
    const many = Array.from({ length: 230 }, (_, i) => chunk('big.md', `c${String(i).padStart(3, '0')}`, `chunk ${i}`, vec(1, i), i))
    await store.replaceDocument(doc('big.md', many.length), many)
    expect(fake.ids('docs')).toHaveLength(230)
    expect(fake.service.calls('/vectors/upsert')).toHaveLength(3)
    await store.deleteDocument('big.md')
    expect(fake.ids('docs')).toEqual([])
    expect(fake.service.calls('/vectors/list').length).toBeGreaterThanOrEqual(3)
  })
})
