import { mkdir, rm, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeCorpus, markdownDoc } from '../../test/helpers/corpus.js'
import { tinyModelDirs } from '../../test/fixtures/tiny-models.js'
import { indexFolder, type IndexReport } from '../ingest/indexer.js'
import { TransformersEmbeddingModel } from '../models/transformers/transformers-embedding-model.js'
import { PGliteStore } from '../store/pglite-store.js'
import { watchIgnore, watchIndex } from './watch-index.js'

let root: string
let store: PGliteStore
let embedder: TransformersEmbeddingModel

beforeAll(async () => {
  root = await makeCorpus({ 'a.md': markdownDoc('alpha', 2, 1), 'b.md': markdownDoc('beta', 2, 2), 'sub/c.md': markdownDoc('gamma', 2, 3) }, 'ragtune-watch-')
  embedder = await TransformersEmbeddingModel.load({ model: (await tinyModelDirs()).embedder, offline: true })
  store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
})

afterAll(async () => {
  await store?.close()
  await embedder?.dispose()
  if (root) await rm(root, { recursive: true, force: true })
})

describe('watchIndex', () => {
  it('re-indexes an edit and a deletion, touching only those files, and stops cleanly', async () => {
    const reindex = (signal: AbortSignal): Promise<IndexReport> => indexFolder({
      root, store, embedder, chunking: { chunkTokens: 64, overlapTokens: 8 }, include: ['**/*'], exclude: ['**/.cache/**'], maxFileBytes: 1 << 20, batchSize: 8, signal,
    })
    const first = await reindex(new AbortController().signal)
    expect(first.plan.added).toEqual(['a.md', 'b.md', 'sub/c.md'])

    const reports: IndexReport[] = []
    const stop = new AbortController()
    let runs = 0
    const watching = watchIndex({
      root, signal: stop.signal, debounceMs: 300,
      reindex: (signal) => (runs++, reindex(signal)),
      ignore: watchIgnore({ root, exclude: ['**/.cache/**'], dataDir: path.join(root, 'data') }),
      onReport: (r) => reports.push(r),
      onError: (err) => { throw err },
    })
    // Changes in an ignored folder (here: where the store could live) start nothing.
    await mkdir(path.join(root, '.cache'))
    await writeFile(path.join(root, '.cache', 'x.md'), 'ignored')
    await new Promise((r) => setTimeout(r, 700))
    expect(runs).toBe(0)

    // An editor's save is several writes: one run.
    const edited = markdownDoc('beta edited', 3, 9)
    await writeFile(path.join(root, 'b.md'), edited.slice(0, 100))
    await writeFile(path.join(root, 'b.md'), edited)
    await expect.poll(() => reports.some((r) => r.plan.changed.includes('b.md')), { timeout: 30_000, interval: 100 }).toBe(true)
    const edit = reports.find((r) => r.plan.changed.includes('b.md'))!
    expect(edit.indexed.map((d) => d.path)).toEqual(['b.md'])
    expect(edit.plan.unchanged).toEqual(['a.md', 'sub/c.md'])
    expect(await store.getChunks({ documentPaths: ['b.md'] })).toEqual(expect.arrayContaining([expect.objectContaining({ text: expect.stringContaining('beta edited') })]))

    await unlink(path.join(root, 'sub/c.md'))
    await expect.poll(() => reports.some((r) => r.plan.deleted.includes('sub/c.md')), { timeout: 30_000, interval: 100 }).toBe(true)
    const del = reports.find((r) => r.plan.deleted.includes('sub/c.md'))!
    expect(del.indexed).toEqual([])
    expect((await store.listDocuments()).map((d) => d.path)).toEqual(['a.md', 'b.md'])

    stop.abort()
    await watching
    const after = runs
    await writeFile(path.join(root, 'a.md'), 'changed after stop')
    await new Promise((r) => setTimeout(r, 600))
    expect(runs).toBe(after)
    expect(runs).toBeLessThanOrEqual(3)
  }, 120_000)

  it('ignores excluded paths and the data folder inside the indexed one', () => {
    const ignore = watchIgnore({ root: '/docs', exclude: ['**/node_modules/**', '**/.git/**'], dataDir: '/docs/.ragtune' })
    expect(['.ragtune', '.ragtune/db/base/1', 'node_modules', 'a/node_modules/x.md', '.git'].filter((p) => !ignore(p))).toEqual([])
    expect(['a.md', 'sub', 'sub/b.md', '.ragtune-notes.md'].filter(ignore)).toEqual([])
    expect(watchIgnore({ root: '/docs', exclude: [], dataDir: '/elsewhere/.ragtune' })('.ragtune/x')).toBe(false)
  })

  it('rejects a folder that cannot be watched', async () => {
    const err = await watchIndex({ root: path.join(root, 'missing'), signal: new AbortController().signal, reindex: () => Promise.reject(new Error('no')), ignore: () => false }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'WATCH_FAILED', message: expect.stringMatching(/cannot watch .*missing/) })
  })
})
