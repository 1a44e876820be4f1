/**
 * A seeded PRNG for resampling: the same seed gives the same confidence intervals on every machine,
 * so a gate decision can be reproduced and a report re-rendered without the numbers moving.
 */

/** sfc32 (Chris Doty-Humphrey's small fast counter): 128-bit state, passes PractRand; not for crypto. */
export function seededRandom(seed: number): () => number {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const next = (): number => {
    a >>>= 0
    b >>>= 0
    c >>>= 0
    d >>>= 0
    let t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    t = (t + d) | 0
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  // The first outputs of a fresh state are correlated with the seed; discard them.
  for (let i = 0; i < 15; i++) next()
  return next
}

/**
 * A seed for one named stream (metric × category), so each interval depends on the run's seed and
 * its own name only, never on how many other intervals were computed before it.
 */
export function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0
  return h
}
