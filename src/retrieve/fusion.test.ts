import { describe, expect, it } from 'vitest'
import { reciprocalRankFusion } from './fusion.js'

const list = (...ids: string[]) => ids.map((id, i) => ({ item: id, score: 10 - i }))

describe('reciprocalRankFusion', () => {
  it('scores by 1/(k+rank) summed over lists', () => {
    const fused = reciprocalRankFusion({ dense: list('a', 'b', 'c'), lexical: list('c', 'a') }, { key: (x) => x, k: 60 })
    const a = fused.find((f) => f.item === 'a')!
    expect(a.score).toBeCloseTo(1 / 61 + 1 / 62, 12)
    expect(a.stages).toEqual({ dense: { rank: 1, score: 10 }, lexical: { rank: 2, score: 9 } })
    expect(fused.map((f) => f.item)).toEqual(['a', 'c', 'b'])
  })

  it('prefers agreement between lists over one strong rank', () => {
    const fused = reciprocalRankFusion({ dense: list('x', 'y'), lexical: list('z', 'y') }, { key: (x) => x })
    expect(fused[0]!.item).toBe('y')
  })

  it('breaks exact ties deterministically by best rank then key', () => {
    const fused = reciprocalRankFusion({ dense: list('b', 'd'), lexical: list('a', 'c') }, { key: (x) => x })
    expect(fused.map((f) => f.item)).toEqual(['a', 'b', 'c', 'd'])
  })

  it('handles empty lists and a single list', () => {
    expect(reciprocalRankFusion({ dense: [], lexical: [] }, { key: (x: string) => x })).toEqual([])
    expect(reciprocalRankFusion({ lexical: list('q', 'r') }, { key: (x) => x }).map((f) => f.item)).toEqual(['q', 'r'])
  })

  it('counts an item repeated within one list once, at its best rank', () => {
    const fused = reciprocalRankFusion({ dense: list('a', 'a', 'b') }, { key: (x) => x, k: 1 })
    expect(fused[0]).toMatchObject({ item: 'a', score: 0.5 })
  })
})
