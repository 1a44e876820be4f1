import type { RetrievalMode } from '../config/schema.js'
import type { EmbeddingModel } from '../spec/embedding-model.js'
import type { Reranker } from '../spec/reranker.js'
import type { Store, StoreHit } from '../spec/store.js'
import { RagtuneError, throwIfAborted } from '../errors.js'
import { reciprocalRankFusion, type StageScore } from './fusion.js'

export interface RetrieveOptions {
  mode: RetrievalMode
  denseK: number
  lexicalK: number
  /** Fused candidates kept for the reranker. */
  candidates: number
  rrfK: number
  topK: number
  /** Rerank with the cross-encoder when one is given. */
  rerank: boolean
  signal?: AbortSignal
}

/** Every stage's evidence for one hit: what the log, the dataset builder and the eval need. */
export interface HitScores {
  dense?: StageScore
  lexical?: StageScore
  /** RRF score (hybrid) or the single stage's score. */
  fused: number
  rerank?: number
}

export interface RetrievedHit extends Omit<StoreHit, 'score'> {
  /** Final position, from 1. */
  rank: number
  scores: HitScores
}

export interface RetrievalResult {
  query: string
  mode: RetrievalMode
  hits: RetrievedHit[]
  /** How many candidates reached the reranker (or the cut to topK). */
  candidateCount: number
  embeddingModel: string | null
  rerankerModel: string | null
  timings: { embedMs: number; denseMs: number; lexicalMs: number; rerankMs: number; totalMs: number }
  warnings: string[]
}

export interface RetrieveDeps {
  store: Store
  /** Needed for dense and hybrid modes. */
  embedder?: EmbeddingModel
  reranker?: Reranker
}

/** Dense and lexical candidates, fused by RRF, optionally reranked by a cross-encoder, cut to topK. */
export async function retrieve(deps: RetrieveDeps, query: string, opts: RetrieveOptions): Promise<RetrievalResult> {
  const q = query.trim()
  if (!q) throw new RagtuneError('QUERY_EMPTY', 'the query is empty', { hint: 'pass a question, e.g. ragtune search "how do I rotate keys?"' })
  const t0 = performance.now()
  const timings = { embedMs: 0, denseMs: 0, lexicalMs: 0, rerankMs: 0, totalMs: 0 }
  const warnings: string[] = []
  const lists: Record<string, Array<{ item: StoreHit; score: number }>> = {}

  const wantDense = opts.mode !== 'lexical'
  if (wantDense && !deps.embedder) throw new RagtuneError('RETRIEVE_NO_EMBEDDER', `mode "${opts.mode}" needs an embedding model`, { hint: 'use --mode lexical or configure models.embedder' })
  const dense = wantDense
    ? (async () => {
        const e0 = performance.now()
        const [vec] = await deps.embedder!.doEmbed([q], { kind: 'query', signal: opts.signal })
        timings.embedMs = performance.now() - e0
        const d0 = performance.now()
        const hits = await deps.store.searchDense(vec!, opts.denseK)
        timings.denseMs = performance.now() - d0
        return hits
      })()
    : Promise.resolve(null)
  const lexical =
    opts.mode !== 'dense'
      ? (async () => {
          const l0 = performance.now()
          const hits = await deps.store.searchLexical(q, opts.lexicalK)
          timings.lexicalMs = performance.now() - l0
          return hits
        })()
      : Promise.resolve(null)
  const [denseHits, lexicalHits] = await Promise.all([dense, lexical])
  throwIfAborted(opts.signal)
  if (denseHits) lists.dense = denseHits.map((h) => ({ item: h, score: h.score }))
  if (lexicalHits) lists.lexical = lexicalHits.map((h) => ({ item: h, score: h.score }))

  const fused = reciprocalRankFusion(lists, { key: (h) => h.chunkId, k: opts.rrfK })
  const single = opts.mode !== 'hybrid'
  const candidates = fused.slice(0, opts.candidates).map((f) => ({
    hit: f.item,
    scores: { ...f.stages, fused: single ? f.item.score : f.score } as HitScores,
  }))

  let ordered = candidates
  if (opts.rerank && deps.reranker && candidates.length > 0) {
    const r0 = performance.now()
    const scores = await deps.reranker.doRerank(q, candidates.map((c) => c.hit.text), { signal: opts.signal })
    timings.rerankMs = performance.now() - r0
    candidates.forEach((c, i) => (c.scores.rerank = scores[i]))
    // Stable: equal rerank scores keep their fused order.
    ordered = candidates.map((c, i) => ({ c, i })).sort((a, b) => b.c.scores.rerank! - a.c.scores.rerank! || a.i - b.i).map((x) => x.c)
  } else if (opts.rerank && !deps.reranker) {
    warnings.push('reranking was requested but no reranker is configured; results are in fused order')
  }

  const hits = ordered.slice(0, opts.topK).map(({ hit, scores }, i): RetrievedHit => {
    const { score: _score, ...rest } = hit
    return { ...rest, rank: i + 1, scores }
  })
  timings.totalMs = performance.now() - t0
  return {
    query: q,
    mode: opts.mode,
    hits,
    candidateCount: candidates.length,
    embeddingModel: wantDense ? deps.embedder!.id : null,
    rerankerModel: opts.rerank && deps.reranker ? deps.reranker.id : null,
    timings,
    warnings,
  }
}
