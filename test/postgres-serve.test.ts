import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TINY_LLAMA_BASE_OPTIONS } from '../src/models/tiny-llama/ensure-tiny-llama.js'
import { writeTinyLora } from '../src/models/tiny-llama/tiny-lora.js'
import { PostgresStore } from '../src/store/postgres-store.js'
import { ragtune } from './helpers/cli.js'
import { makeCorpus } from './helpers/corpus.js'
import { findPostgres, startPostgres, type PostgresServer } from './helpers/postgres-server.js'
import { post, ragtuneOk, startServe, tinyConfig, type ServeProcess } from './helpers/serve.js'
import { layOutWithoutPgvector } from './helpers/vector-stand-in.js'

// Several ragtune processes on one PostgreSQL server: two `ragtune serve`, an indexer running while
// they answer, and promotions made by the CLI or by one server reaching both servers through
// LISTEN/NOTIFY. Debian has no pgvector, so the index is served lexically and the vector column is a
// stand-in (test/helpers/vector-stand-in.ts); the real PostgreSQL does everything else.
const found = findPostgres()
const skip = 'skip' in found ? found.skip : null
if (skip) console.warn(`skipping the multi-process PostgreSQL test: ${skip}`)

let pg: PostgresServer
let cwd: string
const servers: ServeProcess[] = []
const ids: Record<string, string> = {}

interface AdaptersView { active: string | null; serving: { adapter: string | null } }
async function serving(s: ServeProcess): Promise<string | null> {
  const res = await fetch(`${s.url}/v1/adapters`)
  return ((await res.json()) as AdaptersView).serving.adapter
}

/** Milliseconds until every server serves `id`. */
async function allServe(id: string, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now()
  while ((await Promise.all(servers.map(serving))).some((a) => a !== id)) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`servers still serve ${JSON.stringify(await Promise.all(servers.map(serving)))}, expected ${id}`)
    await sleep(50)
  }
  return performance.now() - t0
}

describe.skipIf(skip !== null)('ragtune serve x2 + indexer + CLI on one PostgreSQL', () => {
  beforeAll(async () => {
    pg = await startPostgres()
    await layOutWithoutPgvector(pg.url, 'docs')
    cwd = await makeCorpus({ 'docs/ports.md': '# Ports\n\nThe heartbeat uses port 7500 over UDP on the back-end network.' }, 'ragtune-pgserve-')
    await writeFile(path.join(cwd, 'ragtune.config.json'), JSON.stringify({
      ...tinyConfig({ server: { maxConcurrent: 2 }, generator: { maxTokens: 8 } }),
      store: { url: pg.url, schema: 'docs', lexical: 'tsvector', poolSize: 3 },
      retrieval: { mode: 'lexical', rerank: false },
    }))
    await ragtuneOk(cwd, 'index', 'docs')
    for (const [name, seed] of [['a1', 7], ['a2', 8]] as const) {
      await writeTinyLora(path.join(cwd, `${name}.gguf`), TINY_LLAMA_BASE_OPTIONS, { seed })
      ids[name] = (JSON.parse(await ragtuneOk(cwd, 'adapter', 'add', name, `${name}.gguf`, '--json')) as { id: string }).id
    }
    servers.push(...(await Promise.all([startServe(cwd, '--no-auth'), startServe(cwd, '--no-auth')])))
  })

  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL')
    await pg?.stop()
    if (cwd) await rm(cwd, { recursive: true, force: true })
  })

  it('indexes in a third process while both servers answer, and both see the new document', async () => {
    await writeFile(path.join(cwd, 'docs', 'keys.md'), '# Keys\n\nRotate the zanzibar master keys every 90 days.')
    let stop = false
    const statuses: number[] = []
    const ask = async (s: ServeProcess): Promise<void> => {
      while (!stop) statuses.push((await post(`${s.url}/v1/answer`, { question: 'Which port does the heartbeat use?' })).status)
    }
    const clients = servers.map(ask)
    const indexed = JSON.parse(await ragtuneOk(cwd, 'index', 'docs', '--json')) as { plan: { added: string[] } }
    stop = true
    await Promise.all(clients)
    expect(indexed.plan.added).toEqual(['keys.md'])
    expect(statuses.length).toBeGreaterThan(0)
    expect(statuses.every((s) => s === 200)).toBe(true)
    for (const s of servers) {
      const body = (await (await post(`${s.url}/v1/answer`, { question: 'zanzibar master keys' })).json()) as { sources: Array<{ path: string }> }
      expect(body.sources.map((x) => x.path)).toContain('keys.md')
    }
  })

  it('a promotion made by the CLI, then one made through one server, reaches both servers within seconds', async () => {
    expect(await Promise.all(servers.map(serving))).toEqual([null, null])
    await ragtuneOk(cwd, 'adapter', 'promote', 'a1', '--force', '--reason', 'first adapter')
    const viaCli = await allServe(ids.a1!)
    const res = await post(`${servers[0]!.url}/v1/adapters/a2/promote`, { force: true, reason: 'through server 0' })
    expect(res.status).toBe(200)
    const viaServer = await allServe(ids.a2!)
    // A second CLI process (any machine with the URL) rolls back; every server follows again.
    await ragtuneOk(cwd, 'adapter', 'rollback', '--reason', 'back')
    const viaRollback = await allServe(ids.a1!)
    console.log(`promotion reached every server in ${Math.round(viaCli)} ms (CLI), ${Math.round(viaServer)} ms (server route), ${Math.round(viaRollback)} ms (CLI rollback)`)
    expect(Math.max(viaCli, viaServer, viaRollback)).toBeLessThan(5000)
    for (const s of servers) expect(s.stderr()).toMatch(/active adapter changed in the store; swapped/)
  })

  it('logged the answers of both servers in the one store, and left one active adapter', async () => {
    for (const s of servers) s.child.kill('SIGTERM')
    expect(await Promise.all(servers.map((s) => s.exited))).toEqual([0, 0])
    // No lock file, no server to go through: any process with the URL reads the store.
    expect((await ragtune(cwd, 'status', '--json')).code).toBe(0)
    const store = await PostgresStore.open({ url: pg.url, schema: 'docs' })
    try {
      expect((await store.listQueryLogs({ limit: 1000 })).length).toBeGreaterThan(2)
      expect((await store.listAdapters()).filter((a) => a.status === 'active').map((a) => a.name)).toEqual(['a1'])
      expect((await store.listDocuments()).map((d) => d.path)).toEqual(['keys.md', 'ports.md'])
    } finally {
      await store.close()
    }
  })
})
