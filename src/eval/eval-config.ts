import { z } from 'zod'
import type { CompareOptions } from './compare.js'
import type { GateOptions } from './gate.js'

/**
 * The `eval` section of ragtune.config.json: the held-out set and the promotion gate. Defaults
 * follow the rule: promote only when the candidate is better with 95% confidence on the
 * primary metric and no output category is significantly worse by more than 5 points.
 */
export const evalConfigSchema = z.strictObject({
  /** Default eval set (JSONL) for `eval run` and the gate; relative to the config file. */
  set: z.string().optional(),
  /** Metric the candidate must win on; `auto` picks label_accuracy, f1, schema_valid, recall… (first measured). */
  primaryMetric: z.string().default('auto'),
  /** Bootstrap resamples per interval, and their seed (reports are reproducible). */
  resamples: z.number().int().min(100).max(100_000).default(2000),
  seed: z.number().int().default(1),
  /** Significance level: 95% intervals, McNemar p < 0.05. */
  alpha: z.number().gt(0).lt(0.5).default(0.05),
  gate: z
    .strictObject({
      /** The lower end of the primary metric's gain interval must be above this. */
      minLowerBound: z.number().min(-1).max(1).default(0),
      /** A category (or the whole set) regressing significantly by more than this blocks promotion. */
      categoryTolerance: z.number().min(0).max(1).default(0.05),
    })
    .prefault({}),
})

export type EvalConfig = z.output<typeof evalConfigSchema>

/** The comparison and gate options a config stands for; `primaryMetric` overrides (e.g. --metric). */
export function gateSettings(config: EvalConfig, over: { primaryMetric?: string } = {}): { compare: CompareOptions; gate: GateOptions } {
  return {
    compare: { resamples: config.resamples, seed: config.seed, alpha: config.alpha, tolerance: config.gate.categoryTolerance },
    gate: { primaryMetric: over.primaryMetric ?? config.primaryMetric, minLowerBound: config.gate.minLowerBound },
  }
}
