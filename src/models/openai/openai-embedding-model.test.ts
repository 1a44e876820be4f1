import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCompatServer, type CompatServer } from '../../../test/helpers/openai-compatible-server.js'
import { RagtuneError } from '../../errors.js'
import { ensureTinyModels } from '../tiny/ensure-tiny-models.js'
import { TransformersEmbeddingModel } from '../transformers/transformers-embedding-model.js'
import { ESTIMATED_CHARS_PER_TOKEN, OpenAIEmbeddingModel, type OpenAIEmbeddingOptions } from './openai-embedding-model.js'

// Against a real HTTP server that embeds with the generated tiny encoder (the same model the local
// provider loads), so remote and local vectors can be compared number for number.
let dir: string
let local: TransformersEmbeddingModel
let server: CompatServer
const KEY = 'sk-test-key'

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ragtune-openai-embed-'))
  local = await TransformersEmbeddingModel.load({ model: (await ensureTinyModels(dir)).embedder, offline: true })
  server = await startCompatServer({ embedder: local, apiKey: KEY })
})
afterAll(async () => {
  await server?.close()
  await local?.dispose()
  await rm(dir, { recursive: true, force: true })
})

const open = (over: Partial<OpenAIEmbeddingOptions> = {}): Promise<OpenAIEmbeddingModel> =>
  OpenAIEmbeddingModel.load({ baseURL: server.baseURL, model: 'tiny-encoder', apiKey: KEY, ...over })

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(RagtuneError)
  return (err as RagtuneError).code
}

describe('OpenAIEmbeddingModel', () => {
  it('learns the width from the server and returns the same vectors as the local model, in input order', async () => {
    const remote = await open({ queryInstruction: 'query: ' })
    expect(remote.dimensions).toBe(local.dimensions)
    const texts = ['The heartbeat uses port 7500.', 'Rotate keys every 90 days.', 'ünïcode ✓ text']
    const got = await remote.doEmbed(texts, { kind: 'document' })
    const want = await local.doEmbed(texts, { kind: 'document' })
    got.forEach((v, i) => v.forEach((x, j) => expect(x).toBeCloseTo(want[i]![j]!, 6)))
    // Queries carry the instruction, documents never do.
    const [q] = await remote.doEmbed(['port'], { kind: 'query' })
    const [expected] = await local.doEmbed(['query: port'], { kind: 'document' })
    q!.forEach((x, j) => expect(x).toBeCloseTo(expected![j]!, 6))
    expect(server.requests.at(-1)!.body).toMatchObject({ model: 'tiny-encoder', input: ['query: port'], encoding_format: 'float' })
    expect(server.requests.at(-1)!.auth).toBe(`Bearer ${KEY}`)
  })

  it('sends batches of batchSize and estimates tokens conservatively without a tokenizer', async () => {
    const remote = await open({ batchSize: 4, maxInputTokens: 100 })
    const before = server.requests.length
    const vectors = await remote.doEmbed(Array.from({ length: 10 }, (_, i) => `text number ${i}`), { kind: 'document' })
    expect(vectors).toHaveLength(10)
    expect(server.requests.slice(before).map((r) => (r.body.input as string[]).length)).toEqual([4, 4, 2])
    expect(remote.maxInputTokens).toBe(100)
    expect(remote.countTokens('x'.repeat(30))).toBe(30 / ESTIMATED_CHARS_PER_TOKEN)
    expect(remote.countTokens('')).toBe(0)
  })

  it('uses a given token counter for chunk sizes', async () => {
    const remote = await open({ tokenCounter: local })
    expect(remote.maxInputTokens).toBe(local.maxInputTokens)
    expect(remote.countTokens('rotate the keys')).toBe(local.countTokens('rotate the keys'))
  })

  it('retries 429 and 5xx answers (honouring Retry-After), then gives up with the status', async () => {
    const remote = await open({ maxRetries: 2 })
    const before = server.requests.length
    server.failNext(2, 503, 0)
    expect(await remote.doEmbed(['retried'], { kind: 'document' })).toHaveLength(1)
    expect(server.requests.length - before).toBe(3)
    server.failNext(1, 429, 0)
    expect(await remote.doEmbed(['rate limited'], { kind: 'document' })).toHaveLength(1)
    server.failNext(3, 500, 0)
    const err = await remote.doEmbed(['broken'], { kind: 'document' }).catch((e: unknown) => e)
    expect((err as RagtuneError).code).toBe('EMBEDDER_FAILED')
    expect((err as Error).message).toMatch(/HTTP 500: .*injected fault/)
  })

  it('does not retry client errors, and names the fix', async () => {
    expect(await codeOf(open({ apiKey: 'wrong' }))).toBe('EMBEDDER_AUTH')
    const remote = await open({ maxRetries: 5 })
    const before = server.requests.length
    server.failNext(1, 413)
    expect(await codeOf(remote.doEmbed(['too long'], { kind: 'document' }))).toBe('EMBEDDER_REJECTED')
    expect(server.requests.length - before).toBe(1)
    server.failNext(1, 404)
    const err = await remote.doEmbed(['x'], { kind: 'document' }).catch((e: unknown) => e)
    expect((err as RagtuneError).code).toBe('EMBEDDER_MODEL_NOT_FOUND')
    expect((err as Error).message).toMatch(/tiny-encoder[\s\S]*fix: check models\.embedder\.model/)
  })

  it('stops on abort, and reports an unreachable server after its retries', async () => {
    const remote = await open()
    const ctrl = new AbortController()
    ctrl.abort(new Error('stop'))
    expect(await codeOf(remote.doEmbed(['a'], { kind: 'document', signal: ctrl.signal }))).toBe('ABORTED')
    const slow = new AbortController()
    server.failNext(1, 503, 30)
    const pending = remote.doEmbed(['waits for Retry-After'], { kind: 'document', signal: slow.signal })
    setTimeout(() => slow.abort(new Error('stop')), 100)
    expect(await codeOf(pending)).toBe('ABORTED')
    const gone = await startCompatServer({})
    await gone.close()
    const err = await OpenAIEmbeddingModel.load({ baseURL: gone.baseURL, model: 'm', maxRetries: 1 }).catch((e: unknown) => e)
    expect((err as RagtuneError).code).toBe('EMBEDDER_UNREACHABLE')
    expect((err as Error).message).toMatch(/after 2 tries/)
  })
})
