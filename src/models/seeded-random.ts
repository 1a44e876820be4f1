/**
 * Seeded weights for generated models. Only integer arithmetic, `+ - * /` and `Math.sqrt` touch the
 * values, all exactly specified by IEEE-754, so a seed gives the same bytes on every platform.
 */

/** mulberry32: a tiny, fast 32-bit PRNG; good enough for test weights, not for cryptography. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return (t ^ (t >>> 14)) >>> 0
  }
}

/**
 * Uniform numbers in [0, 1) from mulberry32: the one seeded stream behind sampling decisions
 * (dataset draws, synthetic tasks, benchmark corpora), so a seed means the same thing everywhere.
 */
export function seededRandom(seed: number): () => number {
  const next = mulberry32(seed)
  return () => next() / 4294967296
}

/** FNV-1a, so every tensor has its own stream and adding a tensor does not reshuffle the others. */
function hashName(name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/**
 * Uniform values in [center - a, center + a] with a = std·√3 (so the standard deviation is `std`),
 * from a stream keyed by tensor name and seed.
 */
export function seededUniform(name: string, seed: number, length: number, std: number, center = 0): Float32Array {
  const next = mulberry32(hashName(name) ^ Math.imul(seed, 0x9e3779b1))
  const scale = (2 * std * Math.sqrt(3)) / 4294967296
  const offset = center - std * Math.sqrt(3)
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) out[i] = next() * scale + offset
  return out
}
