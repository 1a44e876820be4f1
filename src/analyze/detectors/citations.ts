import { parseCitations } from '../../answer/prompt.js'
import { finding, type ExampleSource, type Finding } from '../finding.js'
import type { AnalyzeRules } from '../rules.js'
import { contentOverlap, sentences } from '../text-features.js'

/** How an answer's [n] markers relate to the sources it was given. */
export interface CitationCheck {
  /** Every number cited, in order of first use. */
  cited: number[]
  /** Cited numbers that were never given (n < 1 or n > sources). */
  invalid: number[]
  /** Citations whose source text shares too little with the citing sentence; only sources with text are judged. */
  unsupported: Array<{ n: number; sentence: string; overlap: number }>
  /** Valid citations whose source text could be judged. */
  judged: number
  /**
   * Share of cited numbers that are valid and supported (judged ones only count as supported when
   * they pass): the citation accuracy metric. null when nothing is cited.
   */
  accuracy: number | null
}

/**
 * Checks every citation: was the source given, and does its text support the sentence that cites it
 * (shares at least `minSupport` of the sentence's content words)? The sentence check is coarse but
 * catches the common fault of a right-looking [2] on a claim that came from [1] or from nowhere.
 */
export function checkCitations(answer: string, sources: ExampleSource[], opts: { minSupport?: number } = {}): CitationCheck {
  const minSupport = opts.minSupport ?? 0.2
  const cited = parseCitations(answer)
  const byN = new Map(sources.map((s) => [s.n, s]))
  const invalid = cited.filter((n) => !byN.has(n))
  const unsupported: CitationCheck['unsupported'] = []
  const pairs = new Map<number, { judged: boolean; ok: boolean }>()
  for (const sentence of sentences(answer)) {
    for (const n of parseCitations(sentence)) {
      const text = byN.get(n)?.text
      if (text == null) continue
      const overlap = contentOverlap(sentence, text)
      const ok = overlap >= minSupport
      if (!ok) unsupported.push({ n, sentence, overlap })
      const prev = pairs.get(n)
      pairs.set(n, { judged: true, ok: (prev?.ok ?? true) && ok })
    }
  }
  const good = cited.filter((n) => byN.has(n) && (pairs.get(n)?.ok ?? true)).length
  return { cited, invalid, unsupported, judged: pairs.size, accuracy: cited.length === 0 ? null : good / cited.length }
}

/**
 * Citation faults: a number that was not given (the model invented a source), no citation at all
 * when sources were given (and the answer is neither a refusal nor JSON), and a citation whose
 * source does not support its sentence (a warning: paraphrase can fool the overlap check).
 */
export function detectCitations(
  answer: string,
  sources: ExampleSource[] | null,
  rules: AnalyzeRules['citations'],
  opts: { refusal: boolean; json: boolean },
): Finding[] {
  if (sources === null) return []
  const check = checkCitations(answer, sources, { minSupport: rules.minSupport })
  const out: Finding[] = []
  if (check.invalid.length > 0) {
    out.push(finding('citations', 'citation', 'cites-missing-source',
      `expected citations of sources 1..${sources.length}, got ${check.invalid.map((n) => `[${n}]`).join(', ')}`, { evidence: check.invalid.map((n) => `[${n}]`) }))
  }
  if (rules.required && check.cited.length === 0 && sources.length > 0 && !opts.refusal && !opts.json && answer.trim() !== '') {
    out.push(finding('citations', 'citation', 'no-citation', `expected at least one [n] citation of the ${sources.length} source(s), got none`))
  }
  if (check.unsupported.length > 0) {
    const u = check.unsupported[0]!
    out.push(finding('citations', 'citation', 'citation-unsupported',
      `expected source [${u.n}] to support "${truncate(u.sentence, 80)}", but it shares only ${Math.round(u.overlap * 100)}% of its content words`,
      { severity: 'warning', evidence: check.unsupported.map((x) => `[${x.n}] ${truncate(x.sentence, 60)}`) }))
  }
  return out
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s
}
