import { COMMON_WORDS } from '../../src/models/tiny/common-words.js'

/** mulberry32, so every corpus and vector set is identical across runs. */
export { seededRandom } from '../../src/models/seeded-random.js'

/** The vocabulary: common English words (about one WordPiece token each in the generated vocab). */
const WORDS = [...new Set(COMMON_WORDS)]

/** Draws words with a Zipf-like law (rank^-1), as natural text does, so lexical postings are realistic. */
export function wordSampler(random: () => number): () => string {
  const cumulative: number[] = []
  let total = 0
  for (let r = 1; r <= WORDS.length; r++) cumulative.push((total += 1 / r))
  return () => {
    const x = random() * total
    let lo = 0
    let hi = cumulative.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! < x) lo = mid + 1
      else hi = mid
    }
    return WORDS[lo]!
  }
}

/** A sentence of 6..20 words, capitalised, with a full stop. */
export function sentence(random: () => number, word: () => string): string {
  const n = 6 + Math.floor(random() * 15)
  const words = Array.from({ length: n }, word)
  words[0] = words[0]!.charAt(0).toUpperCase() + words[0]!.slice(1)
  return `${words.join(' ')}.`
}

/** A unit vector with uniformly random direction (normal coordinates by Box-Muller). */
export function randomUnitVector(random: () => number, dims: number): Float32Array {
  const v = new Float32Array(dims)
  let sum = 0
  for (let i = 0; i < dims; i++) {
    const x = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
    v[i] = x
    sum += x * x
  }
  const norm = Math.sqrt(sum) || 1
  for (let i = 0; i < dims; i++) v[i] = v[i]! / norm
  return v
}
