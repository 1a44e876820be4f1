import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load-config.js'
import type { EvalExampleResult, EvalRunRecord } from '../spec/eval-run.js'
import type { Generator } from '../spec/generator.js'
import { PGliteStore } from '../store/pglite-store.js'
import { sampleEntry } from '../store/query-log.contract.js'
import { newApiKey } from './auth.js'
import { createServer } from './server.js'

// The dashboard's static files and read-only JSON routes on a real in-memory store, through
// fastify's inject: no models, no listening socket.
let tmp: string
let store: PGliteStore
let app: FastifyInstance
let key: string
const SECRET = 'outside-the-web-root'
const SET = 'a'.repeat(64)

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}`, ...headers } })
const html = { accept: 'text/html,application/xhtml+xml' }

function run(id: string, adapter: string, minute: number): EvalRunRecord {
  return {
    id, time: new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString(), setName: 'heldout', setSha256: SET, adapter, adapterId: adapter === 'base' ? null : `${adapter}@abc`,
    model: 'tiny', settings: {}, summary: {}, examples: 4, warnings: [],
  }
}
function results(runId: string, good: number[]): EvalExampleResult[] {
  return [0, 1, 2, 3].map((i) => ({
    runId, exampleId: `e${i}`, category: i < 2 ? 'facts' : 'format', question: `q${i}`, answer: 'a', metrics: { label_accuracy: good.includes(i) ? 1 : 0 }, detail: {},
  }))
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ragtune-web-'))
  const root = path.join(tmp, 'web')
  await mkdir(path.join(root, 'assets'), { recursive: true })
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>ragtune</title>')
  await writeFile(path.join(root, 'assets', 'index-Ab12Cd.js'), 'console.log(1)')
  await writeFile(path.join(root, 'assets', 'index-Ab12Cd.css'), 'body{}')
  await writeFile(path.join(tmp, 'secret.txt'), SECRET)

  store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
  const created = newApiKey('reader', 'query')
  key = created.key
  await store.addApiKey(created.record)
  await store.appendQueryLog(sampleEntry('q1', 1, { question: 'How do I rotate keys?' }))
  await store.appendQueryLog(sampleEntry('q2', 2, { question: 'Which port?', adapter: null }))
  await store.appendQueryLog(sampleEntry('q3', 3, { question: 'Broken one', answer: null, error: { code: 'TIMEOUT', message: 'too slow' } }))
  await store.addLabel({ id: 'l1', queryId: 'q1', time: new Date(Date.now()).toISOString(), rating: 'good', correction: null, category: null, source: 'http' })
  await store.addEvalRun(run('r-base', 'base', 1), results('r-base', [0]))
  await store.addEvalRun(run('r-a1', 'a1', 2), results('r-a1', [0, 1, 2, 3]))

  const config = parseConfig({})
  const generator = { id: 'stub-model', adapter: null } as unknown as Generator
  ;({ app } = createServer({ config, store, embedder: undefined, reranker: undefined, generator }, { auth: true, log: () => {}, webRoot: root }))
  await app.ready()
})

afterAll(async () => {
  await app?.close()
  await store?.close()
  if (tmp) await rm(tmp, { recursive: true, force: true })
})

describe('dashboard static files', () => {
  it('serves index.html at / and for page navigations, assets with long caching and their types', async () => {
    const index = await app.inject({ method: 'GET', url: '/' })
    expect(index.statusCode).toBe(200)
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(index.headers['cache-control']).toBe('no-cache')
    expect(index.headers['content-security-policy']).toContain("default-src 'self'")
    const page = await app.inject({ method: 'GET', url: '/adapters/v2?x=1', headers: html })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('<title>ragtune</title>')
    const js = await app.inject({ method: 'GET', url: '/assets/index-Ab12Cd.js' })
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect((await app.inject({ method: 'GET', url: '/assets/index-Ab12Cd.css' })).headers['content-type']).toBe('text/css; charset=utf-8')
    expect((await app.inject({ method: 'HEAD', url: '/assets/index-Ab12Cd.js' })).statusCode).toBe(200)
  })

  it('keeps JSON 404/405 for API paths, missing files and requests that are not navigations', async () => {
    for (const [url, headers] of [['/v1/nothing', html], ['/missing.js', html], ['/logs', { accept: '*/*' }], ['/health/x', {}]] as const) {
      const res = await app.inject({ method: 'GET', url, headers })
      expect(res.statusCode, url).toBe(404)
      expect(res.json(), url).toMatchObject({ error: { code: 'not_found' } })
    }
    const wrong = await get('/v1/answer', html)
    expect(wrong.statusCode).toBe(405)
    expect(wrong.headers.allow).toBe('POST')
  })

  it('never serves a file outside the web root', async () => {
    const attempts = ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/%00index.html', '/%E0%A4%A']
    for (const url of attempts) {
      const res = await app.inject({ method: 'GET', url, headers: html })
      expect([400, 404], url).toContain(res.statusCode)
      expect(res.body, url).not.toContain(SECRET)
      expect(res.headers['content-type'], url).toMatch(/application\/json/)
    }
  })

  it('says how to build the dashboard when it was not built', async () => {
    const config = parseConfig({})
    const bare = createServer({ config, store, embedder: undefined, reranker: undefined, generator: { id: 'x', adapter: null } as unknown as Generator }, { auth: true, log: () => {}, webRoot: null }).app
    const res = await bare.inject({ method: 'GET', url: '/' })
    expect(res.statusCode).toBe(404)
    expect(res.json().error).toMatchObject({ code: 'dashboard_not_built', message: expect.stringContaining('npm run build') })
    await bare.close()
  })
})

describe('read-only routes', () => {
  it('lists the log newest first with labels, filters and a next cursor; needs a key', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/logs' })).statusCode).toBe(401)
    const all = (await get('/v1/logs')).json()
    expect(all.data.map((e: { id: string }) => e.id)).toEqual(['q3', 'q2', 'q1'])
    expect(all.data[0]).not.toHaveProperty('prompt')
    expect(all.data[2].labels).toMatchObject([{ rating: 'good' }])
    expect((await get('/v1/logs?rating=good')).json().data.map((e: { id: string }) => e.id)).toEqual(['q1'])
    expect((await get('/v1/logs?rating=unlabeled&status=ok')).json().data.map((e: { id: string }) => e.id)).toEqual(['q2'])
    expect((await get('/v1/logs?status=error')).json().data.map((e: { id: string }) => e.id)).toEqual(['q3'])
    expect((await get('/v1/logs?adapter=base')).json().data.map((e: { id: string }) => e.id)).toEqual(['q2'])
    expect((await get('/v1/logs?q=ROTATE')).json().data.map((e: { id: string }) => e.id)).toEqual(['q1'])
    const first = (await get('/v1/logs?limit=2')).json()
    expect(first.next).toBe('q2')
    const rest = (await get(`/v1/logs?limit=2&after=${first.next}`)).json()
    expect([rest.data.map((e: { id: string }) => e.id), rest.next]).toEqual([['q1'], null])
    const bad = await get('/v1/logs?since=yesterday')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error).toMatchObject({ param: 'since', message: expect.stringContaining('14d') })
    expect((await get('/v1/logs?limit=0')).json().error.param).toBe('limit')
    expect((await get('/v1/logs?colour=red')).json().error.code).toBe('unknown_parameter')
  })

  it('shows one entry in full, 404 for an unknown id', async () => {
    const one = (await get('/v1/logs/q1')).json()
    expect(one).toMatchObject({ id: 'q1', prompt: { template: 'grounded-v1' }, labels: [{ rating: 'good' }] })
    const missing = await get('/v1/logs/nope')
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error.code).toBe('query_not_found')
  })

  it('compares stored eval runs per category with the gate verdict', async () => {
    const res = await get('/v1/eval/compare?a=base&b=a1')
    expect(res.statusCode).toBe(200)
    const { comparison, decision } = res.json()
    expect(comparison).toMatchObject({ a: { adapter: 'base' }, b: { adapter: 'a1' }, pairs: 4 })
    expect(comparison.categories.map((c: { category: string }) => c.category)).toEqual(['facts', 'format'])
    expect(decision.primary.metric).toBe('label_accuracy')
    expect((await get('/v1/eval/compare?a=base&b=nope')).statusCode).toBe(404)
    expect((await get('/v1/eval/compare?a=base')).json().error.param).toBe('b')
    expect((await get('/v1/eval/runs?adapter=a1')).json().data.map((r: { id: string }) => r.id)).toEqual(['r-a1'])
  })

  it('serves the failure report, datasets and scheduler runs', async () => {
    const report = (await get('/v1/analyze')).json()
    expect(report).toMatchObject({ queries: 3, failedRequests: 1 })
    expect(report.categories.map((c: { category: string }) => c.category)).toContain('request-error')
    expect((await get('/v1/analyze?bucket=month')).statusCode).toBe(400)
    expect((await get('/v1/datasets')).json()).toEqual({ object: 'list', data: [] })
    expect((await get('/v1/jobs')).json()).toEqual({ object: 'list', data: [] })
  })
})
