import type { SourceChunk } from './gold-match.js'

/**
 * How the gold evidence ended up in a RAFT context:
 * - `retrieved`: retrieval put it in the top k by itself (the context is exactly inference's);
 * - `inserted`: retrieval ranked it lower or missed it, and it replaced the last distractor at a random place;
 * - `withheld`: the draw said distractors only;
 * - `missing`: gold is known but could not be found anywhere (no longer indexed, no passage text);
 * - `unknown`: the label names no evidence, so the context is inference's top k as is.
 */
export type OracleMode = 'retrieved' | 'inserted' | 'withheld' | 'missing' | 'unknown'

export interface RaftInput {
  /** The retrieval list in rank order, deeper than k so that there are spare distractors. */
  ranked: SourceChunk[]
  /** Sources per prompt: inference's topK. */
  k: number
  /** Probability that the gold is in the context (RAFT's P). */
  p: number
  random: () => number
  isGold: (c: SourceChunk) => boolean
  /** Chunks that state the answer; never used as distractors of a withheld context. */
  bearsAnswer: (c: SourceChunk) => boolean
  /** Chunks that must not appear at all (the leakage guard: another split's evidence). */
  excluded?: (c: SourceChunk) => boolean
  /** The gold when retrieval did not rank it: a chunk read back by id, or the label's passage. */
  fallbackGold: SourceChunk | null
  goldKnown: boolean
}

export interface RaftContext {
  sources: SourceChunk[]
  oracle: OracleMode
  /** Position of the gold in `sources` (0-based), when included. */
  oracleIndex: number | null
}

/**
 * RAFT (Zhang et al., 2024): with probability P the context holds the gold chunk among distractors,
 * otherwise distractors only, so the model learns both to use the right source and to notice when
 * no source answers. Distractors are the retrieval's own next-best chunks, never random ones: the
 * model trains on the same kind of near misses it meets at inference. Pure; the caller seeds `random`.
 */
export function assembleRaftContext(input: RaftInput): RaftContext {
  const { k, isGold } = input
  const pool = input.excluded ? input.ranked.filter((c) => !input.excluded!(c)) : input.ranked
  const top = pool.slice(0, k)
  if (!input.goldKnown) return { sources: top, oracle: 'unknown', oracleIndex: null }
  if (input.random() >= input.p) {
    const distractors = pool.filter((c) => !isGold(c) && !input.bearsAnswer(c)).slice(0, k)
    return { sources: distractors, oracle: 'withheld', oracleIndex: null }
  }
  const natural = top.findIndex(isGold)
  if (natural >= 0) return { sources: top, oracle: 'retrieved', oracleIndex: natural }
  const gold = pool.find(isGold) ?? input.fallbackGold
  if (!gold) return { sources: top, oracle: 'missing', oracleIndex: null }
  const sources = pool.filter((c) => !isGold(c)).slice(0, k - 1)
  const at = Math.floor(input.random() * (sources.length + 1))
  sources.splice(at, 0, gold)
  return { sources, oracle: 'inserted', oracleIndex: at }
}
