import { RagtuneError } from '../errors.js'

/**
 * Relevance judgments of one query. A set is the common binary case (every member has grade 1); a
 * record carries graded qrels as BEIR and TREC publish them. Only grades > 0 count as relevant, as in
 * trec_eval, so a qrels file may keep its explicit zero judgments without skewing any metric.
 */
export type Relevance = ReadonlySet<string> | Readonly<Record<string, number>>

/** Per-query scores at the cut-offs ragtune reports; kept per query so A/B comparisons can pair them. */
export interface RetrievalMetrics {
  recall1: number
  recall5: number
  recall10: number
  recall20: number
  mrr10: number
  ndcg10: number
}

/** Means over a query set, with the count so two summaries can be checked for comparability. */
export interface RetrievalSummary extends RetrievalMetrics {
  queries: number
}

/**
 * Retrieval returns chunks but datasets judge documents: the document's rank is that of its best
 * chunk, so later chunks of an already-ranked document are dropped instead of taking extra ranks.
 */
export function rankDocuments(hits: readonly { documentId: string }[]): string[] {
  return dedupe(hits.map((h) => h.documentId))
}

/**
 * Fraction of the relevant documents found in the top k (denominator = all relevant documents, not
 * min(k, relevant), matching pytrec_eval's `recall_k` that BEIR reports). 0 when nothing is relevant.
 */
export function recallAt(ranked: readonly string[], relevant: Relevance, k: number): number {
  const total = relevantCount(relevant)
  if (total === 0) return 0
  const found = topK(ranked, k).filter((id) => gradeOf(relevant, id) > 0).length
  return found / total
}

/**
 * Reciprocal rank of the first relevant document within the top k, else 0: rewards putting one good
 * source first, which is what a top-4 RAG context mostly depends on.
 */
export function mrrAt(ranked: readonly string[], relevant: Relevance, k: number): number {
  const index = topK(ranked, k).findIndex((id) => gradeOf(relevant, id) > 0)
  return index < 0 ? 0 : 1 / (index + 1)
}

/**
 * nDCG@k with the trec_eval / pytrec_eval `ndcg_cut` convention that BEIR reports: gain = grade
 * (linear, not 2^grade - 1), discount = log2(rank + 1), ideal ranking = all judged grades sorted
 * descending and cut at k. Linear gain keeps our numbers comparable with published BEIR tables;
 * with binary relevance both conventions agree. 0 when nothing is relevant.
 */
export function ndcgAt(ranked: readonly string[], relevant: Relevance, k: number): number {
  const ideal = grades(relevant)
    .sort((a, b) => b - a)
    .slice(0, k)
  const idcg = dcg(ideal)
  if (idcg === 0) return 0
  return dcg(topK(ranked, k).map((id) => gradeOf(relevant, id))) / idcg
}

/** Every metric ragtune reports for one query, from one ranked list of document ids. */
export function evaluateRanking(ranked: readonly string[], relevant: Relevance): RetrievalMetrics {
  return {
    recall1: recallAt(ranked, relevant, 1),
    recall5: recallAt(ranked, relevant, 5),
    recall10: recallAt(ranked, relevant, 10),
    recall20: recallAt(ranked, relevant, 20),
    mrr10: mrrAt(ranked, relevant, 10),
    ndcg10: ndcgAt(ranked, relevant, 10),
  }
}

/**
 * Macro-average over queries (each query weighs the same, as in BEIR). Throws on an empty list: a
 * mean of nothing would print as a score and hide an upstream bug.
 */
export function summarize(perQuery: readonly RetrievalMetrics[]): RetrievalSummary {
  if (perQuery.length === 0) {
    throw new RagtuneError('EVAL_NO_QUERIES', 'cannot summarize retrieval metrics over 0 queries', {
      hint: 'check that the dataset has queries with relevance judgments for the chosen split',
    })
  }
  const mean = (pick: (m: RetrievalMetrics) => number): number => perQuery.reduce((s, m) => s + pick(m), 0) / perQuery.length
  return {
    queries: perQuery.length,
    recall1: mean((m) => m.recall1),
    recall5: mean((m) => m.recall5),
    recall10: mean((m) => m.recall10),
    recall20: mean((m) => m.recall20),
    mrr10: mean((m) => m.mrr10),
    ndcg10: mean((m) => m.ndcg10),
  }
}

function dedupe(ids: readonly string[]): string[] {
  return [...new Set(ids)]
}

/** Duplicates are dropped before cutting, so a repeated id can neither score twice nor use a rank. */
function topK(ranked: readonly string[], k: number): string[] {
  if (!Number.isInteger(k) || k < 1) {
    throw new RagtuneError('INVALID_ARGUMENT', `metric cut-off k must be a positive integer, got ${String(k)}`)
  }
  return dedupe(ranked).slice(0, k)
}

function gradeOf(relevant: Relevance, id: string): number {
  if (isSet(relevant)) return relevant.has(id) ? 1 : 0
  const grade = Object.hasOwn(relevant, id) ? relevant[id] : undefined
  return grade !== undefined && grade > 0 ? grade : 0
}

function grades(relevant: Relevance): number[] {
  if (isSet(relevant)) return [...relevant].map(() => 1)
  return Object.values(relevant).filter((g) => g > 0)
}

function relevantCount(relevant: Relevance): number {
  return grades(relevant).length
}

function isSet(relevant: Relevance): relevant is ReadonlySet<string> {
  return relevant instanceof Set
}

function dcg(gains: readonly number[]): number {
  return gains.reduce((sum, gain, i) => sum + gain / Math.log2(i + 2), 0)
}
