import { describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import { evaluateRanking, mrrAt, ndcgAt, rankDocuments, recallAt, summarize } from './retrieval-metrics.js'

describe('rankDocuments', () => {
  it('keeps the first occurrence of each document, in rank order', () => {
    const hits = [{ documentId: 'b' }, { documentId: 'a' }, { documentId: 'b' }, { documentId: 'c' }, { documentId: 'a' }]
    expect(rankDocuments(hits)).toEqual(['b', 'a', 'c'])
  })

  it('returns an empty list for no hits', () => {
    expect(rankDocuments([])).toEqual([])
  })
})

describe('recallAt', () => {
  const ranked = ['a', 'b', 'c', 'd', 'e', 'f']
  it('divides by all relevant documents, not by k', () => {
    const relevant = new Set(['b', 'e', 'z'])
    expect(recallAt(ranked, relevant, 1)).toBe(0)
    expect(recallAt(ranked, relevant, 2)).toBeCloseTo(1 / 3, 12)
    expect(recallAt(ranked, relevant, 5)).toBeCloseTo(2 / 3, 12)
    expect(recallAt(ranked, relevant, 100)).toBeCloseTo(2 / 3, 12)
  })

  it('is 1 when the single relevant document is in the cut', () => {
    expect(recallAt(ranked, new Set(['a']), 1)).toBe(1)
  })

  it('is 0 when nothing is relevant', () => {
    expect(recallAt(ranked, new Set(), 10)).toBe(0)
    expect(recallAt(ranked, { a: 0 }, 10)).toBe(0)
  })

  it('ignores zero-graded judgments', () => {
    expect(recallAt(['a', 'b'], { a: 0, b: 1 }, 1)).toBe(0)
    expect(recallAt(['a', 'b'], { a: 0, b: 1 }, 2)).toBe(1)
  })

  it('counts a repeated id once and does not let it use a rank', () => {
    expect(recallAt(['a', 'a', 'b'], new Set(['a', 'b']), 2)).toBe(1)
  })

  it('rejects a non-positive or fractional k', () => {
    expect(() => recallAt(ranked, new Set(['a']), 0)).toThrow(RagtuneError)
    expect(() => recallAt(ranked, new Set(['a']), 2.5)).toThrow(/positive integer/)
  })
})

describe('mrrAt', () => {
  it('is the reciprocal rank of the first relevant document', () => {
    expect(mrrAt(['x', 'y', 'r1', 'r2'], new Set(['r1', 'r2']), 10)).toBeCloseTo(1 / 3, 12)
    expect(mrrAt(['r1'], new Set(['r1']), 10)).toBe(1)
  })

  it('is 0 when the first relevant document is below the cut', () => {
    expect(mrrAt(['x', 'y', 'r1'], new Set(['r1']), 2)).toBe(0)
  })

  it('is 0 with no relevant documents or an empty ranking', () => {
    expect(mrrAt(['x', 'y'], new Set(), 10)).toBe(0)
    expect(mrrAt([], new Set(['x']), 10)).toBe(0)
  })

  it('uses document ranks after duplicates are removed', () => {
    expect(mrrAt(['x', 'x', 'r'], new Set(['r']), 10)).toBe(1 / 2)
  })
})

describe('ndcgAt', () => {
  it('computes binary nDCG by hand', () => {
    // DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3)
    const expected = (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3))
    expect(ndcgAt(['a', 'b', 'c', 'd'], new Set(['b', 'd']), 4)).toBeCloseTo(expected, 12)
    expect(ndcgAt(['a', 'b', 'c', 'd'], new Set(['b', 'd']), 4)).toBeCloseTo(0.650921, 6)
  })

  it('uses linear gain for graded relevance and includes unretrieved documents in the ideal', () => {
    // ranked a(1) b(0) c(2); ideal 3,2,1 (e is judged 3 but never retrieved)
    const relevant = { a: 1, c: 2, e: 3 }
    const dcg = 1 + 0 + 2 / Math.log2(4)
    const idcg = 3 + 2 / Math.log2(3) + 1 / Math.log2(4)
    expect(ndcgAt(['a', 'b', 'c'], relevant, 3)).toBeCloseTo(dcg / idcg, 12)
    expect(ndcgAt(['a', 'b', 'c'], relevant, 3)).toBeCloseTo(0.420004, 6)
    expect(ndcgAt(['a', 'b', 'c'], relevant, 1)).toBeCloseTo(1 / 3, 12)
  })

  it('is 1 for the ideal order, and either order of tied grades is ideal', () => {
    const relevant = { a: 2, b: 2, c: 1 }
    expect(ndcgAt(['a', 'b', 'c'], relevant, 10)).toBeCloseTo(1, 12)
    expect(ndcgAt(['b', 'a', 'c'], relevant, 10)).toBeCloseTo(1, 12)
    expect(ndcgAt(['c', 'a', 'b'], relevant, 10)).toBeLessThan(1)
  })

  it('is 0 with no relevant documents, and ignores negative grades', () => {
    expect(ndcgAt(['a'], new Set(), 10)).toBe(0)
    expect(ndcgAt(['a', 'b'], { a: -2, b: 1 }, 10)).toBeCloseTo(1 / Math.log2(3), 12)
  })
})

describe('evaluateRanking and summarize', () => {
  it('reports every cut-off for one query', () => {
    const ranked = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9', 'd10', 'd11', 'd12']
    const m = evaluateRanking(ranked, new Set(['d3', 'd12']))
    expect(m.recall1).toBe(0)
    expect(m.recall5).toBe(0.5)
    expect(m.recall10).toBe(0.5)
    expect(m.recall20).toBe(1)
    expect(m.mrr10).toBeCloseTo(1 / 3, 12)
    expect(m.ndcg10).toBeCloseTo((1 / Math.log2(4)) / (1 + 1 / Math.log2(3)), 12)
  })

  it('macro-averages over queries, a query with nothing relevant counting as 0', () => {
    const perfect = evaluateRanking(['a'], new Set(['a']))
    const empty = evaluateRanking(['a'], new Set())
    const s = summarize([perfect, empty])
    expect(s).toEqual({ queries: 2, recall1: 0.5, recall5: 0.5, recall10: 0.5, recall20: 0.5, mrr10: 0.5, ndcg10: 0.5 })
  })

  it('refuses to summarize zero queries', () => {
    expect(() => summarize([])).toThrow(expect.objectContaining({ code: 'EVAL_NO_QUERIES' }))
  })
})
