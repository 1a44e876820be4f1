import { RagtuneError } from '../../errors.js'
import { seededRandom } from './rng.js'

export interface BootstrapOptions {
  /** Resamples; 2,000 puts the 2.5% and 97.5% percentiles within a few thousandths of their limit. */
  resamples: number
  seed: number
  /** Default 0.95. */
  confidence?: number
}

export interface ConfidenceInterval {
  /** Mean of the paired differences (B - A). */
  mean: number
  low: number
  high: number
  /** Pairs the interval rests on. */
  n: number
}

/**
 * Percentile bootstrap interval of the mean paired difference. Resampling pairs (not each side on
 * its own) keeps the per-example correlation between A and B, which is what makes small eval sets
 * informative: two adapters that answer most questions alike differ by little noise.
 */
export function pairedBootstrapCI(diffs: readonly number[], opts: BootstrapOptions): ConfidenceInterval {
  const n = diffs.length
  const confidence = opts.confidence ?? 0.95
  if (n === 0) throw new RagtuneError('EVAL_NO_PAIRS', 'cannot bootstrap a difference over 0 paired examples', { hint: 'compare runs of the same eval set' })
  if (!Number.isInteger(opts.resamples) || opts.resamples < 1) {
    throw new RagtuneError('INVALID_OPTIONS', `bootstrap resamples must be a positive integer, got ${opts.resamples}`, { details: { resamples: opts.resamples } })
  }
  if (!(confidence > 0 && confidence < 1)) throw new RagtuneError('INVALID_OPTIONS', `confidence must be between 0 and 1, got ${confidence}`)
  const mean = diffs.reduce((s, d) => s + d, 0) / n
  if (diffs.every((d) => d === diffs[0])) return { mean, low: mean, high: mean, n }
  const rng = seededRandom(opts.seed)
  const means = new Float64Array(opts.resamples)
  for (let r = 0; r < opts.resamples; r++) {
    let sum = 0
    for (let i = 0; i < n; i++) sum += diffs[Math.floor(rng() * n)]!
    means[r] = sum / n
  }
  means.sort()
  const tail = (1 - confidence) / 2
  return { mean, low: quantile(means, tail), high: quantile(means, 1 - tail), n }
}

/** Linear interpolation between order statistics (R's type 7, numpy's default). */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p
  const lo = Math.floor(h)
  const hi = Math.min(sorted.length - 1, lo + 1)
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!)
}
