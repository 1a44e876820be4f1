import type { ChunkOptions } from '../spec/chunker.js'
import type { EmbeddingModel } from '../spec/embedding-model.js'
import type { Reranker } from '../spec/reranker.js'
import type { ChunkRecord, Store } from '../spec/store.js'
import { throwIfAborted } from '../errors.js'
import { RecursiveSplitter } from '../ingest/chunk/recursive-splitter.js'
import { retrieve, type RetrieveOptions } from '../retrieve/retrieve.js'
import type { RetrievalDataset } from './datasets/retrieval-dataset.js'
import { evaluateRanking, rankDocuments, summarize, type RetrievalMetrics, type RetrievalSummary } from './retrieval-metrics.js'

export interface RetrievalEvalOptions {
  dataset: RetrievalDataset
  /** A scratch store: the dataset's documents are written into it. */
  store: Store
  embedder: EmbeddingModel
  reranker?: Reranker
  chunking: ChunkOptions
  retrieval: Omit<RetrieveOptions, 'signal' | 'topK'>
  /** Evaluate only the first N queries (quick runs). */
  limit?: number
  batchSize?: number
  signal?: AbortSignal
  onProgress?: (p: { phase: 'index' | 'query'; done: number; total: number }) => void
}

export interface RetrievalEvalReport {
  dataset: string
  mode: RetrieveOptions['mode']
  reranked: boolean
  embeddingModel: string
  rerankerModel: string | null
  documents: number
  chunks: number
  metrics: RetrievalSummary
  perQuery: Array<{ id: string } & RetrievalMetrics>
  indexMs: number
  queryMsP50: number
  queryMsP99: number
  warnings: string[]
}

/** Depth of the evaluated ranking: recall@20 needs 20 documents. */
const EVAL_DEPTH = 20

/**
 * Builds the dataset's corpus in the scratch store with the same chunker and embedder as `index`,
 * then runs every query through the same retrieve() as `search`, so the numbers describe ragtune's
 * real pipeline. Chunk hits are folded to documents (first occurrence) before scoring.
 */
export async function runRetrievalEval(opts: RetrievalEvalOptions): Promise<RetrievalEvalReport> {
  const { dataset, store, embedder } = opts
  const splitter = new RecursiveSplitter(embedder)
  const t0 = performance.now()
  let chunkTotal = 0
  const batch = opts.batchSize ?? 64
  for (let i = 0; i < dataset.documents.length; i += batch) {
    throwIfAborted(opts.signal)
    const docs = dataset.documents.slice(i, i + batch)
    const perDoc = docs.map((d) => {
      const text = d.title ? `# ${d.title}\n\n${d.text}` : d.text
      return splitter.chunk({ documentPath: d.id, text }, opts.chunking)
    })
    const flat = perDoc.flat()
    const vectors = await embedder.doEmbed(flat.map((c) => c.text), { kind: 'document', signal: opts.signal })
    let v = 0
    for (const [j, doc] of docs.entries()) {
      const chunks: ChunkRecord[] = perDoc[j]!.map((c) => ({ id: c.id, documentPath: doc.id, ordinal: c.ordinal, text: c.text, headingPath: c.headingPath, tokenCount: c.tokenCount, embedding: vectors[v++]! }))
      await store.replaceDocument({ path: doc.id, contentHash: '', size: doc.text.length, format: 'dataset', chunkCount: chunks.length, indexedAt: new Date().toISOString(), ...(doc.title ? { title: doc.title } : {}) }, chunks)
      chunkTotal += chunks.length
    }
    opts.onProgress?.({ phase: 'index', done: Math.min(i + batch, dataset.documents.length), total: dataset.documents.length })
  }
  const indexMs = performance.now() - t0

  const queries = opts.limit ? dataset.queries.slice(0, opts.limit) : dataset.queries
  const perQuery: RetrievalEvalReport['perQuery'] = []
  const latencies: number[] = []
  const warnings = [...dataset.warnings]
  const deep = { ...opts.retrieval, candidates: Math.max(opts.retrieval.candidates, EVAL_DEPTH), denseK: Math.max(opts.retrieval.denseK, EVAL_DEPTH), lexicalK: Math.max(opts.retrieval.lexicalK, EVAL_DEPTH) }
  for (const [i, q] of queries.entries()) {
    throwIfAborted(opts.signal)
    const res = await retrieve({ store, embedder, reranker: opts.reranker }, q.text, { ...deep, topK: deep.candidates, signal: opts.signal })
    latencies.push(res.timings.totalMs)
    for (const w of res.warnings) if (!warnings.includes(w)) warnings.push(w)
    const ranked = rankDocuments(res.hits.map((h) => ({ documentId: h.documentPath })))
    perQuery.push({ id: q.id, ...evaluateRanking(ranked, q.relevant) })
    opts.onProgress?.({ phase: 'query', done: i + 1, total: queries.length })
  }
  latencies.sort((a, b) => a - b)
  return {
    dataset: dataset.name,
    mode: opts.retrieval.mode,
    reranked: opts.retrieval.rerank && !!opts.reranker,
    embeddingModel: embedder.id,
    rerankerModel: opts.retrieval.rerank && opts.reranker ? opts.reranker.id : null,
    documents: dataset.documents.length,
    chunks: chunkTotal,
    metrics: summarize(perQuery),
    perQuery,
    indexMs,
    queryMsP50: percentile(latencies, 0.5),
    queryMsP99: percentile(latencies, 0.99),
    warnings,
  }
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}
