/**
 * Plain-text features the detectors share: words, sentences, numbers, names and content n-grams.
 * Deliberately simple and deterministic (no model): detectors must be cheap enough to run over a
 * whole query log, and their verdicts must be explainable by pointing at the words involved.
 */

/** Common English function words; they carry no claim, so grounding ignores them. */
const STOPWORDS = new Set(
  ('a an the and or but nor so yet of to in on at by for with from into onto over under about above below between among ' +
    'is are was were be been being am do does did doing have has had having will would shall should can could may might must ' +
    'i me my we us our you your he him his she her it its they them their this that these those there here what which who whom ' +
    'whose when where why how all any both each few more most other some such no not only own same than too very just also ' +
    'as if then else because while until after before again further once up down out off per via within without upon whether ' +
    'etc yes one s t').split(' '),
)

/** Lower-case word tokens (letters, digits, inner apostrophes and hyphens). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) ?? []
}

/** Crude suffix stripping, so "rotated" supports "rotate" and "keys" supports "key". */
export function stem(word: string): string {
  if (word.length <= 4) return word
  return word.replace(/(?:ing|ed|es|s)$/u, '') || word
}

/** Words that carry content: no stopwords, no bare citation numbers; stemmed. */
export function contentWords(text: string): string[] {
  return words(stripCitations(text)).filter((w) => !STOPWORDS.has(w)).map(stem)
}

/** Removes [n] and [1, 2] markers: they are references, not claims. */
export function stripCitations(text: string): string {
  return text.replace(/\[\d+(?:\s*,\s*\d+)*\]/g, ' ')
}

/** Sentences, split on . ! ? and line breaks; keeps decimal points and abbreviations like "e.g." mostly intact. */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'([])|\n+/u)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

/**
 * Numbers as written, normalised so "1,000" equals "1000" and "3.50" equals "3.5". Citation markers
 * are not numbers of the answer.
 */
export function numbers(text: string): string[] {
  const found = stripCitations(text).match(/(?<![\p{L}\p{N}])\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?/gu) ?? []
  return found.map(normalizeNumber)
}

export function normalizeNumber(n: string): string {
  const plain = n.replace(/,/g, '')
  return plain.includes('.') ? plain.replace(/\.?0+$/, '') : plain.replace(/^0+(?=\d)/, '')
}

/**
 * Named entities, approximately: runs of capitalised words that do not start a sentence, and
 * acronyms (2+ capitals) anywhere. A sentence-initial word counts only inside a longer run
 * ("Raymond III"), since most sentences start with a capital for grammar, not for names.
 */
export function entities(text: string): string[] {
  const out = new Set<string>()
  for (const sentence of sentences(stripCitations(text))) {
    const tokens = sentence.match(/[\p{L}\p{N}]+(?:['’.-][\p{L}\p{N}]+)*/gu) ?? []
    let run: string[] = []
    let runStartsSentence = false
    const flush = (): void => {
      if (run.length > 1 || (run.length === 1 && !runStartsSentence)) {
        const name = run.join(' ')
        if (!STOPWORDS.has(name.toLowerCase())) out.add(name)
      }
      run = []
    }
    tokens.forEach((t, i) => {
      const capital = /^\p{Lu}/u.test(t) && !/^\d/.test(t)
      if (capital) {
        if (run.length === 0) runStartsSentence = i === 0
        run.push(t)
      } else flush()
    })
    flush()
  }
  return [...out]
}

/** Consecutive n-grams of content words, joined by a space. */
export function contentNgrams(text: string, n: number): string[] {
  const w = contentWords(text)
  const out: string[] = []
  for (let i = 0; i + n <= w.length; i++) out.push(w.slice(i, i + n).join(' '))
  return out
}

/** Lower-case, single-spaced text: what "appears in the context" is checked against. */
export function normalizeText(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim()
}

/** Fraction of `a`'s content words that also occur in `b` (0 when `a` has none). */
export function contentOverlap(a: string, b: string): number {
  const aw = contentWords(a)
  if (aw.length === 0) return 0
  const bw = new Set(contentWords(b))
  return aw.filter((w) => bw.has(w)).length / aw.length
}
