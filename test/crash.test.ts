import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { indexFolder } from '../src/ingest/indexer.js'
import { sha256File } from '../src/ingest/manifest.js'
import { TransformersEmbeddingModel } from '../src/models/transformers/transformers-embedding-model.js'
import { PGliteStore } from '../src/store/pglite-store.js'
import { tinyModelDirs } from './fixtures/tiny-models.js'
import { makeCorpus, markdownDoc } from './helpers/corpus.js'

const CHILD = fileURLToPath(new URL('./helpers/index-child.ts', import.meta.url))

let root: string
let modelDir: string
let embedder: TransformersEmbeddingModel
const dirs: string[] = []

/** Runs the indexer in a child and SIGKILLs it once `afterDocs` documents are committed (plus a jitter). */
function indexAndKill(dataDir: string, afterDocs: number, jitterMs: number): Promise<{ killedAt: number; finished: boolean }> {
  return new Promise((resolve, reject) => {
    // One process (not the tsx launcher, which would leave its node child running after SIGKILL).
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, root, dataDir, modelDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let done = 0
    let finished = false
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdout.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (line === 'finished') finished = true
        const m = /^done (\d+)$/.exec(line)
        if (m && (done = Number(m[1])) >= afterDocs && child.exitCode === null && !child.killed) setTimeout(() => child.kill('SIGKILL'), jitterMs)
      }
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || finished) resolve({ killedAt: done, finished })
      else reject(new Error(`child exited with ${code}: ${stderr}`))
    })
  })
}

/** No orphan or duplicate chunks: each manifest row's count matches, and the total matches. */
async function checkConsistent(store: PGliteStore): Promise<number> {
  const docs = await store.listDocuments()
  const total = docs.reduce((n, d) => n + d.chunkCount, 0)
  expect(await store.chunkCount()).toBe(total)
  return docs.length
}

beforeAll(async () => {
  modelDir = (await tinyModelDirs()).embedder
  embedder = await TransformersEmbeddingModel.load({ model: modelDir, offline: true })
  const files: Record<string, string> = {}
  for (let i = 0; i < 24; i++) files[`doc-${String(i).padStart(2, '0')}.md`] = markdownDoc(`topic ${i}`, 3, i + 1)
  root = await makeCorpus(files, 'ragtune-crash-')
})

afterAll(async () => {
  await embedder?.dispose()
  await Promise.all([root, ...dirs].map((d) => rm(d, { recursive: true, force: true })))
})

describe('an indexer killed with SIGKILL', () => {
  it.each([
    [1, 0],
    [6, 15],
    [12, 40],
  ])('after %i documents (+%i ms): the store stays consistent and the next run completes it', async (afterDocs, jitter) => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-crash-db-'))
    dirs.push(dataDir)
    const killed = await indexAndKill(dataDir, afterDocs, jitter)
    expect(killed.finished).toBe(false)

    const store = await PGliteStore.open({ dataDir })
    try {
      await store.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
      const partial = await checkConsistent(store)
      expect(partial).toBeGreaterThanOrEqual(afterDocs)
      expect(partial).toBeLessThan(24)

      const rerun = await indexFolder({ root, store, embedder, chunking: { chunkTokens: 48, overlapTokens: 8 }, include: ['**/*'], exclude: [], maxFileBytes: 1 << 20, batchSize: 4 })
      expect(rerun.plan.unchanged.length).toBe(partial)
      expect(rerun.indexed.length).toBe(24 - partial)
      expect(await checkConsistent(store)).toBe(24)
      const manifest = await store.listDocuments()
      for (const d of manifest) expect(d.contentHash).toBe(await sha256File(path.join(root, d.path)))
    } finally {
      await store.close()
    }
  })

  it('ends with exactly the chunks of an uninterrupted run', async () => {
    const killedDir = dirs[dirs.length - 1]!
    const a = await PGliteStore.open({ dataDir: killedDir })
    const b = await PGliteStore.open({})
    try {
      await b.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
      await indexFolder({ root, store: b, embedder, chunking: { chunkTokens: 48, overlapTokens: 8 }, include: ['**/*'], exclude: [], maxFileBytes: 1 << 20, batchSize: 4 })
      const strip = (docs: Awaited<ReturnType<PGliteStore['listDocuments']>>) => docs.map(({ indexedAt: _t, ...d }) => d)
      expect(strip(await a.listDocuments())).toEqual(strip(await b.listDocuments()))
      expect(await a.chunkCount()).toBe(await b.chunkCount())
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })
})
