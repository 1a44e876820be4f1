import { describe, expect, it } from 'vitest'
import { countLeakage, splitByEvidence, type SplitCandidate } from './split.js'

describe('splitByEvidence', () => {
  it('keeps questions that share a document, chunk or passage on one side', () => {
    const items: SplitCandidate[] = []
    for (let d = 0; d < 60; d++) {
      items.push({ id: `a${d}`, keys: [`doc:d${d}.md`], question: `first about ${d}` })
      items.push({ id: `b${d}`, keys: [`chunk:c${d}`, `doc:d${d}.md`], question: `second about ${d}` })
      items.push({ id: `c${d}`, keys: [`chunk:c${d}`], question: `third about ${d}` })
    }
    const { splits, groups, evalKeys } = splitByEvidence(items, { evalFraction: 0.2, seed: 1 })
    expect(groups.train + groups.eval).toBe(60)
    expect(groups.eval).toBeGreaterThan(3)
    for (let d = 0; d < 60; d++) {
      expect(new Set([splits.get(`a${d}`), splits.get(`b${d}`), splits.get(`c${d}`)]).size).toBe(1)
    }
    const train = items.filter((it) => splits.get(it.id) === 'train')
    expect(countLeakage(train.map((t) => ({ keys: t.keys, contextKeys: [] })), evalKeys)).toBe(0)
  })

  it('is stable under the seed and as the dataset grows', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ id: `q${i}`, keys: [`doc:${i}`], question: `q${i}` }))
    const first = splitByEvidence(items, { evalFraction: 0.1, seed: 5 }).splits
    const grown = splitByEvidence([...items, { id: 'new', keys: ['doc:new'], question: 'new' }], { evalFraction: 0.1, seed: 5 }).splits
    for (const it of items) expect(grown.get(it.id)).toBe(first.get(it.id))
    expect([...splitByEvidence(items, { evalFraction: 0.1, seed: 6 }).splits.values()]).not.toEqual([...first.values()])
  })

  it('groups questions without evidence by their text, and gives each side a group when there are two', () => {
    const { splits } = splitByEvidence([
      { id: '1', keys: [], question: 'Same  question?' },
      { id: '2', keys: [], question: 'same question?' },
      { id: '3', keys: [], question: 'other' },
    ], { evalFraction: 0.01, seed: 0 })
    expect(splits.get('1')).toBe(splits.get('2'))
    expect(new Set(splits.values()).size).toBe(2)
    expect([...splitByEvidence([{ id: 'x', keys: ['doc:a'], question: 'x' }, { id: 'y', keys: ['doc:b'], question: 'y' }], { evalFraction: 0.99, seed: 0 }).splits.values()].sort()).toEqual(['eval', 'train'])
  })

  it('counts a train example as leaking when its evidence or its context touches eval evidence', () => {
    const evalKeys = new Set(['doc:e.md'])
    expect(countLeakage([{ keys: ['doc:t.md'], contextKeys: ['doc:x.md'] }], evalKeys)).toBe(0)
    expect(countLeakage([{ keys: ['doc:t.md'], contextKeys: ['doc:e.md', 'chunk:1'] }, { keys: ['doc:e.md'], contextKeys: [] }], evalKeys)).toBe(2)
  })
})
