import { RagtuneError } from '../errors.js'
import type { Comparison, MetricComparison } from './compare.js'
import { metricDefinition, PRIMARY_PREFERENCE } from './metric-definitions.js'

export interface GateOptions {
  /** Metric the candidate must win on, or `auto` (the first of PRIMARY_PREFERENCE both runs have). */
  primaryMetric: string
  /**
   * The candidate passes when the lower end of the interval of its gain on the primary metric is
   * above this (0: better with the comparison's confidence; 0.02: better by at least 2 points).
   */
  minLowerBound: number
}

export const DEFAULT_GATE: GateOptions = { primaryMetric: 'auto', minLowerBound: 0 }

export interface GateDecision {
  pass: boolean
  /** The primary metric's result (comparison B = candidate vs A = active). */
  primary: { metric: string; a: number; b: number; gain: number; gainLow: number; gainHigh: number; n: number; pValue: number | null }
  /** Why it failed; empty when it passed. */
  reasons: string[]
  regressions: Comparison['regressions']
  options: GateOptions
}

/**
 * The promotion rule. "Better on average" is not enough: a candidate that wins overall while one
 * category of outputs gets significantly worse (the comparison's regressions) is rejected, because
 * a regression in the wrong category can cost more than the update gains. Gains are signed so that
 * positive is better, also for lower-is-better metrics.
 */
export function gateDecision(comparison: Comparison, options: Partial<GateOptions> = {}): GateDecision {
  const opts = { ...DEFAULT_GATE, ...options }
  const primary = pickPrimary(comparison.overall, opts.primaryMetric)
  const sign = primary.higherIsBetter ? 1 : -1
  const gainLow = sign > 0 ? primary.diff.low : -primary.diff.high
  const gainHigh = sign > 0 ? primary.diff.high : -primary.diff.low
  const reasons: string[] = []
  const pct = `${Math.round((1 - comparison.options.alpha) * 100)}%`
  if (!(gainLow > opts.minLowerBound)) {
    reasons.push(
      `${primary.metric}: the candidate's gain is ${fmt(sign * primary.diff.mean)} with ${pct} interval [${fmt(gainLow)}, ${fmt(gainHigh)}]; ` +
        `its lower end must be above ${fmt(opts.minLowerBound)} (${primary.n} paired examples)`,
    )
  }
  for (const r of comparison.regressions) {
    const where = r.category === '*' ? 'overall' : `category "${r.category}"`
    const evidence = r.pValue !== null ? `McNemar p = ${r.pValue.toPrecision(2)}` : `interval [${fmt(r.low)}, ${fmt(r.high)}]`
    reasons.push(`${where}: ${r.metric} regresses by ${Math.abs(r.diff).toFixed(3)} (beyond the tolerance ${comparison.options.tolerance}, ${evidence})`)
  }
  return {
    pass: reasons.length === 0,
    primary: {
      metric: primary.metric, a: primary.a, b: primary.b, gain: sign * primary.diff.mean, gainLow, gainHigh, n: primary.n, pValue: primary.mcnemar?.pValue ?? null,
    },
    reasons,
    regressions: comparison.regressions,
    options: opts,
  }
}

function pickPrimary(overall: MetricComparison[], wanted: string): MetricComparison {
  if (wanted !== 'auto') {
    const found = overall.find((m) => m.metric === wanted)
    if (found) return found
    throw new RagtuneError('EVAL_METRIC_MISSING', `primary metric "${wanted}" was not measured on both sides (measured: ${overall.map((m) => m.metric).join(', ')})`, {
      details: { wanted, measured: overall.map((m) => m.metric) },
      hint: metricDefinition(wanted)
        ? `"${wanted}" needs examples with ${metricDefinition(wanted)!.needs} in the eval set; or pick another with --metric`
        : 'pick one of the measured metrics with --metric (or eval.primaryMetric in the config)',
    })
  }
  for (const name of PRIMARY_PREFERENCE) {
    const found = overall.find((m) => m.metric === name)
    if (found) return found
  }
  throw new RagtuneError('EVAL_METRIC_MISSING', 'no metric the gate can rank adapters by was measured on both sides', {
    hint: 'give the eval set gold answers, labels, gold document ids or schemas',
  })
}

function fmt(x: number): string {
  return (x >= 0 ? '+' : '') + x.toFixed(3)
}
