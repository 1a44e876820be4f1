import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCohereFake } from '../../../test/hosted/cohere-fake.js'
import { recorded, type FakeService } from '../../../test/hosted/fake-service.js'
import { RagtuneError } from '../../errors.js'
import { CohereReranker, NOT_RANKED, type CohereRerankerOptions } from './cohere-reranker.js'

/** Resolves to the error a call must fail with (a success fails the test). */
const unexpected = (): never => {
  throw new Error('expected the call to fail')
}
const asError = (e: unknown): RagtuneError => e as RagtuneError

const KEY = 'co-test-key'
let fake: FakeService

beforeAll(async () => {
  fake = await startCohereFake(KEY)
})
afterAll(async () => fake?.close())

function reranker(extra: Partial<CohereRerankerOptions> = {}, delays: number[] = []): CohereReranker {
  return new CohereReranker({ apiKey: KEY, apiKeyEnv: 'CO_API_KEY', baseURL: fake.url, policy: { baseDelayMs: 1, timeoutMs: 1000 }, sleep: async (ms) => void delays.push(ms), ...extra })
}

const passages = ['ports and sockets', 'rotate the master keys', 'keys are rotated by skyctl keys rotate', 'unrelated text', 'master plan', 'nothing']

describe('CohereReranker', () => {
  it('sends the v2 rerank request and aligns the top_n scores with the passages', async () => {
    const r = reranker()
    expect(r.id).toBe('cohere:rerank-english-v3.0')
    const scores = await r.doRerank('rotate master keys', passages)
    const sent = fake.calls('/v2/rerank').at(-1)!.json
    expect(sent).toEqual({ model: 'rerank-english-v3.0', query: 'rotate master keys', documents: passages, top_n: 4 })
    expect(scores).toHaveLength(passages.length)
    expect(scores[1]).toBe(1)
    expect(scores[2]).toBeCloseTo(2 / 3)
    expect(scores.filter((s) => s === NOT_RANKED)).toHaveLength(2)
    expect(await r.doRerank('anything', [])).toEqual([])
  })

  it('asks for no more results than passages', async () => {
    await reranker({ topN: 10 }).doRerank('keys', passages.slice(0, 2))
    expect((fake.calls('/v2/rerank').at(-1)!.json as { top_n: number }).top_n).toBe(2)
  })

  it('a bad key is HOSTED_AUTH naming CO_API_KEY, after one request', async () => {
    const before = fake.calls('/v2/rerank').length
    const err = await reranker({ apiKey: 'wrong' }).doRerank('q', passages).then(unexpected, asError)
    expect(err).toBeInstanceOf(RagtuneError)
    expect(err.code).toBe('HOSTED_AUTH')
    expect(err.message).toContain('Cohere refused the API key in CO_API_KEY (HTTP 401): invalid api token')
    expect(fake.calls('/v2/rerank').length - before).toBe(1)
  })

  it('an unknown model is HOSTED_NOT_FOUND with the config key to fix', async () => {
    const err = await reranker({ model: 'rerank-nope' }).doRerank('q', passages).then(unexpected, asError)
    expect(err.code).toBe('HOSTED_NOT_FOUND')
    expect(err.message).toContain('check models.reranker.model')
  })

  it('waits out a trial-key 429 (Retry-After) and retries 5xx and hung requests', async () => {
    const delays: number[] = []
    fake.fail('/v2/rerank', { status: 429, headers: { 'retry-after': '2' }, body: await recorded('cohere', 'error-429') }, { status: 500, body: { message: 'internal server error' } }, { hang: true })
    const scores = await reranker({ policy: { baseDelayMs: 1, timeoutMs: 300 } }, delays).doRerank('rotate keys', passages)
    expect(scores[1]).toBe(1)
    expect(delays[0]).toBe(2000)
    expect(delays).toHaveLength(3)
  })

  it('gives up on a persistent rate limit with the service\'s own words', async () => {
    const limited = { status: 429, body: await recorded('cohere', 'error-429') }
    fake.fail('/v2/rerank', limited, limited, limited)
    const err = await reranker({ policy: { retries: 2, baseDelayMs: 1 } }).doRerank('q', passages).then(unexpected, asError)
    expect(err.code).toBe('HOSTED_RATE_LIMITED')
    expect(err.message).toContain('after 3 attempts (HTTP 429): You are using a Trial key')
  })

  it('stops when the caller aborts', async () => {
    fake.fail('/v2/rerank', { hang: true })
    const ctrl = new AbortController()
    setTimeout(() => ctrl.abort(), 50)
    const err = await reranker({ policy: { timeoutMs: 10_000 } }).doRerank('q', passages, { signal: ctrl.signal }).then(unexpected, asError)
    expect(err.code).toBe('ABORTED')
  })
})
