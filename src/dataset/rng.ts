import { createHash } from 'node:crypto'

/**
 * Seeded randomness for the dataset builder. Each example draws from its own stream, keyed by the
 * build seed and the example's id, so adding or removing one example never changes the draws of
 * the others: the same labels and seed give the same dataset, and a grown dataset keeps its old
 * examples' choices.
 */

/** 32 bits of sha256 of the parts, as an unsigned integer. */
export function hash32(...parts: Array<string | number>): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUInt32LE(0)
}

/** A uniform number in [0, 1) fixed by the parts (for one-off decisions such as the split). */
export function hashUniform(...parts: Array<string | number>): number {
  return hash32(...parts) / 2 ** 32
}

/** mulberry32 (shared with the model generators and synthetic tasks). */
export { seededRandom } from '../models/seeded-random.js'
import { seededRandom } from '../models/seeded-random.js'

/** The random stream of one example in one build. */
export function exampleRandom(seed: number, exampleId: string): () => number {
  return seededRandom(hash32('raft', seed, exampleId))
}
