import { describe, expect, it } from 'vitest'
import { pairedBootstrapCI, quantile } from './bootstrap.js'
import { binomialCdfHalf, erfc, mcnemar } from './mcnemar.js'
import { seededRandom, streamSeed } from './rng.js'

/** Standard normal draws (Box-Muller) from the seeded generator. */
function normals(n: number, mean: number, sd: number, seed: number): number[] {
  const rng = seededRandom(seed)
  const out: number[] = []
  while (out.length < n) {
    const u = 1 - rng()
    const v = rng()
    out.push(mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v))
  }
  return out
}

describe('seeded randomness', () => {
  it('repeats per seed, differs across seeds and streams, and stays in [0, 1)', () => {
    const a = seededRandom(7)
    const b = seededRandom(7)
    const xs = Array.from({ length: 1000 }, () => a())
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()))
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    expect(seededRandom(8)()).not.toBe(seededRandom(7)())
    expect(streamSeed(1, 'f1\u0000*')).not.toBe(streamSeed(1, 'f1\u0000format'))
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    expect(mean).toBeGreaterThan(0.45)
    expect(mean).toBeLessThan(0.55)
  })
})

describe('paired bootstrap interval', () => {
  it('matches the t-interval of a mean of normal data', () => {
    const d = normals(400, 0.3, 1, 11)
    const n = d.length
    const mean = d.reduce((s, x) => s + x, 0) / n
    const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1))
    const half = 1.9659 * (sd / Math.sqrt(n)) // t(0.975, 399)
    const ci = pairedBootstrapCI(d, { resamples: 20_000, seed: 3 })
    expect(ci.mean).toBeCloseTo(mean, 12)
    expect(ci.n).toBe(400)
    // The percentile bootstrap is slightly narrower than t (it uses the plug-in variance): within 6%.
    expect(Math.abs(ci.low - (mean - half))).toBeLessThan(0.06 * half)
    expect(Math.abs(ci.high - (mean + half))).toBeLessThan(0.06 * half)
  })

  it('is reproducible for a seed and collapses when every difference is equal', () => {
    const d = normals(30, 0, 1, 5)
    expect(pairedBootstrapCI(d, { resamples: 500, seed: 9 })).toEqual(pairedBootstrapCI(d, { resamples: 500, seed: 9 }))
    expect(pairedBootstrapCI([0.5, 0.5, 0.5], { resamples: 500, seed: 1 })).toEqual({ mean: 0.5, low: 0.5, high: 0.5, n: 3 })
  })

  it('refuses an empty sample and bad options', () => {
    expect(() => pairedBootstrapCI([], { resamples: 10, seed: 1 })).toThrow(/0 paired/)
    expect(() => pairedBootstrapCI([1, 2], { resamples: 0, seed: 1 })).toThrow(/resamples/)
  })

  it('interpolates quantiles like numpy', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(quantile([1, 2, 3, 4], 0)).toBe(1)
    expect(quantile([1, 2, 3, 4], 1)).toBe(4)
    expect(quantile([10, 20, 30, 40, 50], 0.025)).toBeCloseTo(11, 12)
  })
})

describe("McNemar's test", () => {
  const pairs = (aOnly: number, bOnly: number, both: number, neither: number): [number[], number[]] => {
    const a = [...Array(aOnly).fill(1), ...Array(bOnly).fill(0), ...Array(both).fill(1), ...Array(neither).fill(0)]
    const b = [...Array(aOnly).fill(0), ...Array(bOnly).fill(1), ...Array(both).fill(1), ...Array(neither).fill(0)]
    return [a, b]
  }

  it('is the exact two-sided binomial test for few discordant pairs', () => {
    const r = mcnemar(...pairs(0, 6, 10, 4))
    expect(r).toMatchObject({ aOnly: 0, bOnly: 6, method: 'exact' })
    expect(r.pValue).toBeCloseTo(2 / 64, 14)
    expect(mcnemar(...pairs(1, 9, 0, 0)).pValue).toBeCloseTo((2 * 11) / 1024, 12)
    expect(mcnemar(...pairs(5, 5, 3, 3)).pValue).toBe(1)
    expect(mcnemar(...pairs(0, 0, 5, 5))).toMatchObject({ pValue: 1, aOnly: 0, bOnly: 0 })
  })

  it('uses chi-square with continuity correction from 25 discordant pairs', () => {
    const r = mcnemar(...pairs(10, 30, 5, 5))
    expect(r.method).toBe('chi-square')
    expect(r.pValue).toBeCloseTo(0.002663119259138554, 6)
  })

  it('refuses unpaired or non-binary outcomes', () => {
    expect(() => mcnemar([1, 0], [1])).toThrow(/paired/)
    expect(() => mcnemar([0.5], [1])).toThrow(/0\/1/)
  })

  it('binomial tail and erfc agree with reference values', () => {
    expect(binomialCdfHalf(0, 6)).toBeCloseTo(1 / 64, 15)
    expect(binomialCdfHalf(500, 1000)).toBeCloseTo(0.5126125090891804, 10)
    expect(erfc(0.5)).toBeCloseTo(0.4795001221869535, 6)
    expect(erfc(-1.2)).toBeCloseTo(1.9103139782296354, 6)
    expect(erfc(3)).toBeCloseTo(2.2090496998585438e-5, 9)
  })
})
