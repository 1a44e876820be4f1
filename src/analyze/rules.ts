import { z } from 'zod'

/**
 * The `analyze` section of ragtune.config.json: what a good answer looks like for this team. Format
 * rules are off until configured (every team's format differs); hedging, tone, citation and
 * grounding checks have defaults that suit the grounded, cited answers ragtune's prompt asks for.
 */

const markdown = z.strictObject({
  /** Bullet (or numbered) list items the answer must have at least / at most. */
  minBullets: z.number().int().min(0).optional(),
  maxBullets: z.number().int().min(0).optional(),
  /** `forbid`: no `#` headings; `require`: at least one. */
  headings: z.enum(['any', 'forbid', 'require']).default('any'),
  codeFences: z.enum(['any', 'forbid', 'require']).default('any'),
  tables: z.enum(['any', 'forbid']).default('any'),
  /** `*highlighted*` sections the answer must have at least (IFEval's number_highlighted_sections). */
  minHighlights: z.number().int().min(0).optional(),
})

const format = z.strictObject({
  /** The answer must be JSON (any JSON value), e.g. for tool calls. */
  json: z.boolean().default(false),
  /** JSON Schema the answer must satisfy (implies json); an answer's own schema wins. */
  jsonSchema: z.record(z.string(), z.unknown()).optional(),
  /** Regular expressions the answer must match / must not match: "text" or "/text/flags". */
  mustMatch: z.array(z.string()).default([]),
  mustNotMatch: z.array(z.string()).default([]),
  minWords: z.number().int().min(0).optional(),
  maxWords: z.number().int().min(0).optional(),
  maxSentences: z.number().int().min(1).optional(),
  /** Letter case of the whole answer (IFEval's english_lowercase / english_capital). */
  case: z.enum(['any', 'lower', 'upper']).default('any'),
  noCommas: z.boolean().default(false),
  markdown: markdown.prefault({}),
})

const hedging = z.strictObject({
  enabled: z.boolean().default(true),
  /** More hedges than this in one answer is a finding; one "may" is often honest. */
  maxHedges: z.number().int().min(0).default(1),
  /** Extra hedge phrases (case-insensitive), added to the built-in list. */
  phrases: z.array(z.string()).default([]),
  /** Flag disclaimers ("As an AI…", "consult a professional") that the task never asked for. */
  disclaimers: z.boolean().default(true),
})

const tone = z.strictObject({
  /** Phrases that must never appear (case-insensitive), e.g. "great question". */
  forbiddenPhrases: z.array(z.string()).default([]),
  /** Most exclamation marks allowed; null: no limit. */
  maxExclamations: z.number().int().min(0).nullable().default(1),
  emoji: z.enum(['allow', 'forbid']).default('allow'),
  /** Runs of this many ALL-CAPS words read as shouting; null turns the check off. */
  shoutingWords: z.number().int().min(2).nullable().default(4),
  /** `forbid`: no "I"/"me"/"my" (answers in the voice of the documentation). */
  firstPerson: z.enum(['allow', 'forbid']).default('allow'),
})

const citations = z.strictObject({
  /** An answer from sources must cite at least one [n]. */
  required: z.boolean().default(true),
  /** A cited source must share at least this share of the citing sentence's content words. */
  minSupport: z.number().min(0).max(1).default(0.2),
})

const grounding = z.strictObject({
  enabled: z.boolean().default(true),
  /** Below this groundedness score (0..1) the answer is `ungrounded`. */
  minScore: z.number().min(0).max(1).default(0.5),
  /** Length of the content-word n-grams compared with the context. */
  ngram: z.number().int().min(1).max(5).default(2),
})

export const analyzeRulesSchema = z.strictObject({
  format: format.prefault({}),
  hedging: hedging.prefault({}),
  tone: tone.prefault({}),
  citations: citations.prefault({}),
  grounding: grounding.prefault({}),
  /** Categories with fewer usable training examples than this are reported as lacking. */
  minExamplesPerCategory: z.number().int().min(0).default(20),
})

export type AnalyzeRules = z.output<typeof analyzeRulesSchema>
export type AnalyzeRulesInput = z.input<typeof analyzeRulesSchema>

/** Rules with every default filled in, plus the caller's overrides (tests, the eval, the library). */
export function analyzeRules(input: AnalyzeRulesInput = {}): AnalyzeRules {
  return analyzeRulesSchema.parse(input)
}
