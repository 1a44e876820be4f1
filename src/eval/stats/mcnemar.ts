import { RagtuneError } from '../../errors.js'

export interface McNemarResult {
  /** Pairs where A was right (1) and B wrong (0). */
  aOnly: number
  /** Pairs where B was right and A wrong. */
  bOnly: number
  /** Two-sided p-value of "A and B are right equally often". */
  pValue: number
  method: 'exact' | 'chi-square'
}

/** Below this many discordant pairs the chi-square approximation is poor; the exact test is cheap there. */
export const EXACT_BELOW = 25

/**
 * McNemar's test for paired binary outcomes: only the discordant pairs carry information. With few
 * of them (the usual case on small eval sets) it is the exact two-sided binomial test on
 * Bin(aOnly + bOnly, 1/2); with many, the chi-square test with continuity correction.
 */
export function mcnemar(a: readonly number[], b: readonly number[]): McNemarResult {
  if (a.length !== b.length) throw new RagtuneError('INVALID_ARGUMENT', `McNemar needs paired outcomes, got ${a.length} and ${b.length} values`)
  let aOnly = 0
  let bOnly = 0
  for (let i = 0; i < a.length; i++) {
    if ((a[i] !== 0 && a[i] !== 1) || (b[i] !== 0 && b[i] !== 1)) {
      throw new RagtuneError('INVALID_ARGUMENT', `McNemar needs 0/1 outcomes, got ${a[i]} and ${b[i]} at pair ${i}`)
    }
    if (a[i] === 1 && b[i] === 0) aOnly++
    else if (a[i] === 0 && b[i] === 1) bOnly++
  }
  const n = aOnly + bOnly
  if (n === 0) return { aOnly, bOnly, pValue: 1, method: 'exact' }
  if (n < EXACT_BELOW) return { aOnly, bOnly, pValue: Math.min(1, 2 * binomialCdfHalf(Math.min(aOnly, bOnly), n)), method: 'exact' }
  const x = (Math.abs(aOnly - bOnly) - 1) ** 2 / n
  return { aOnly, bOnly, pValue: Math.min(1, erfc(Math.sqrt(x / 2))), method: 'chi-square' }
}

/** P(X <= k) for X ~ Bin(n, 1/2), summed in log space so large n cannot overflow. */
export function binomialCdfHalf(k: number, n: number): number {
  let total = 0
  let logC = 0 // log C(n, 0)
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log((n - i + 1) / i)
    total += Math.exp(logC - n * Math.LN2)
  }
  return total
}

/** Complementary error function (Numerical Recipes' erfcc, fractional error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? r : 2 - r
}
