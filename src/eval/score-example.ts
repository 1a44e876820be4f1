import { parseCitations } from '../answer/prompt.js'
import { checkStructured } from '../answer/structured.js'
import type { AnswerCheckResult } from './answer-checks.js'
import { bestOver, exactMatch, extractLabel, tokenF1 } from './answer-metrics.js'
import type { EvalExample } from './eval-set.js'
import { mrrAt, ndcgAt, rankDocuments, recallAt } from './retrieval-metrics.js'

export interface ScoreInput {
  example: EvalExample
  /** The set's label vocabulary (for label accuracy). */
  labels: readonly string[]
  answer: string
  structured?: unknown
  /** The sources the model saw, in prompt order (source n is sources[n - 1]). */
  sources: ReadonlyArray<{ chunkId: string; path: string }>
  /** Sources the prompt can hold (retrieval topK): recall is measured at this k. */
  k: number
  check: AnswerCheckResult
  latencyMs: number
}

/**
 * The metrics of one example (see metric-definitions.ts), only those its gold data supports: an
 * example without a gold answer has no F1 rather than an F1 of 0, so means are taken over the
 * examples that can be scored. Pure: an eval run is these numbers plus provenance.
 */
export function scoreExample(input: ScoreInput): { metrics: Record<string, number>; predictedLabel: string | null } {
  const { example, answer, sources, check } = input
  const m: Record<string, number> = {}
  const gold = new Set(example.goldDocIds)
  const isGold = (s: { chunkId: string; path: string }): boolean => gold.has(s.chunkId) || gold.has(s.path)

  if (gold.size > 0) {
    // A hit counts under the gold id it matches (chunk or document), else under its document.
    const ranked = rankDocuments(sources.map((s) => ({ documentId: gold.has(s.chunkId) ? s.chunkId : s.path })))
    const k = Math.max(1, input.k)
    m.recall = recallAt(ranked, gold, k)
    m.mrr = mrrAt(ranked, gold, k)
    m.ndcg = ndcgAt(ranked, gold, k)
  }
  if (example.answers.length > 0) {
    m.exact_match = bestOver(example.answers, (g) => exactMatch(answer, g))
    m.f1 = bestOver(example.answers, (g) => tokenF1(answer, g))
  }
  let predictedLabel: string | null = null
  if (example.label !== null) {
    predictedLabel = extractLabel(answer, input.labels, input.structured)
    m.label_accuracy = predictedLabel === example.label ? 1 : 0
  }
  if (example.schema) m.schema_valid = checkStructured(answer, example.schema).ok ? 1 : 0
  else if (check.schemaValid !== undefined) m.schema_valid = check.schemaValid ? 1 : 0
  m.format_ok = check.categories.includes('format') ? 0 : 1
  if (sources.length > 0) {
    const cited = parseCitations(answer)
    const good = cited.filter((n) => n >= 1 && n <= sources.length && (gold.size === 0 || isGold(sources[n - 1]!)))
    m.citation_accuracy = cited.length === 0 ? 0 : good.length / cited.length
    m.hallucination = check.categories.includes('ungrounded') ? 1 : 0
  }
  if (check.groundedness !== null) m.groundedness = check.groundedness
  m.refusal = check.categories.includes('refusal') ? 1 : 0
  m.latency_ms = input.latencyMs
  return { metrics: m, predictedLabel }
}

/** Mean of each metric over the examples that have it. */
export function summarizeMetrics(perExample: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const sums = new Map<string, { total: number; n: number }>()
  for (const metrics of perExample) {
    for (const [name, value] of Object.entries(metrics)) {
      const s = sums.get(name) ?? { total: 0, n: 0 }
      s.total += value
      s.n++
      sums.set(name, s)
    }
  }
  return Object.fromEntries([...sums].map(([name, s]) => [name, s.total / s.n]))
}
