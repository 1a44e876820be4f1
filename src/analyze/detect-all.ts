import { jsonCitationFields } from '../answer/prompt.js'
import { detectCitations } from './detectors/citations.js'
import { detectFormat } from './detectors/format.js'
import { detectUngrounded } from './detectors/grounding.js'
import { detectHedging } from './detectors/hedging.js'
import { detectRefusal, isRefusal } from './detectors/refusal.js'
import { detectRetrieval, hasGold } from './detectors/retrieval.js'
import { detectTone } from './detectors/tone.js'
import type { AnalyzableExample, Finding } from './finding.js'
import { analyzeRules, type AnalyzeRules } from './rules.js'

/**
 * Runs every rule-based detector on one answer and returns what it found (empty: no problem seen).
 * Pure and synchronous, so the failure report, the dataset builder and the eval's metrics all judge
 * an answer the same way. The optional model judge is separate (judgeExample): it costs a generation.
 */
export function detectAll(example: AnalyzableExample, rules: AnalyzeRules = analyzeRules()): Finding[] {
  const { answer } = example
  const refusal = isRefusal(answer)
  const json = example.jsonSchema !== undefined || rules.format.jsonSchema !== undefined || rules.format.json
  const context = contextTexts(example)
  return [
    ...detectFormat(answer, rules.format, example.jsonSchema),
    ...detectHedging(answer, rules.hedging),
    ...detectTone(answer, rules.tone),
    ...detectCitations(answer, example.sources, rules.citations, { refusal, json }),
    // A JSON answer's keys come from the schema, not the sources: only its values are claims.
    ...detectUngrounded(json ? jsonValuesText(answer) : answer, context, rules.grounding, { question: example.question, refusal }),
    ...detectRetrieval(example, { refusal }),
    ...detectRefusal(answer, { goldKnown: hasGold(example.gold) && example.sources !== null }),
  ]
}

/** The texts the answer may draw on; null when none of them is known. */
export function contextTexts(example: Pick<AnalyzableExample, 'sources'>): string[] | null {
  if (example.sources === null) return null
  if (example.sources.length === 0) return []
  const texts = example.sources.flatMap((s) => (s.text === null ? [] : [s.text]))
  return texts.length === 0 ? null : texts
}

/** The distinct categories of a list of findings, in first-seen order. */
export function categoriesOf(findings: Finding[]): string[] {
  return [...new Set(findings.map((f) => f.category))]
}

/**
 * The string and number values of a JSON answer, one per line; the text itself when it is not JSON.
 * Citation fields (`"source": 2`, see jsonCitationFields) are left out, as [n] markers are in prose:
 * a source number is not a claim the sources must support.
 */
export function jsonValuesText(answer: string): string {
  const body = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/i.exec(answer)?.[1] ?? answer
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return answer
  }
  const out: string[] = []
  const walk = (v: unknown): void => {
    if (typeof v === 'string' || typeof v === 'number') out.push(String(v))
    else if (Array.isArray(v)) v.forEach(walk)
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk)
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const citations = new Set(jsonCitationFields(value as Record<string, unknown>))
    for (const [k, v] of Object.entries(value)) if (!citations.has(k)) walk(v)
  } else walk(value)
  return out.join('\n')
}
