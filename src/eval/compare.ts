import { RagtuneError } from '../errors.js'
import type { EvalExampleResult, EvalRunRecord } from '../spec/eval-run.js'
import { metricDefinition, METRICS } from './metric-definitions.js'
import { pairedBootstrapCI, type ConfidenceInterval } from './stats/bootstrap.js'
import { mcnemar, type McNemarResult } from './stats/mcnemar.js'
import { streamSeed } from './stats/rng.js'

export interface CompareOptions {
  /** Bootstrap resamples per interval. */
  resamples: number
  seed: number
  /** Significance level: intervals are (1 - alpha) wide, McNemar rejects below alpha. */
  alpha: number
  /** A category regression counts only when its mean worsens by more than this (absolute, metrics in 0..1). */
  tolerance: number
}

export const DEFAULT_COMPARE: CompareOptions = { resamples: 2000, seed: 1, alpha: 0.05, tolerance: 0.05 }

export interface MetricComparison {
  metric: string
  kind: 'binary' | 'continuous'
  higherIsBetter: boolean
  /** Examples that have the metric in both runs. */
  n: number
  /** Means of each side over those pairs. */
  a: number
  b: number
  /** Mean of B - A with its bootstrap interval. */
  diff: ConfidenceInterval
  mcnemar: McNemarResult | null
  significant: boolean
  verdict: 'better' | 'worse' | 'same'
  /** Significantly worse by more than the tolerance, in a gated metric. */
  regression: boolean
}

export interface CategoryComparison {
  category: string
  pairs: number
  metrics: MetricComparison[]
}

export interface RunRef {
  id: string
  adapter: string
  adapterId: string | null
  model: string
  time: string
}

export interface Comparison {
  a: RunRef
  b: RunRef
  set: { name: string; sha256: string }
  pairs: number
  unpaired: { onlyA: number; onlyB: number }
  overall: MetricComparison[]
  categories: CategoryComparison[]
  /** Every significant regression beyond the tolerance, overall (category `*`) or per category. */
  regressions: Array<{ category: string; metric: string; diff: number; low: number; high: number; pValue: number | null }>
  options: CompareOptions
  warnings: string[]
}

/** Name of the whole set in `regressions`. */
export const ALL = '*'

type Side = { run: EvalRunRecord; results: EvalExampleResult[] }

/**
 * Pairs two runs of the same eval set example by example and compares every metric overall and per
 * category: a paired bootstrap interval for each difference, McNemar's test for binary metrics.
 * Pure and seeded: the same runs and options give the same report.
 */
export function compareRuns(a: Side, b: Side, options: Partial<CompareOptions> = {}): Comparison {
  const opts = { ...DEFAULT_COMPARE, ...options }
  if (a.run.setSha256 !== b.run.setSha256) {
    throw new RagtuneError('EVAL_SET_MISMATCH', `runs ${a.run.id} (${a.run.setName}) and ${b.run.id} (${b.run.setName}) used different eval sets; results pair only on the same set`, {
      details: { a: a.run.setSha256, b: b.run.setSha256 },
      hint: 'run both adapters on one set: ragtune eval run --adapter <name> --set <file>',
    })
  }
  const byId = new Map(a.results.map((r) => [r.exampleId, r]))
  const pairs: Array<[EvalExampleResult, EvalExampleResult]> = []
  for (const r of b.results) {
    const other = byId.get(r.exampleId)
    if (other) pairs.push([other, r])
  }
  if (pairs.length === 0) throw new RagtuneError('EVAL_NO_PAIRS', `runs ${a.run.id} and ${b.run.id} share no example ids`, { hint: 'compare runs of the same eval set' })
  const categories = [...new Set(pairs.map(([, r]) => r.category))].sort()
  const comparison: Comparison = {
    a: ref(a.run),
    b: ref(b.run),
    set: { name: b.run.setName, sha256: b.run.setSha256 },
    pairs: pairs.length,
    unpaired: { onlyA: a.results.length - pairs.length, onlyB: b.results.length - pairs.length },
    overall: compareMetrics(pairs, ALL, opts),
    categories: categories.map((category) => {
      const inCategory = pairs.filter(([, r]) => r.category === category)
      return { category, pairs: inCategory.length, metrics: compareMetrics(inCategory, category, opts) }
    }),
    regressions: [],
    options: opts,
    warnings: settingWarnings(a.run, b.run),
  }
  for (const [category, metrics] of [[ALL, comparison.overall] as const, ...comparison.categories.map((c) => [c.category, c.metrics] as const)]) {
    for (const m of metrics.filter((x) => x.regression)) {
      comparison.regressions.push({ category, metric: m.metric, diff: m.diff.mean, low: m.diff.low, high: m.diff.high, pValue: m.mcnemar?.pValue ?? null })
    }
  }
  return comparison
}

function compareMetrics(pairs: Array<[EvalExampleResult, EvalExampleResult]>, category: string, opts: CompareOptions): MetricComparison[] {
  const names = new Set(pairs.flatMap(([x, y]) => Object.keys(x.metrics).filter((k) => k in y.metrics)))
  const ordered = [...METRICS.map((m) => m.name).filter((n) => names.has(n)), ...[...names].filter((n) => !metricDefinition(n)).sort()]
  return ordered.map((metric) => {
    const def = metricDefinition(metric)
    const xs: number[] = []
    const ys: number[] = []
    for (const [x, y] of pairs) {
      if (!(metric in x.metrics && metric in y.metrics)) continue
      xs.push(x.metrics[metric]!)
      ys.push(y.metrics[metric]!)
    }
    const higherIsBetter = def?.higherIsBetter ?? true
    const binary = def?.kind === 'binary'
    const diff = pairedBootstrapCI(xs.map((v, i) => ys[i]! - v), { resamples: opts.resamples, seed: streamSeed(opts.seed, `${metric}\u0000${category}`), confidence: 1 - opts.alpha })
    const test = binary ? mcnemar(xs, ys) : null
    const significant = test ? test.pValue < opts.alpha : diff.low > 0 || diff.high < 0
    const gain = higherIsBetter ? diff.mean : -diff.mean
    const verdict = !significant || gain === 0 ? 'same' : gain > 0 ? 'better' : 'worse'
    return {
      metric,
      kind: binary ? 'binary' : 'continuous',
      higherIsBetter,
      n: xs.length,
      a: mean(xs),
      b: mean(ys),
      diff,
      mcnemar: test,
      significant,
      verdict,
      regression: (def?.gated ?? false) && verdict === 'worse' && -gain > opts.tolerance,
    } satisfies MetricComparison
  })
}

function settingWarnings(a: EvalRunRecord, b: EvalRunRecord): string[] {
  const warnings: string[] = []
  if (a.model !== b.model) warnings.push(`the runs used different base models (${a.model} vs ${b.model}): differences are not the adapter's alone`)
  for (const key of new Set([...Object.keys(a.settings), ...Object.keys(b.settings)])) {
    if (JSON.stringify(a.settings[key]) !== JSON.stringify(b.settings[key])) {
      warnings.push(`setting "${key}" differs (${JSON.stringify(a.settings[key])} vs ${JSON.stringify(b.settings[key])}): differences are not the adapter's alone`)
    }
  }
  return warnings
}

function ref(run: EvalRunRecord): RunRef {
  return { id: run.id, adapter: run.adapter, adapterId: run.adapterId, model: run.model, time: run.time }
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length
}
