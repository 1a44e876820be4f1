import { analyzeRules, detectAll, groundednessScore, isRefusal, jsonValuesText, type AnalyzableExample, type AnalyzeRules } from '../analyze/index.js'

/**
 * The answer-quality detectors an eval run applies (format and schema, citation faults,
 * groundedness, refusals), behind a small interface: the eval judges answers exactly as the failure
 * report does (src/analyze), and a team with a model judge or its own rules can pass another.
 */

/** One source the model saw, numbered as the answer cites it. */
export interface CheckedSource {
  n: number
  text: string
  path: string
  chunkId: string
}

export interface AnswerCheckInput {
  id: string
  question: string
  answer: string
  sources: CheckedSource[]
  /** Why generation stopped: an answer cut at maxTokens is a format fault whatever its text. */
  finishReason: 'stop' | 'length' | 'abort'
  gold?: { documents?: string[] }
  jsonSchema?: Record<string, unknown>
}

/**
 * Failure categories found in the answer, named as the analysis module names them (`format`,
 * `schema`, `citation`, `ungrounded`, `refusal`, ...), and a groundedness score when there is one.
 */
export interface AnswerCheckResult {
  categories: string[]
  /** 0..1, share of the answer its sources support; null without sources, and for refusals. */
  groundedness: number | null
  /**
   * Whether the answer satisfies the JSON Schema the checks hold it to (the team's
   * `analyze.format.jsonSchema` when the example brings none); absent when there is no schema.
   */
  schemaValid?: boolean
}

export interface AnswerChecks {
  /** Recorded with each run, so runs judged by different detectors are not compared blindly. */
  readonly name: string
  check(input: AnswerCheckInput, opts?: { signal?: AbortSignal }): AnswerCheckResult | Promise<AnswerCheckResult>
}

/**
 * The analysis module's rule-based detectors as eval checks. Only error-severity findings count
 * (warnings are for people to look at, not for a gate), except refusals, which are counted whenever
 * the answer refuses: the refusal rate is a metric of its own.
 */
export function analysisAnswerChecks(rules: AnalyzeRules = analyzeRules()): AnswerChecks {
  return {
    name: 'analyze',
    check(input) {
      const example: AnalyzableExample = {
        id: input.id,
        question: input.question,
        answer: input.answer,
        sources: input.sources.map((s) => ({ n: s.n, text: s.text, path: s.path, chunkId: s.chunkId })),
        ...(input.gold?.documents?.length ? { gold: { documents: input.gold.documents } } : {}),
        ...(input.jsonSchema ? { jsonSchema: input.jsonSchema } : {}),
      }
      const findings = detectAll(example, rules)
      const categories = new Set(findings.filter((f) => f.severity === 'error').map((f) => f.category as string))
      if (input.answer.trim() === '' || input.finishReason !== 'stop') categories.add('format')
      const refused = isRefusal(input.answer)
      if (refused) categories.add('refusal')
      const texts = input.sources.map((s) => s.text)
      // As in detectAll: a JSON answer's keys come from the schema, only its values are claims.
      const json = input.jsonSchema !== undefined || rules.format.jsonSchema !== undefined || rules.format.json
      const claims = json ? jsonValuesText(input.answer) : input.answer
      const groundedness = refused || texts.length === 0 ? null : groundednessScore(claims, texts, { question: input.question, ngram: rules.grounding.ngram }).score
      const schema = input.jsonSchema ?? rules.format.jsonSchema
      const schemaValid = schema ? !findings.some((f) => f.detector === 'format' && f.category === 'schema') : undefined
      return { categories: [...categories], groundedness, ...(schemaValid !== undefined ? { schemaValid } : {}) }
    },
  }
}
