/**
 * Answer metrics against gold answers, with SQuAD's official normalisation (lower case, no
 * punctuation, no English articles, single spaces) so the numbers mean what readers of QA papers
 * expect. Pure functions: the eval runner and the tests call the same code.
 */

/** ASCII punctuation, as Python's string.punctuation that the SQuAD script strips. */
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g
const ARTICLES = /\b(a|an|the)\b/g

/** SQuAD's normalize_answer. */
export function normalizeAnswer(text: string): string {
  return text.toLowerCase().replace(PUNCTUATION, '').replace(ARTICLES, ' ').split(/\s+/).filter(Boolean).join(' ')
}

function tokens(text: string): string[] {
  const n = normalizeAnswer(text)
  return n === '' ? [] : n.split(' ')
}

/** 1 when the normalised strings are equal, else 0. */
export function exactMatch(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0
}

/**
 * Token-overlap F1 (bag of words with counts). Two empty answers agree (1); one empty answer
 * against a non-empty one scores 0, as in the SQuAD v2 script.
 */
export function tokenF1(prediction: string, gold: string): number {
  const p = tokens(prediction)
  const g = tokens(gold)
  if (p.length === 0 || g.length === 0) return p.length === g.length ? 1 : 0
  const counts = new Map<string, number>()
  for (const t of g) counts.set(t, (counts.get(t) ?? 0) + 1)
  let common = 0
  for (const t of p) {
    const left = counts.get(t) ?? 0
    if (left > 0) {
      common++
      counts.set(t, left - 1)
    }
  }
  if (common === 0) return 0
  const precision = common / p.length
  const recall = common / g.length
  return (2 * precision * recall) / (precision + recall)
}

/** A metric against several acceptable answers takes the best one, as SQuAD does. */
export function bestOver(golds: readonly string[], score: (gold: string) => number): number {
  return golds.length === 0 ? 0 : Math.max(...golds.map(score))
}

/**
 * The label a free-text answer commits to, for classification sets (PubMedQA's yes/no/maybe): the
 * first label word in the normalised answer, or a `label`/`answer` field of a structured answer.
 * Null when the answer names none of them, which counts as wrong.
 */
export function extractLabel(answer: string, labels: readonly string[], structured?: unknown): string | null {
  const wanted = new Map(labels.map((l) => [normalizeAnswer(l), l]))
  if (structured && typeof structured === 'object' && !Array.isArray(structured)) {
    for (const key of ['label', 'answer', 'decision']) {
      const v = (structured as Record<string, unknown>)[key]
      if (typeof v === 'string' && wanted.has(normalizeAnswer(v))) return wanted.get(normalizeAnswer(v))!
    }
  }
  const words = tokens(answer)
  // Multi-word labels are matched as phrases; the earliest start wins.
  let best: { at: number; label: string } | null = null
  for (const [norm, label] of wanted) {
    const parts = norm.split(' ')
    for (let i = 0; i + parts.length <= words.length && (best === null || i < best.at); i++) {
      if (parts.every((w, j) => words[i + j] === w)) {
        best = { at: i, label }
        break
      }
    }
  }
  return best?.label ?? null
}
