import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RetrievalMode } from '../src/config/schema.js'
import { TransformersReranker } from '../src/models/transformers/transformers-reranker.js'
import { retrieve, type RetrievalResult } from '../src/retrieve/retrieve.js'
import type { ChunkRecord } from '../src/spec/store.js'
import { PGliteStore } from '../src/store/pglite-store.js'
import { envInt } from './lib/env.js'
import { fmt, note, printTable } from './lib/format.js'
import { ensureBenchModel, MINILM_L6_CROSS_ENCODER } from './lib/models.js'
import { DEFAULTS } from './lib/ragtune-index.js'
import type { BenchResult } from './lib/results.js'
import { randomUnitVector, seededRandom, sentence, wordSampler } from './lib/rng.js'
import { percentile, summarize } from './lib/stats.js'
import { loadBenchEncoder } from './indexing.js'

const MODES: Array<{ label: string; mode: RetrievalMode; rerank: boolean }> = [
  { label: 'lexical', mode: 'lexical', rerank: false },
  { label: 'dense', mode: 'dense', rerank: false },
  { label: 'hybrid', mode: 'hybrid', rerank: false },
  { label: 'hybrid + rerank', mode: 'hybrid', rerank: true },
]

/** Synthetic chunk text of about `words` words (Zipf-distributed common English words). */
function chunkText(random: () => number, word: () => string, words: number): string {
  let text = ''
  while (text.split(' ').length < words) text += `${sentence(random, word)} `
  return text.trim()
}

export async function runSearch(): Promise<BenchResult> {
  const target = envInt('BENCH_SEARCH_CHUNKS', 100_000)
  const fillBudgetMs = envInt('BENCH_SEARCH_FILL_S', 120) * 1000
  const perDoc = envInt('BENCH_SEARCH_DOC_CHUNKS', 50)
  const words = envInt('BENCH_SEARCH_WORDS', 64)
  const queries = envInt('BENCH_SEARCH_QUERIES', 200)
  const fullRerank = envInt('BENCH_SEARCH_FULL_RERANK', 5)
  const embedder = await loadBenchEncoder(DEFAULTS.models.embedder.batchSize)
  const reranker = await TransformersReranker.load({ model: await ensureBenchModel('minilm-l6-cross-encoder-random', MINILM_L6_CROSS_ENCODER), offline: true })
  const tempRoot = await mkdtemp(join(tmpdir(), 'ragtune-bench-search-'))
  const store = await PGliteStore.open({ dataDir: join(tempRoot, 'store') })
  const notes: string[] = []
  try {
    await store.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
    const random = seededRandom(3)
    const word = wordSampler(random)
    const fill: Array<{ rows: number; elapsedMs: number; msPerRowLastBlock: number }> = []
    let rows = 0
    let writeMs = 0
    let blockStart = 0
    const t0 = performance.now()
    const insert = async (): Promise<void> => {
      for (let d = 0; rows < target && performance.now() - t0 < fillBudgetMs; d++) {
        const path = `synthetic/doc-${d}.md`
        const n = Math.min(perDoc, target - rows)
        const chunks: ChunkRecord[] = Array.from({ length: n }, (_, i) => {
          const text = chunkText(random, word, words)
          return { id: `${d}-${i}`, documentPath: path, ordinal: i, text, headingPath: [], tokenCount: words, embedding: randomUnitVector(random, embedder.dimensions) }
        })
        const w0 = performance.now()
        await store.replaceDocument({ path, contentHash: String(d), size: 0, format: 'md', chunkCount: n, indexedAt: new Date().toISOString() }, chunks)
        writeMs += performance.now() - w0
        rows += n
        if (rows - (fill.at(-1)?.rows ?? 0) >= 10_000 || rows >= target) {
          const last = fill.at(-1)
          fill.push({ rows, elapsedMs: performance.now() - t0, msPerRowLastBlock: (writeMs - blockStart) / (rows - (last?.rows ?? 0)) })
          blockStart = writeMs
          note(`search: ${rows} chunks stored, ${fmt((performance.now() - t0) / 1000)} s`)
        }
      }
    }
    // The store's bulk path (vector index built once at the end) when it has one, as a first index uses.
    let insertMs = 0
    if (store.bulkLoad) {
      await store.bulkLoad(async () => {
        await insert()
        insertMs = performance.now() - t0
        note('search: building the vector index')
      })
    } else {
      await insert()
      insertMs = performance.now() - t0
    }
    const fillMs = performance.now() - t0
    const indexBuildMs = fillMs - insertMs
    const reached = await store.chunkCount()
    const bulk = !!store.bulkLoad
    if (reached < target) {
      const msg = `search store reached ${reached} of ${target} chunks: the ${fillBudgetMs / 1000} s insert budget (BENCH_SEARCH_FILL_S) ran out at ${fmt(fill.at(-1)?.msPerRowLastBlock ?? writeMs / reached)} ms per chunk${bulk ? '' : ' (the HNSW index is updated on every insert)'}`
      note(msg)
      notes.push(msg)
    }

    const { lexicalBackend, diskBytes } = await store.stats()
    const qRandom = seededRandom(11)
    const qWord = wordSampler(qRandom)
    const questions = Array.from({ length: queries + 10 }, () => Array.from({ length: 4 + Math.floor(qRandom() * 7) }, qWord).join(' '))
    const results: Record<string, RetrievalResult[]> = Object.fromEntries(MODES.map((m) => [m.label, []]))
    for (const [i, q] of questions.entries()) {
      // Rotate the mode order per query so none always runs on a cold or warm cache.
      for (let k = 0; k < MODES.length; k++) {
        const m = MODES[(k + i) % MODES.length]!
        const res = await retrieve({ store, embedder, reranker }, q, { ...DEFAULTS.retrieval, mode: m.mode, rerank: m.rerank })
        if (i >= 10) results[m.label]!.push(res) // the first 10 are warm-up
      }
    }
    const stat = (label: string, f: (r: RetrievalResult) => number) => summarize(results[label]!.map(f))
    const table = MODES.map((m) => ({
      mode: m.label,
      total: stat(m.label, (r) => r.timings.totalMs),
      embed: stat(m.label, (r) => r.timings.embedMs),
      dense: stat(m.label, (r) => r.timings.denseMs),
      lexical: stat(m.label, (r) => r.timings.lexicalMs),
      rerank: stat(m.label, (r) => r.timings.rerankMs),
      hits: percentile(results[m.label]!.map((r) => r.hits.length), 0.5),
    }))
    printTable(
      `search: ${reached} chunks (${words}-word texts, random 384-d unit vectors, lexical ${lexicalBackend}), ${queries} queries per mode; bge-small-shaped query encoder, MiniLM-L-6-shaped cross-encoder over ${DEFAULTS.retrieval.candidates} candidates (random weights: SPEED ONLY)`,
      ['mode', 'p50 ms', 'p99 ms', 'mean ms', 'embed p50', 'dense p50', 'lexical p50', 'rerank p50', 'rerank p99'],
      table.map((t) => [t.mode, t.total.p50, t.total.p99, t.total.mean, t.embed.p50, t.dense.p50, t.lexical.p50, t.rerank.p50, t.rerank.p99]),
    )

    // What reranking costs with real chunk sizes: 20 candidates of a full 510 tokens each.
    const longTexts = Array.from({ length: DEFAULTS.retrieval.candidates }, () => {
      let text = ''
      while (embedder.countTokens(text) < embedder.maxInputTokens) text += `${sentence(random, word)} `
      return text
    })
    const fullMs: number[] = []
    for (let i = 0; i < fullRerank; i++) {
      const r0 = performance.now()
      await reranker.doRerank(questions[i]!, longTexts)
      fullMs.push(performance.now() - r0)
    }
    const full = summarize(fullMs)
    printTable('search: fill and rerank cost', ['measure', 'value'], [
      ['fill: chunks stored', reached],
      [`fill: store.${bulk ? 'bulkLoad + ' : ''}replaceDocument, seconds in all`, fillMs / 1000],
      ['fill: inserts, ms per chunk (all)', writeMs / reached],
      ['fill: inserts, ms per chunk (last 10k block)', fill.at(-1)?.msPerRowLastBlock ?? NaN],
      ['fill: vector index build at the end, seconds', bulk ? indexBuildMs / 1000 : NaN],
      [`rerank ${DEFAULTS.retrieval.candidates} x 510-token candidates: median ms (${fullRerank} queries)`, fullRerank ? full.p50 : NaN],
    ])
    notes.push(
      `Chunk texts are ${words} words (~${words + 10} tokens) to keep the fill fast; the reranker's cost grows with candidate length, so the 510-token measurement shows what real 512-token chunks cost.`,
      'Dense and hybrid totals include embedding the query (embed column); dense and lexical run concurrently in hybrid mode.',
      bulk
        ? `Fill: store.bulkLoad around store.replaceDocument calls of ${perDoc} chunks (the path indexFolder takes for a first index): HNSW dropped, rows inserted (BM25 kept current), HNSW built once at the end.`
        : `Fill: store.replaceDocument calls of ${perDoc} chunks; this store has no bulkLoad, so the HNSW index is updated on every insert.`,
    )
    return {
      data: { target, reached, lexicalBackend, diskBytes, perDoc, words, queries, bulk, fillMs, insertMs, indexBuildMs, writeMs, fill, modes: table, fullLengthRerank: full },
      goals: [],
      notes,
    }
  } finally {
    await store.close()
    await Promise.all([embedder.dispose(), reranker.dispose()])
    await rm(tempRoot, { recursive: true, force: true })
  }
}
