import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChunkRecord, Store } from '../src/spec/store.js'
import { PGliteStore } from '../src/store/pglite-store.js'
import { redactUrl } from '../src/store/postgres-database.js'
import { PostgresStore } from '../src/store/postgres-store.js'
import { envInt, envString } from './lib/env.js'
import { fmt, note, printTable } from './lib/format.js'
import type { BenchResult } from './lib/results.js'
import { randomUnitVector, seededRandom, sentence, wordSampler } from './lib/rng.js'
import { summarize } from './lib/stats.js'

const DIMS = 384
const CLUSTERS = 1000

/**
 * Vectors with structure, as real embeddings have (uniform random 384-d vectors are all nearly
 * orthogonal, which no ANN index meets in practice): each chunk is a noisy copy of one of 1,000
 * centres. Regenerated from the seed, so the exact top-k can be computed without holding them all.
 */
function vectorStream(seed: number): () => Float32Array {
  const centres = Array.from({ length: CLUSTERS }, (_, i) => randomUnitVector(seededRandom(1000 + i), DIMS))
  const random = seededRandom(seed)
  return () => {
    const noise = randomUnitVector(random, DIMS)
    const c = centres[Math.floor(random() * CLUSTERS)]!
    const v = new Float32Array(DIMS)
    let norm = 0
    for (let d = 0; d < DIMS; d++) norm += (v[d] = c[d]! + 0.8 * noise[d]!) ** 2
    norm = Math.sqrt(norm)
    for (let d = 0; d < DIMS; d++) v[d] = v[d]! / norm
    return v
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0
  for (let d = 0; d < DIMS; d++) s += a[d]! * b[d]!
  return s
}

/** Opens the server store when BENCH_SCALE_URL names one with pgvector; otherwise PGlite in a temp folder. */
async function openStore(url: string, tempRoot: string, notes: string[]): Promise<{ store: Store; backend: string }> {
  if (url) {
    const schema = `ragtune_bench_${Date.now()}`
    const store = await PostgresStore.open({ url, schema, lexical: 'tsvector' })
    try {
      await store.init({ dimensions: DIMS, embeddingModel: 'bench/synthetic-384' })
      return { store, backend: `PostgreSQL at ${redactUrl(url)} (schema ${schema}, drop it afterwards)` }
    } catch (err) {
      await store.close()
      notes.push(`BENCH_SCALE_URL was given but the server store could not be used (${(err as Error).message.split('\n')[0]}); measured PGlite instead`)
    }
  }
  const store = await PGliteStore.open({ dataDir: join(tempRoot, 'db'), lexical: 'tsvector' })
  await store.init({ dimensions: DIMS, embeddingModel: 'bench/synthetic-384' })
  return { store, backend: 'PGlite (embedded, WebAssembly, persisted to a temp folder)' }
}

export async function runScale(): Promise<BenchResult> {
  const target = envInt('BENCH_SCALE_CHUNKS', 20_000)
  const fillBudgetMs = envInt('BENCH_SCALE_FILL_S', 300) * 1000
  const perDoc = envInt('BENCH_SCALE_DOC_CHUNKS', 500)
  const queries = envInt('BENCH_SCALE_QUERIES', 200)
  const recallQueries = envInt('BENCH_SCALE_RECALL_QUERIES', 20)
  const url = envString('BENCH_SCALE_URL', '')
  const notes: string[] = []
  const tempRoot = await mkdtemp(join(tmpdir(), 'ragtune-bench-scale-'))
  let peakRss = process.memoryUsage().rss
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250)
  const { store, backend } = await openStore(url, tempRoot, notes)
  try {
    const nextVector = vectorStream(7)
    const random = seededRandom(8)
    const word = wordSampler(random)
    let rows = 0
    let insertMs = 0
    const t0 = performance.now()
    const fill = async (): Promise<void> => {
      for (let d = 0; rows < target && performance.now() - t0 < fillBudgetMs; d++) {
        const path = `synthetic/doc-${d}.md`
        const n = Math.min(perDoc, target - rows)
        const chunks: ChunkRecord[] = Array.from({ length: n }, (_, i) => ({
          id: `${d}-${i}`, documentPath: path, ordinal: i, text: sentence(random, word), headingPath: [], tokenCount: 16, embedding: nextVector(),
        }))
        await store.replaceDocument({ path, contentHash: String(d), size: 0, format: 'md', chunkCount: n, indexedAt: new Date().toISOString() }, chunks)
        rows += n
        if (rows % 10_000 < perDoc) note(`scale: ${rows} chunks written, ${fmt((performance.now() - t0) / 1000)} s`)
      }
      insertMs = performance.now() - t0
      note('scale: building the vector index')
    }
    await (store.bulkLoad ? store.bulkLoad(fill) : fill())
    const indexMs = performance.now() - t0
    const reached = await store.chunkCount()
    if (reached < target) {
      notes.push(`LIMIT: reached ${reached} of ${target} chunks before the ${fillBudgetMs / 1000} s fill budget (BENCH_SCALE_FILL_S) ran out`)
    }
    const { diskBytes } = await store.stats()

    // Queries: noisy copies of stored vectors (a question near some passage), regenerated from the seed.
    const replay = vectorStream(7)
    const qRandom = seededRandom(9)
    const picks = new Set(Array.from({ length: queries + 10 }, () => Math.floor(qRandom() * reached)))
    const queryVectors: Float32Array[] = []
    for (let i = 0; i < reached && queryVectors.length < picks.size; i++) {
      const v = replay()
      if (!picks.has(i)) continue
      const noise = randomUnitVector(qRandom, DIMS)
      const q = v.map((x, d) => x + 0.3 * noise[d]!)
      const norm = Math.sqrt(q.reduce((s, x) => s + x * x, 0))
      queryVectors.push(q.map((x) => x / norm))
    }
    const qWord = wordSampler(seededRandom(10))
    const dense: number[] = []
    const lexical: number[] = []
    const annTop: string[][] = []
    for (const [i, q] of queryVectors.entries()) {
      const a = performance.now()
      const hits = await store.searchDense(q, 20)
      const b = performance.now()
      await store.searchLexical(Array.from({ length: 5 }, qWord).join(' '), 20)
      const c = performance.now()
      if (i < 10) continue // warm-up
      dense.push(b - a)
      lexical.push(c - b)
      if (annTop.length < recallQueries) annTop.push(hits.slice(0, 10).map((h) => h.chunkId))
    }
    const recall = exactRecall(queryVectors.slice(10, 10 + annTop.length), annTop, reached, perDoc)
    clearInterval(sampler)
    const d = summarize(dense)
    const l = summarize(lexical)
    printTable(`scale: ${backend}, ${reached} chunks of ${DIMS}-d vectors (1,000 noisy clusters) + ~16-word texts`, ['measure', 'value'], [
      ['chunks stored', reached],
      ['index time, s (inserts + HNSW build)', indexMs / 1000],
      ['  inserts, s', insertMs / 1000],
      ['  HNSW build after the bulk load, s', (indexMs - insertMs) / 1000],
      ['chunks per second (whole index time)', reached / (indexMs / 1000)],
      ['disk, MB', (diskBytes ?? NaN) / 1e6],
      ['peak RSS of this process, MB', peakRss / 1e6],
      [`dense top-20 p50 / p99 ms (${dense.length} queries)`, `${fmt(d.p50)} / ${fmt(d.p99)}`],
      [`lexical top-20 p50 / p99 ms`, `${fmt(l.p50)} / ${fmt(l.p99)}`],
      [`dense recall@10 vs exact search (${annTop.length} queries)`, recall],
    ])
    notes.push(
      'Vectors are synthetic (noisy copies of 1,000 random centres) and written straight through store.bulkLoad + replaceDocument, as indexFolder writes them; no embedding model runs.',
      url ? 'The Postgres server\'s own memory is not in "peak RSS" (that is this client process).' : 'PGlite runs Postgres inside this process (WebAssembly), so "peak RSS" includes the database.',
    )
    return { data: { backend, target, reached, perDoc, insertMs, indexMs, diskBytes, peakRss, dense: d, lexical: l, recallAt10: recall }, goals: [], notes }
  } finally {
    clearInterval(sampler)
    await store.close()
    await rm(tempRoot, { recursive: true, force: true })
  }
}

/** Share of the exact top-10 (by a full scan over the regenerated vectors) that the ANN search returned. */
function exactRecall(qs: Float32Array[], ann: string[][], total: number, perDoc: number): number {
  if (qs.length === 0) return NaN
  const best = qs.map(() => [] as Array<{ id: string; s: number }>)
  const replay = vectorStream(7)
  for (let i = 0; i < total; i++) {
    const v = replay()
    const id = `${Math.floor(i / perDoc)}-${i % perDoc}`
    qs.forEach((q, k) => {
      const s = cosine(q, v)
      const top = best[k]!
      if (top.length < 10 || s > top[top.length - 1]!.s) {
        top.push({ id, s })
        top.sort((x, y) => y.s - x.s)
        if (top.length > 10) top.pop()
      }
    })
  }
  let found = 0
  best.forEach((top, k) => (found += top.filter((t) => ann[k]!.includes(t.id)).length))
  return found / (qs.length * 10)
}
