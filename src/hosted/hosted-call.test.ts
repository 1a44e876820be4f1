import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeService } from '../../test/hosted/fake-service.js'
import { RagtuneError } from '../errors.js'
import { callHosted, type HostedCallOptions } from './hosted-call.js'
import { retryAfterMs, serviceMessage } from './hosted-errors.js'
import { hostedFetch } from './hosted-fetch.js'

let fake: FakeService
beforeAll(async () => {
  fake = await FakeService.start(() => ({ body: { ok: true } }))
})
afterAll(async () => fake?.close())

/** A call through hostedFetch that throws on a non-2xx answer, like the official clients do. */
function getJson(path: string, opts: Partial<HostedCallOptions> = {}) {
  const delays: number[] = []
  const run = callHosted(
    { service: { service: 'Example', keyEnv: 'EXAMPLE_KEY', endpoint: fake.url }, operation: 'get', policy: { baseDelayMs: 100, timeoutMs: 300 }, random: () => 0, sleep: async (ms) => void delays.push(ms), ...opts },
    async () => {
      const res = await hostedFetch(`${opts.service?.endpoint ?? fake.url}${path}`)
      if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status })
      return res.json() as Promise<unknown>
    },
  )
  return { run, delays }
}

async function failure(p: Promise<unknown>): Promise<RagtuneError> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(RagtuneError)
  return err as RagtuneError
}

describe('callHosted', () => {
  it('waits as long as a 429 Retry-After asks, then succeeds', async () => {
    fake.fail('/rate', { status: 429, headers: { 'retry-after': '2' }, body: { message: 'slow down' } })
    const { run, delays } = getJson('/rate')
    expect(await run).toEqual({ ok: true })
    expect(delays).toEqual([2000])
  })

  it('backs off exponentially on 5xx and gives up with HOSTED_UNAVAILABLE naming the attempts', async () => {
    fake.fail('/down', ...Array.from({ length: 3 }, () => ({ status: 503, body: { message: 'overloaded' } })))
    const { run, delays } = getJson('/down', { policy: { retries: 2, baseDelayMs: 100, timeoutMs: 300 } })
    const err = await failure(run)
    expect(err.code).toBe('HOSTED_UNAVAILABLE')
    expect(err.message).toContain('after 3 attempts (HTTP 503): overloaded')
    expect(delays).toEqual([50, 100])
    expect(fake.calls('/down')).toHaveLength(3)
  })

  it('retries a hung request after its deadline and reports HOSTED_TIMEOUT when it keeps hanging', async () => {
    fake.fail('/hang', { hang: true })
    const ok = getJson('/hang')
    expect(await ok.run).toEqual({ ok: true })
    fake.fail('/hang2', { hang: true }, { hang: true })
    const err = await failure(getJson('/hang2', { policy: { retries: 1, timeoutMs: 200 } }).run)
    expect(err.code).toBe('HOSTED_TIMEOUT')
  })

  it('retries reset connections; an unreachable host is HOSTED_UNREACHABLE with the cause', async () => {
    fake.fail('/reset', { reset: true })
    expect(await getJson('/reset').run).toEqual({ ok: true })
    const closed = await FakeService.start(() => ({}))
    const endpoint = closed.url
    await closed.close()
    const { run, delays } = getJson('/x', { service: { service: 'Example', endpoint }, policy: { retries: 1 } })
    const err = await failure(run)
    expect(err.code).toBe('HOSTED_UNREACHABLE')
    expect(err.message).toMatch(/ECONNREFUSED/)
    expect(delays).toHaveLength(1)
  })

  it('a refused key fails at once with the variable to fix; other 4xx are not retried either', async () => {
    fake.fail('/auth', { status: 401, body: { error: { message: 'Incorrect API key provided' } } })
    const err = await failure(getJson('/auth').run)
    expect(err.code).toBe('HOSTED_AUTH')
    expect(err.message).toContain('refused the API key in EXAMPLE_KEY (HTTP 401): Incorrect API key provided')
    expect(err.message).toContain('fix: set EXAMPLE_KEY')
    expect(fake.calls('/auth')).toHaveLength(1)
    fake.fail('/bad', { status: 400, body: { message: 'bad field' } })
    expect((await failure(getJson('/bad').run)).code).toBe('HOSTED_REQUEST_FAILED')
    expect(fake.calls('/bad')).toHaveLength(1)
  })

  it('a Retry-After beyond the policy ends the call instead of blocking', async () => {
    fake.fail('/long', { status: 429, headers: { 'retry-after': '3600' } })
    const { run, delays } = getJson('/long')
    const err = await failure(run)
    expect(err.code).toBe('HOSTED_RATE_LIMITED')
    expect(err.message).toContain('asked to wait 3600 s')
    expect(delays).toEqual([])
  })

  it('the caller\'s signal stops the call while it waits', async () => {
    fake.fail('/abort', { status: 503 })
    const ctrl = new AbortController()
    const run = callHosted(
      { service: { service: 'Example' }, operation: 'get', signal: ctrl.signal, policy: { baseDelayMs: 10_000 } },
      async () => {
        const res = await hostedFetch(`${fake.url}/abort`)
        if (!res.ok) throw new Error(`HTTP ${res.status}`)
      },
    )
    setTimeout(() => ctrl.abort(), 50)
    expect((await failure(run)).code).toBe('ABORTED')
  })
})

describe('retry hints and messages', () => {
  it('reads Retry-After in ms, seconds and as a date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250' }))).toBe(250)
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }))).toBe(3000)
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 4000)).toBe(6000)
    expect(retryAfterMs(new Headers({}))).toBeNull()
  })

  it('picks the service\'s message out of its error body', () => {
    expect(serviceMessage('{"error":{"message":"Incorrect API key","type":"invalid_request_error"}}')).toBe('Incorrect API key')
    expect(serviceMessage('{"code":8,"message":"Request failed","details":[]}')).toBe('Request failed')
    expect(serviceMessage('Unauthorized')).toBe('Unauthorized')
  })
})
