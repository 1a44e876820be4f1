import { describe, expect, it } from 'vitest'
import type { SourceChunk } from './gold-match.js'
import { assembleRaftContext, type RaftInput } from './raft.js'
import { exampleRandom, seededRandom } from './rng.js'

const chunk = (id: string, text = `text of ${id}`): SourceChunk => ({ chunkId: id, documentPath: `${id}.md`, headingPath: [], text })
/** Ten ranked chunks; the gold sits at `goldRank` (0-based) or nowhere. */
function input(goldRank: number | null, over: Partial<RaftInput> = {}): RaftInput {
  const ranked = Array.from({ length: 10 }, (_, i) => chunk(i === goldRank ? 'gold' : `d${i}`))
  return {
    ranked, k: 4, p: 0.8, random: seededRandom(1), isGold: (c) => c.chunkId === 'gold', bearsAnswer: () => false,
    fallbackGold: null, goldKnown: true, ...over,
  }
}

describe('assembleRaftContext', () => {
  it('puts the gold in the context with probability P (seeded), distractors only otherwise', () => {
    for (const p of [0.8, 0.5, 0]) {
      let withGold = 0
      const n = 2000
      for (let i = 0; i < n; i++) {
        const ctx = assembleRaftContext(input(6, { p, random: exampleRandom(7, `item-${i}`) }))
        expect(ctx.sources).toHaveLength(4)
        const has = ctx.sources.some((c) => c.chunkId === 'gold')
        expect(has).toBe(ctx.oracle === 'inserted')
        if (has) withGold++
      }
      expect(Math.abs(withGold / n - p)).toBeLessThan(0.03)
    }
  })

  it('is deterministic per seed and item, and different across seeds', () => {
    const run = (seed: number) => Array.from({ length: 200 }, (_, i) => assembleRaftContext(input(6, { random: exampleRandom(seed, `q${i}`) })).oracleIndex)
    expect(run(3)).toEqual(run(3))
    expect(run(3)).not.toEqual(run(4))
  })

  it('keeps inference\'s own top k when retrieval ranked the gold there', () => {
    const ctx = assembleRaftContext(input(2, { p: 1 }))
    expect(ctx).toMatchObject({ oracle: 'retrieved', oracleIndex: 2 })
    expect(ctx.sources.map((c) => c.chunkId)).toEqual(['d0', 'd1', 'gold', 'd3'])
  })

  it('inserts a lower-ranked or fallback gold among the best distractors at a uniform place', () => {
    const places = [0, 0, 0, 0]
    for (let i = 0; i < 4000; i++) {
      const ctx = assembleRaftContext(input(8, { p: 1, random: exampleRandom(0, `i${i}`) }))
      expect(ctx.sources.filter((c) => c.chunkId !== 'gold').map((c) => c.chunkId)).toEqual(['d0', 'd1', 'd2'])
      places[ctx.oracleIndex!]!++
    }
    for (const n of places) expect(n / 4000).toBeGreaterThan(0.22)
    const fallback = chunk('gold', 'the passage')
    const ctx = assembleRaftContext(input(null, { p: 1, fallbackGold: fallback }))
    expect(ctx.oracle).toBe('inserted')
    expect(ctx.sources[ctx.oracleIndex!]).toBe(fallback)
    expect(assembleRaftContext(input(null, { p: 1 })).oracle).toBe('missing')
  })

  it('withholds the gold and every chunk that states the answer', () => {
    const ctx = assembleRaftContext(input(1, { p: 0, bearsAnswer: (c) => c.chunkId === 'd0' }))
    expect(ctx).toMatchObject({ oracle: 'withheld', oracleIndex: null })
    expect(ctx.sources.map((c) => c.chunkId)).toEqual(['d2', 'd3', 'd4', 'd5'])
  })

  it('never shows excluded chunks (the leakage guard), and keeps top k when the gold is unknown', () => {
    const ctx = assembleRaftContext(input(5, { p: 1, excluded: (c) => c.chunkId === 'd1' || c.chunkId === 'd3' }))
    expect(ctx.sources.map((c) => c.chunkId)).not.toContain('d1')
    expect(ctx.sources.map((c) => c.chunkId)).not.toContain('d3')
    const unknown = assembleRaftContext(input(null, { goldKnown: false }))
    expect(unknown).toMatchObject({ oracle: 'unknown', oracleIndex: null })
    expect(unknown.sources.map((c) => c.chunkId)).toEqual(['d0', 'd1', 'd2', 'd3'])
  })
})
