import { rm } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TINY_LLAMA_BASE_OPTIONS } from '../src/models/tiny-llama/ensure-tiny-llama.js'
import { writeTinyLora } from '../src/models/tiny-llama/tiny-lora.js'
import { PGliteStore } from '../src/store/pglite-store.js'
import { ragtune } from './helpers/cli.js'
import { createKey, indexedWorkspace, post, ragtuneOk, startServe, tinyConfig, type ServeProcess } from './helpers/serve.js'

// A real `ragtune serve` with the tiny Llama and two tiny LoRA adapters; clients keep asking while an
// admin promotes the second adapter and then rolls back through the CLI. Every response names the
// adapter that answered; answers are deterministic per adapter, so a response whose text does not
// match its adapter's would show a request that mixed two adapters.
const QUESTION = 'Which port does the heartbeat use?'
let cwd: string
let server: ServeProcess
let reader: string
let admin: string
let ids: { a1: string; a2: string }

interface Reply { start: number; end: number; status: number; adapter: string | null; answer: string; queryId: string }
const replies: Reply[] = []

const api = (p: string): string => `${server.url}${p}`
const get = (p: string, key: string): Promise<Response> => fetch(api(p), { headers: { authorization: `Bearer ${key}` } })

async function until(what: string, ok: () => boolean, timeoutMs = 90_000): Promise<void> {
  const t0 = performance.now()
  while (!ok()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

beforeAll(async () => {
  cwd = await indexedWorkspace(
    {
      'ports.md': '# Ports\n\nThe heartbeat uses port 7500 over UDP on the back-end network.',
      'keys.md': '# Keys\n\nRotate the master keys every 90 days with skyctl keys rotate.',
    },
    tinyConfig({ server: { maxConcurrent: 2, maxQueue: 64, requestTimeoutMs: 60_000 }, generator: { maxTokens: 12 } }),
  )
  await writeTinyLora(path.join(cwd, 'a1.gguf'), TINY_LLAMA_BASE_OPTIONS, { seed: 7 })
  await writeTinyLora(path.join(cwd, 'a2.gguf'), TINY_LLAMA_BASE_OPTIONS, { seed: 8 })
  reader = await createKey(cwd, 'reader', 'query')
  admin = await createKey(cwd, 'ops', 'admin')
  ids = {
    a1: (JSON.parse(await ragtuneOk(cwd, 'adapter', 'add', 'a1', 'a1.gguf', '--json')) as { id: string }).id,
    a2: (JSON.parse(await ragtuneOk(cwd, 'adapter', 'add', 'a2', 'a2.gguf', '--json')) as { id: string }).id,
  }
  await ragtuneOk(cwd, 'adapter', 'promote', 'a1', '--force', '--reason', 'first adapter')
  server = await startServe(cwd)
})

afterAll(async () => {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL')
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

describe('registry routes and hot swap on a running server', () => {
  it('serves the active adapter and shows the registry to API keys, promotion to admins only', async () => {
    const list = await get('/v1/adapters', reader)
    expect(list.status).toBe(200)
    const body = (await list.json()) as { active: string; serving: { adapter: string }; data: Array<Record<string, unknown>> }
    expect(body).toMatchObject({ active: 'a1', serving: { adapter: ids.a1 } })
    expect(body.data.map((a) => a.name)).toEqual(['base', 'a1', 'a2'])
    expect(body.data[1]).not.toHaveProperty('filePath')
    const shown = (await (await get('/v1/adapters/a1', reader)).json()) as { history: Array<{ action: string }> }
    expect(shown.history.map((e) => e.action)).toEqual(['add', 'promote'])
    expect((await get('/v1/adapters/nope', reader)).status).toBe(404)
    expect((await post(api('/v1/adapters/a2/promote'), { force: true, reason: 'x' }, reader)).status).toBe(403)
    const gated = await post(api('/v1/adapters/a2/promote'), {}, admin)
    expect(gated.status).toBe(409)
    expect(((await gated.json()) as { error: { code: string } }).error.code).toBe('eval_missing')
    expect((await post(api('/v1/adapters/a2/promote'), { force: 'yes' }, admin)).status).toBe(400)
    // The CLI cannot open the store the server holds, and says how to go through the server.
    const locked = await ragtune(cwd, 'adapter', 'rollback')
    expect(locked.stderr).toMatch(/\[STORE_LOCKED\][\s\S]*--server <url>/)
  })

  it('swaps adapters under load without failing or mixing a request, then rolls back through the CLI', async () => {
    let stop = false
    const client = async (): Promise<void> => {
      while (!stop) {
        const start = performance.now()
        const res = await post(api('/v1/answer'), { question: QUESTION, rerank: false }, reader)
        const body = (await res.json()) as { adapter: string | null; answer: string; queryId: string }
        replies.push({ start, end: performance.now(), status: res.status, adapter: body.adapter, answer: body.answer, queryId: body.queryId })
      }
    }
    const clients = [client(), client(), client()]
    await until('answers before the promotion', () => replies.length >= 4)

    const p0 = performance.now()
    const promoted = await post(api('/v1/adapters/a2/promote'), { force: true, reason: 'hot swap test' }, admin)
    const p1 = performance.now()
    expect(promoted.status).toBe(200)
    expect(await promoted.json()).toMatchObject({ active: { name: 'a2', status: 'active' }, previous: 'a1', forced: true, serving: { adapter: ids.a2 } })
    await until('answers after the promotion', () => replies.filter((r) => r.start > p1).length >= 4)

    process.env.RAGTUNE_API_KEY = admin
    const r0 = performance.now()
    const rolled = JSON.parse(await ragtuneOk(cwd, 'adapter', 'rollback', '--server', server.url, '--reason', 'back', '--json')) as { active: { name: string }; previous: string }
    const r1 = performance.now()
    delete process.env.RAGTUNE_API_KEY
    expect(rolled).toMatchObject({ active: { name: 'a1' }, previous: 'a2' })
    await until('answers after the rollback', () => replies.filter((r) => r.start > r1).length >= 4)
    stop = true
    await Promise.all(clients)

    expect(replies.filter((r) => r.status !== 200)).toEqual([])
    // The swaps happened under load: some requests were running while the promotion ran.
    expect(replies.some((r) => r.start < p0 && r.end > p1)).toBe(true)
    expect(new Set(replies.map((r) => r.adapter))).toEqual(new Set([ids.a1, ids.a2]))
    // One text per adapter: every answer is exactly what its recorded adapter generates.
    const texts = new Map<string, Set<string>>()
    for (const r of replies) texts.set(r.adapter!, (texts.get(r.adapter!) ?? new Set()).add(r.answer))
    expect(texts.get(ids.a1)!.size).toBe(1)
    expect(texts.get(ids.a2)!.size).toBe(1)
    expect([...texts.get(ids.a1)!][0]).not.toBe([...texts.get(ids.a2)!][0])
    // Requests answered before the promotion was sent ran on a1; those sent after it returned ran on
    // a2 until the rollback was sent, and on a1 after the rollback returned.
    expect(replies.filter((r) => r.end < p0).every((r) => r.adapter === ids.a1)).toBe(true)
    expect(replies.filter((r) => r.start > p1 && r.end < r0).every((r) => r.adapter === ids.a2)).toBe(true)
    expect(replies.filter((r) => r.start > p1 && r.end < r0).length).toBeGreaterThan(0)
    expect(replies.filter((r) => r.start > r1).every((r) => r.adapter === ids.a1)).toBe(true)
  })

  it('logged every answer with the adapter it returned, and left exactly one active adapter', async () => {
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    const store = await PGliteStore.open({ dataDir: path.join(cwd, '.ragtune', 'db') })
    try {
      for (const r of replies) expect((await store.getQueryLog(r.queryId))?.adapter).toBe(r.adapter)
      const adapters = await store.listAdapters()
      expect(adapters.filter((a) => a.status === 'active').map((a) => a.name)).toEqual(['a1'])
      const events = await store.listAdapterEvents()
      expect(events.slice(-2).map((e) => [e.action, e.adapter, e.previous, e.reason])).toEqual([['promote', 'a2', 'a1', 'hot swap test'], ['rollback', 'a1', 'a2', 'back']])
    } finally {
      await store.close()
    }
  })
})
