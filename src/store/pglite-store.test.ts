import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { pg_textsearch } from '@electric-sql/pglite-pg_textsearch'
import { vector } from '@electric-sql/pglite-pgvector'
import { afterAll, describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import type { ChunkRecord } from '../spec/store.js'
import { LOCK_FILE } from './dir-lock.js'
import { MIGRATIONS } from './migrations.js'
import { PGliteStore } from './pglite-store.js'
import { describeStoreContract } from './store.contract.js'

const tmpDirs: string[] = []
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ragtune-store-'))
  tmpDirs.push(dir)
  return dir
}
afterAll(async () => {
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true })
})

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(RagtuneError)
  return (err as RagtuneError).code
}

describeStoreContract('PGlite in memory, BM25', () => PGliteStore.open({ lexical: 'bm25' }))
describeStoreContract('PGlite in memory, tsvector', () => PGliteStore.open({ lexical: 'tsvector' }))
describeStoreContract('PGlite persisted', async () => PGliteStore.open({ dataDir: await freshDir() }))

const INIT = { dimensions: 4, embeddingModel: 'test/model-4d' }
const chunk = (id: string, text: string): ChunkRecord => ({
  id, documentPath: 'a.md', ordinal: 0, text, headingPath: ['A'], tokenCount: 2, embedding: new Float32Array([1, 0, 0, 0]),
})
const docA = { path: 'a.md', contentHash: 'h1', size: 10, format: 'md', chunkCount: 1, indexedAt: '2025-06-01T00:00:00.000Z' }

async function withRaw<T>(dataDir: string, fn: (raw: PGlite) => Promise<T>): Promise<T> {
  const raw = await PGlite.create({ dataDir, extensions: { vector, pg_textsearch } })
  try {
    return await fn(raw)
  } finally {
    await raw.close()
  }
}

async function hasHnsw(dataDir: string): Promise<boolean> {
  const res = await withRaw(dataDir, (raw) => raw.query<{ t: string | null }>(`SELECT to_regclass('chunks_embedding_hnsw')::text AS t`))
  return res.rows[0]?.t != null
}

describe('PGliteStore on disk', () => {
  it('persists across reopen, locks the directory while open and reports disk usage', async () => {
    const dataDir = await freshDir()
    const first = await PGliteStore.open({ dataDir })
    expect(first.warnings).toEqual([])
    await first.init(INIT)
    await first.replaceDocument(docA, [chunk('a#0', 'persistent lighthouse keeper')])
    await first.setMeta('last-run', 'yesterday')
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(true)
    expect(await codeOf(PGliteStore.open({ dataDir }))).toBe('STORE_LOCKED')
    await first.close()
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false)

    const again = await PGliteStore.open({ dataDir })
    try {
      // Usable without init: the schema parameters come from the directory.
      const stats = await again.stats()
      expect(stats).toMatchObject({ documents: 1, chunks: 1, dimensions: 4, embeddingModel: INIT.embeddingModel, lexicalBackend: 'bm25' })
      expect(stats.diskBytes).toBeGreaterThan(1_000_000)
      expect(await again.getMeta('last-run')).toBe('yesterday')
      expect((await again.searchLexical('lighthouse', 3)).map((h) => h.chunkId)).toEqual(['a#0'])
      expect((await again.searchDense(new Float32Array([1, 0, 0, 0]), 3)).map((h) => h.chunkId)).toEqual(['a#0'])
      expect(await codeOf(again.init({ dimensions: 8, embeddingModel: INIT.embeddingModel }))).toBe('STORE_MODEL_MISMATCH')
    } finally {
      await again.close()
    }
    expect(await codeOf(PGliteStore.open({ dataDir, lexical: 'tsvector' }))).toBe('STORE_LEXICAL_MISMATCH')
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false)

    // The migration history is in the database itself.
    const res = await withRaw(dataDir, (raw) => raw.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version'))
    expect(res.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version))
  })

  it('bulkLoad defers the HNSW index, and an open rebuilds one a crashed bulk load left missing', async () => {
    const dataDir = await freshDir()
    const store = await PGliteStore.open({ dataDir })
    await store.init(INIT)
    await store.bulkLoad(async () => {
      await store.replaceDocument(docA, [chunk('a#0', 'bulk loaded')])
      // Dense search still answers while the index is away (exact scan).
      expect((await store.searchDense(new Float32Array([1, 0, 0, 0]), 1)).map((h) => h.chunkId)).toEqual(['a#0'])
    })
    await store.close()
    expect(await hasHnsw(dataDir)).toBe(true)
    await withRaw(dataDir, (raw) => raw.exec('DROP INDEX chunks_embedding_hnsw'))
    await (await PGliteStore.open({ dataDir })).close()
    expect(await hasHnsw(dataDir)).toBe(true)
  })

  it('takes over a lock left by a dead process, but not one from another host', async () => {
    const dataDir = await freshDir()
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    const lockFile = join(dataDir, LOCK_FILE)
    await writeFile(lockFile, JSON.stringify({ pid: dead, hostname: hostname(), token: 't', since: '2020-01-01T00:00:00Z' }))
    const store = await PGliteStore.open({ dataDir, lexical: 'tsvector' })
    await store.close()
    await writeFile(lockFile, JSON.stringify({ pid: dead, hostname: 'some-other-host', token: 't', since: '2020-01-01T00:00:00Z' }))
    const err = await PGliteStore.open({ dataDir }).catch((e: unknown) => e)
    expect((err as RagtuneError).code).toBe('STORE_LOCKED')
    expect((err as Error).message).toContain(lockFile)
  })
})

describe('PGliteStore in memory', () => {
  it('needs init before use, refuses reserved meta keys, and vacuums after mass deletes', async () => {
    const store = await PGliteStore.open({ lexical: 'tsvector' })
    try {
      expect(await codeOf(store.listDocuments())).toBe('STORE_NOT_INITIALISED')
      expect(await store.stats()).toMatchObject({ documents: 0, chunks: 0, dimensions: null, lexicalBackend: 'tsvector', diskBytes: null })
      expect(await codeOf(store.init({ dimensions: 0, embeddingModel: 'x' }))).toBe('STORE_BAD_DIMENSIONS')
      await store.init(INIT)
      expect(await codeOf(store.setMeta('store.dimensions', '3'))).toBe('STORE_META_RESERVED')
      expect(await codeOf(store.replaceDocument({ ...docA, chunkCount: 2 }, [chunk('a#0', 'x')]))).toBe('STORE_BAD_CHUNK')
      expect(await codeOf(store.searchDense(new Float32Array([1, 0, 0, 0]), 1.5))).toBe('STORE_BAD_ARGUMENT')

      // 2000 near-identical vectors, then deleted: without a vacuum they fill every HNSW candidate slot.
      const crowd = Array.from({ length: 2000 }, (_, i) => ({ ...chunk(`old#${i}`, 'old'), embedding: new Float32Array([1, 0.001 * i, 0, 0]) }))
      await store.replaceDocument({ ...docA, chunkCount: crowd.length }, crowd)
      await store.replaceDocument(docA, [{ ...chunk('new#0', 'new'), embedding: new Float32Array([0, 1, 0, 0]) }])
      expect((await store.searchDense(new Float32Array([1, 0, 0, 0]), 5)).map((h) => h.chunkId)).toEqual(['new#0'])
      expect(await store.getMeta('store.dead_chunks')).toBe('0')
    } finally {
      await store.close()
    }
    expect(await codeOf(store.chunkCount())).toBe('STORE_CLOSED')
  })
})
