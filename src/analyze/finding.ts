/**
 * The failure categories ragtune knows. A LoRA adapter can fix how a model answers (format, schema,
 * hedging, tone, citations, grounding, needless refusals) but not what retrieval never found, so
 * `retrieval-miss` is reported apart from the rest. Teams may add their own (via labels or a judge).
 */
export const FAILURE_CATEGORIES = [
  'format',
  'schema',
  'hedging',
  'tone',
  'citation',
  'ungrounded',
  'retrieval-miss',
  'refusal',
] as const

export type KnownCategory = (typeof FAILURE_CATEGORIES)[number]

/** A judge that could not give a verdict is recorded under this category, never as a score. */
export const JUDGE_ERROR = 'judge_error'

/** A request that failed (the log's `error`): the answer never arrived, so no detector could run. */
export const REQUEST_ERROR = 'request-error'

export type FailureCategory = KnownCategory | typeof JUDGE_ERROR | typeof REQUEST_ERROR | (string & {})

/**
 * `error`: the answer breaks a rule. `warning`: a likely problem a person should look at (a refusal
 * we cannot verify, a single unsupported name); reports count both, and show them apart.
 */
export type Severity = 'error' | 'warning'

/** One problem found in one answer. */
export interface Finding {
  category: FailureCategory
  /** Stable machine name of the rule, e.g. `json-invalid`, `cites-missing-source`, `ungrounded-number`. */
  rule: string
  /** What was expected and what the answer did, for a person. */
  message: string
  severity: Severity
  /** Which detector produced it: a detector's name, `label` (a person said so) or `judge`. */
  detector: string
  /** The offending pieces of text (numbers, names, phrases), at most a few. */
  evidence?: string[]
  /** A score behind the finding, when there is one (groundedness). */
  score?: number
}

/** One numbered source the model saw; `text` is null when the log kept no prompt and the chunk is gone. */
export interface ExampleSource {
  /** 1-based number the answer cites as [n]. */
  n: number
  text: string | null
  path?: string
  chunkId?: string
}

/**
 * Everything the detectors look at: one question, the answer and the sources in prompt order. Built
 * from a query-log entry (see log-example.ts), an eval run or a dataset record alike.
 */
export interface AnalyzableExample {
  /** Query id or record id, for reports. */
  id?: string
  question: string
  answer: string
  /** null when it is unknown what the model saw (grounding and source checks are then skipped). */
  sources: ExampleSource[] | null
  /** What a label says the evidence was; enables the retrieval checks. */
  gold?: { chunkIds?: string[]; documents?: string[] }
  /** The JSON Schema the answer had to satisfy, when one was asked for (overrides the rules' schema). */
  jsonSchema?: Record<string, unknown>
}

/** Builds a finding; keeps detectors short and every finding shaped alike. */
export function finding(
  detector: string,
  category: FailureCategory,
  rule: string,
  message: string,
  extra: { severity?: Severity; evidence?: string[]; score?: number } = {},
): Finding {
  const f: Finding = { category, rule, message, severity: extra.severity ?? 'error', detector }
  if (extra.evidence && extra.evidence.length > 0) f.evidence = extra.evidence.slice(0, 5)
  if (extra.score !== undefined) f.score = extra.score
  return f
}
