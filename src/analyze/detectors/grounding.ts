import { finding, type Finding } from '../finding.js'
import type { AnalyzeRules } from '../rules.js'
import { contentNgrams, contentWords, entities, normalizeText, numbers } from '../text-features.js'

/** What of an answer the context supports, piece by piece. */
export interface Groundedness {
  /**
   * Share of the answer's checkable pieces (numbers, names, content n-grams) found in the context or
   * the question, 0..1. 1 when the answer has nothing checkable (a bare "yes").
   */
  score: number
  numbers: { total: number; unsupported: string[] }
  entities: { total: number; unsupported: string[] }
  ngrams: { total: number; supported: number }
}

export interface GroundednessOptions {
  /** Words of the question count as given: repeating them is not a hallucination. */
  question?: string
  /** Content-word n-gram length; default 2. */
  ngram?: number
}

/**
 * A lexical groundedness score: the answer's numbers, named entities and content-word n-grams that
 * are absent from the retrieved context (and the question) are treated as unsupported. It cannot see
 * paraphrase, so it under-rates faithful rewording, but it is exact about invented numbers and names,
 * the hallucinations that hurt most. Pure and cheap: usable over a whole log and as an eval metric.
 */
export function groundednessScore(answer: string, context: string[], opts: GroundednessOptions = {}): Groundedness {
  const given = [...context, opts.question ?? '']
  const haystack = normalizeText(given.join('\n'))
  const givenNumbers = new Set(given.flatMap(numbers))
  const answerNumbers = [...new Set(numbers(answer))]
  const unsupportedNumbers = answerNumbers.filter((n) => !givenNumbers.has(n))
  const answerEntities = entities(answer).filter((e) => !/^\d/.test(e))
  const unsupportedEntities = answerEntities.filter((e) => !haystack.includes(e.toLowerCase()))
  // An answer shorter than the n-gram length is checked word by word.
  const n = Math.max(1, Math.min(opts.ngram ?? 2, contentWords(answer).length))
  const givenNgrams = new Set(given.flatMap((t) => contentNgrams(t, n)))
  const answerNgrams = contentNgrams(answer, n)
  const supportedNgrams = answerNgrams.filter((g) => givenNgrams.has(g)).length
  // Numbers and names weigh as much as all n-grams together: they are where hallucinations bite.
  const parts: Array<[number, number]> = []
  if (answerNumbers.length) parts.push([(answerNumbers.length - unsupportedNumbers.length) / answerNumbers.length, 1])
  if (answerEntities.length) parts.push([(answerEntities.length - unsupportedEntities.length) / answerEntities.length, 1])
  if (answerNgrams.length) parts.push([supportedNgrams / answerNgrams.length, 2])
  const weight = parts.reduce((s, [, w]) => s + w, 0)
  const score = weight === 0 ? 1 : parts.reduce((s, [v, w]) => s + v * w, 0) / weight
  return {
    score,
    numbers: { total: answerNumbers.length, unsupported: unsupportedNumbers },
    entities: { total: answerEntities.length, unsupported: unsupportedEntities },
    ngrams: { total: answerNgrams.length, supported: supportedNgrams },
  }
}

/**
 * Ungrounded content: a number absent from the context is an error on its own (numbers are either
 * in the sources or invented); unknown names are warnings; a low overall score is an error. Skipped
 * when the context is unknown, and for refusals (which claim nothing).
 */
export function detectUngrounded(answer: string, context: string[] | null, rules: AnalyzeRules['grounding'], opts: { question?: string; refusal?: boolean } = {}): Finding[] {
  if (!rules.enabled || context === null || opts.refusal) return []
  const g = groundednessScore(answer, context, { ngram: rules.ngram, ...(opts.question !== undefined ? { question: opts.question } : {}) })
  const out: Finding[] = []
  if (g.numbers.unsupported.length > 0) {
    out.push(finding('grounding', 'ungrounded', 'ungrounded-number', `expected every number to appear in the sources, got ${g.numbers.unsupported.join(', ')} that do not`,
      { evidence: g.numbers.unsupported, score: g.score }))
  }
  if (g.entities.unsupported.length > 0) {
    out.push(finding('grounding', 'ungrounded', 'ungrounded-entity', `expected names to appear in the sources, got ${g.entities.unsupported.slice(0, 3).join(', ')} that do not`,
      { severity: 'warning', evidence: g.entities.unsupported, score: g.score }))
  }
  if (g.score < rules.minScore) {
    out.push(finding('grounding', 'ungrounded', 'low-groundedness', `expected a groundedness of at least ${rules.minScore}, got ${g.score.toFixed(2)} (${g.ngrams.supported}/${g.ngrams.total} content ${rules.ngram}-grams found in the sources)`,
      { score: g.score }))
  }
  return out
}
