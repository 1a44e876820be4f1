import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { RagtuneError } from '../errors.js'
import { hashApiKey, newApiKey, presentedKey } from './auth.js'
import { HttpError, invalidBody, toHttpError } from './http-error.js'
import { ConcurrencyLimiter } from './limiter.js'
import { ServerMetrics } from './metrics.js'
import { isLoopbackHost } from './serve.js'

describe('ConcurrencyLimiter', () => {
  it('runs maxConcurrent, queues maxQueue in order, refuses the rest with 503 + Retry-After', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrent: 1, maxQueue: 2 })
    const first = await limiter.acquire()
    const order: number[] = []
    const second = limiter.acquire().then((release) => (order.push(2), release))
    const third = limiter.acquire().then((release) => (order.push(3), release))
    expect([limiter.active, limiter.queued]).toEqual([1, 2])
    const refused = await limiter.acquire().catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(HttpError)
    expect((refused as HttpError).status).toBe(503)
    expect(Number((refused as HttpError).headers['retry-after'])).toBeGreaterThanOrEqual(1)
    first()
    first() // a second release is a no-op
    ;(await second)()
    ;(await third)()
    expect(order).toEqual([2, 3])
    expect([limiter.active, limiter.queued]).toEqual([0, 0])
  })

  it('drops a waiting request whose signal fires', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrent: 1, maxQueue: 1 })
    const release = await limiter.acquire()
    const ctrl = new AbortController()
    const waiting = limiter.acquire(ctrl.signal)
    ctrl.abort(new Error('client gone'))
    await expect(waiting).rejects.toThrow('client gone')
    expect(limiter.queued).toBe(0)
    release()
    expect(limiter.active).toBe(0)
  })
})

describe('ServerMetrics', () => {
  it('renders counters, cumulative histogram buckets and gauges in the exposition format', () => {
    const m = new ServerMetrics()
    m.observeRequest('POST', '/v1/answer', 200, 0.3)
    m.observeRequest('POST', '/v1/answer', 200, 2)
    m.observeRequest('GET', 'unmatched', 404, 0.001)
    m.addUsage({ promptTokens: 100, completionTokens: 7 })
    const text = m.render({ queueDepth: 3, inFlight: 1 })
    expect(text).toContain('ragtune_http_requests_total{method="POST",route="/v1/answer",status="200"} 2\n')
    expect(text).toContain('ragtune_http_request_duration_seconds_bucket{route="/v1/answer",le="0.25"} 0\n')
    expect(text).toContain('ragtune_http_request_duration_seconds_bucket{route="/v1/answer",le="0.5"} 1\n')
    expect(text).toContain('ragtune_http_request_duration_seconds_bucket{route="/v1/answer",le="+Inf"} 2\n')
    expect(text).toContain('ragtune_http_request_duration_seconds_count{route="/v1/answer"} 2\n')
    expect(text).toContain('ragtune_queue_depth 3\n')
    expect(text).toContain('ragtune_generated_tokens_total 7\n')
    expect(text).toMatch(/# TYPE ragtune_http_request_duration_seconds histogram\n/)
  })
})

describe('server helpers', () => {
  it('allows --no-auth only on loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h), h).toBe(true)
    for (const h of ['0.0.0.0', '::', '192.168.1.4', 'example.com', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false)
  })

  it('makes rt_ keys of 32 random bytes and stores only their sha256', () => {
    const { key, record } = newApiKey('ci', 'admin')
    expect(key).toMatch(/^rt_[A-Za-z0-9_-]{43}$/)
    expect(record).toMatchObject({ name: 'ci', scope: 'admin', keyHash: hashApiKey(key), revokedAt: null })
    expect(JSON.stringify(record)).not.toContain(key.slice(3))
    expect(presentedKey({ authorization: `Bearer ${key}` })).toBe(key)
    expect(presentedKey({ 'x-api-key': key })).toBe(key)
    expect(presentedKey({ authorization: 'Basic abc' })).toBeNull()
  })

  it('names the bad field of a body and maps library errors to statuses', () => {
    const schema = z.strictObject({ a: z.object({ b: z.number() }) })
    expect(invalidBody(schema.safeParse({ a: { b: 'x' } }).error!)).toMatchObject({ status: 400, param: 'a.b', code: 'invalid_type' })
    expect(invalidBody(schema.safeParse({ a: { b: 1 }, c: 1 }).error!)).toMatchObject({ param: 'c', code: 'unknown_parameter' })
    const notFound = toHttpError(new RagtuneError('QUERY_NOT_FOUND', 'no query', { hint: 'list them' }), { QUERY_NOT_FOUND: 'queryId' })
    expect(notFound.body()).toEqual({ error: { type: 'invalid_request_error', code: 'query_not_found', message: 'no query', param: 'queryId' } })
    expect(toHttpError(new RagtuneError('GENERATOR_FAILED', 'boom')).status).toBe(500)
    expect(toHttpError(new Error('x')).body().error.type).toBe('server_error')
  })
})

describe('loopback Host header check (no-auth mode)', () => {
  it('accepts loopback names with or without a port and nothing else', async () => {
    const { isLoopbackHostHeader } = await import('./server.js')
    for (const ok of ['localhost', 'localhost:8787', '127.0.0.1:9', '127.1.2.3', '[::1]:8787', '[::1]']) expect(isLoopbackHostHeader(ok), ok).toBe(true)
    for (const bad of [undefined, '', 'evil.example:8787', '127.0.0.1.evil.com', '10.0.0.1', 'localhost.evil.com']) expect(isLoopbackHostHeader(bad), String(bad)).toBe(false)
  })
})
