import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findPostgres, startPostgres, type PostgresServer } from '../../test/helpers/postgres-server.js'
import { layOutWithoutPgvector } from '../../test/helpers/vector-stand-in.js'
import { RagtuneError } from '../errors.js'
import type { AdapterEvent, AdapterRecord } from '../spec/adapter-registry.js'
import type { ChunkRecord, Store } from '../spec/store.js'
import { describeAdapterRegistryContract } from './adapter-registry.contract.js'
import { describeDatasetContract } from './dataset.contract.js'
import { describeJobRunContract } from './job-run.contract.js'
import { PostgresStore } from './postgres-store.js'
import { describeStoreContract } from './store.contract.js'

// A real PostgreSQL server (Debian's, started here on a free loopback port): the relational parts,
// the manifest and full-text search, pooling, advisory locks and LISTEN/NOTIFY. Debian has no
// pgvector, so the vector column is a stand-in (test/helpers/vector-stand-in.ts) and dense search is
// left out here; postgres-store.test.ts runs the whole contract, vectors included, over the wire.
const found = findPostgres()
const skip = 'skip' in found ? found.skip : null
if (skip) console.warn(`skipping the real PostgreSQL tests: ${skip}`)

let server: PostgresServer
const opened: Store[] = []
let schemas = 0

/** A store on a fresh schema laid out without pgvector, initialised unless `init: false`. */
async function openStandIn(opts: { init?: boolean; schema?: string } = {}): Promise<PostgresStore> {
  const schema = opts.schema ?? `s${++schemas}`
  if (!opts.schema) await layOutWithoutPgvector(server.url, schema)
  const store = await PostgresStore.open({ url: server.url, schema, lexical: 'tsvector', poolSize: 4 })
  opened.push(store)
  if (opts.init !== false) await store.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
  return store
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(RagtuneError)
  return (err as RagtuneError).code
}

const T = '2025-05-01T10:00:00.000Z'
const adapter = (name: string): AdapterRecord => ({
  name, id: `${name}@abc`, filePath: `/a/${name}.gguf`, fileSha256: 'a'.repeat(64), baseModel: null, baseModelSha256: null,
  datasetVersion: null, trainingConfig: null, parent: null, status: 'candidate', createdAt: T, activatedAt: null,
})
const added = (name: string): AdapterEvent => ({ id: `add-${name}`, time: T, action: 'add', adapter: name, previous: null, forced: false, reason: null, detail: null })
const promote = (name: string, expectedActive: string | null, n: number) =>
  ({ name, action: 'promote' as const, eventId: `p-${name}-${n}`, time: T, forced: true, reason: 'test', detail: null, expectedActive })

describe.skipIf(skip !== null)('PostgresStore on a real PostgreSQL server', () => {
  beforeAll(async () => {
    server = await startPostgres()
  })
  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()))
    await server?.stop()
  })

  describeStoreContract('PostgreSQL (vector stand-in, no dense search)', () => openStandIn({ init: false }), { dense: false })
  describeDatasetContract('PostgreSQL (vector stand-in)', () => openStandIn({ init: false }))
  describeAdapterRegistryContract('PostgreSQL', () => openStandIn())
  describeJobRunContract('PostgreSQL', () => openStandIn())

  it('names the fix when the server has no pgvector, and when the server or database is wrong', async () => {
    const store = await PostgresStore.open({ url: server.url, schema: 'bare' })
    opened.push(store)
    expect(store.warnings.join('\n')).toMatch(/pg_textsearch unavailable.*tsvector/)
    const err = await store.init({ dimensions: 4, embeddingModel: 'm' }).catch((e: unknown) => e)
    expect((err as RagtuneError).code).toBe('STORE_PGVECTOR_MISSING')
    expect((err as Error).message).toMatch(/fix: install pgvector/)
    const missing = await PostgresStore.open({ url: server.url.replace(/\/postgres$/, '/nope') }).catch((e: unknown) => e)
    expect((missing as RagtuneError).code).toBe('STORE_UNREACHABLE')
    expect((missing as Error).message).toMatch(/does not exist[\s\S]*createdb/)
    expect(await codeOf(PostgresStore.open({ url: server.url, schema: 'Bad-Name' }))).toBe('CONFIG_INVALID')
  })

  it('two processes initialising one new schema at once take turns; both end up current', async () => {
    await layOutWithoutPgvector(server.url, 'race')
    const [a, b] = await Promise.all([openStandIn({ schema: 'race' }), openStandIn({ schema: 'race' })])
    const rows = await server.admin<{ n: number }>('SELECT count(*)::int AS n FROM race.schema_migrations')
    expect(rows[0]!.n).toBeGreaterThanOrEqual(8)
    expect((await a.stats()).diskBytes).toBeGreaterThan(0)
    expect(await b.chunkCount()).toBe(0)
  })

  it('concurrent promotions from two processes: one wins, the other is told it lost (no silent overwrite)', async () => {
    const a = await openStandIn()
    const b = await PostgresStore.open({ url: server.url, schema: `s${schemas}`, poolSize: 2 })
    opened.push(b)
    await a.addAdapter(adapter('x1'), added('x1'))
    await a.addAdapter(adapter('x2'), added('x2'))
    for (let round = 0; round < 5; round++) {
      const current = (await a.getActiveAdapter())?.name ?? null
      const [first, second] = ['x1', 'x2', 'base'].filter((n) => n !== current)
      const results = await Promise.allSettled([a.activateAdapter(promote(first!, current, round)), b.activateAdapter(promote(second!, current, round))])
      const ok = results.filter((r) => r.status === 'fulfilled')
      expect(ok).toHaveLength(1)
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
      expect((lost.reason as RagtuneError).code).toBe('ADAPTER_CONFLICT')
    }
    expect((await a.listAdapters()).filter((r) => r.status === 'active')).toHaveLength(1)
  })

  it('a promotion is announced to every watcher, and a watcher whose connection dies reconnects and says so', async () => {
    const a = await openStandIn()
    const b = await PostgresStore.open({ url: server.url, schema: `s${schemas}`, poolSize: 2 })
    opened.push(b)
    await a.addAdapter(adapter('w1'), added('w1'))
    let heard = 0
    const errors: Error[] = []
    const stop = await b.watchActiveAdapter(() => heard++, { onError: (e) => errors.push(e) })
    await a.activateAdapter(promote('w1', null, 1))
    await until(() => heard === 1, 'the NOTIFY of a promotion')
    await server.admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ragtune-listen'`)
    await until(() => heard === 2, 'the reconnect report')
    expect(errors.length).toBeGreaterThan(0)
    await a.activateAdapter(promote('base', 'w1', 2))
    await until(() => heard === 3, 'a NOTIFY after the reconnect')
    // A failed promotion (rolled back) announces nothing.
    await codeOf(a.activateAdapter(promote('w1', 'nope', 3)))
    await stop()
    await a.activateAdapter(promote('w1', 'base', 4))
    await sleep(300)
    expect(heard).toBe(3)
  })

  it('two writers replacing one document at once take turns: every result is one whole version', async () => {
    const a = await openStandIn()
    const b = await PostgresStore.open({ url: server.url, schema: `s${schemas}`, poolSize: 4 })
    opened.push(b)
    const version = (v: number, n: number): [Parameters<Store['replaceDocument']>[0], ChunkRecord[]] => [
      { path: 'same.md', contentHash: `v${v}`, size: 1, format: 'md', chunkCount: n, indexedAt: T },
      Array.from({ length: n }, (_, i) => ({ id: `same#${i}`, documentPath: 'same.md', ordinal: i, text: `version ${v} part ${i}`, headingPath: [], tokenCount: 4, embedding: new Float32Array([1, 0, 0, 0]) })),
    ]
    await Promise.all(Array.from({ length: 12 }, (_, v) => (v % 2 ? a : b).replaceDocument(...version(v, 1 + (v % 4)))))
    const [doc] = await a.listDocuments()
    const v = Number(doc!.contentHash.slice(1))
    expect(await a.chunkCount()).toBe(doc!.chunkCount)
    expect((await a.getChunks({ documentPaths: ['same.md'] })).every((c) => c.text.startsWith(`version ${v} `))).toBe(true)
  })

  it('bulk loads of one schema run one at a time, across processes', async () => {
    const a = await openStandIn()
    const b = await PostgresStore.open({ url: server.url, schema: `s${schemas}`, poolSize: 2 })
    opened.push(b)
    const events: string[] = []
    const load = (store: PostgresStore, name: string) => store.bulkLoad(async () => {
      events.push(`${name} start`)
      await sleep(300)
      events.push(`${name} end`)
    })
    await Promise.all([load(a, 'a'), sleep(50).then(() => load(b, 'b'))])
    expect(events).toEqual(['a start', 'a end', 'b start', 'b end'])
  })
})

async function until(ok: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const t0 = performance.now()
  while (!ok()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}
