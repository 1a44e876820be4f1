import { describe, expect, it } from 'vitest'
import type { ExampleSource } from '../finding.js'
import { detectRetrieval, isGoldSource } from './retrieval.js'

const sources: ExampleSource[] = [
  { n: 1, text: 'a', path: 'keys.md', chunkId: 'c-keys' },
  { n: 2, text: 'b', path: 'ports.md', chunkId: 'c-ports' },
]

describe('detectRetrieval', () => {
  it('flags a labeled gold document or chunk that was not retrieved', () => {
    const f = detectRetrieval({ sources, gold: { documents: ['faq.md'] } }, { refusal: false })
    expect(f).toEqual([expect.objectContaining({ category: 'retrieval-miss', rule: 'gold-not-retrieved', evidence: ['faq.md'] })])
    expect(detectRetrieval({ sources, gold: { chunkIds: ['c-other'] } }, { refusal: false })[0]?.rule).toBe('gold-not-retrieved')
  })

  it('flags "I don\'t know" although the gold was in context', () => {
    const f = detectRetrieval({ sources, gold: { chunkIds: ['c-ports'] } }, { refusal: true })
    expect(f).toEqual([expect.objectContaining({ category: 'refusal', rule: 'refused-with-gold-in-context', evidence: ['[2]'] })])
  })

  it('finds nothing when the gold was used, when a refusal was right, or without gold', () => {
    expect(detectRetrieval({ sources, gold: { documents: ['keys.md'] } }, { refusal: false })).toEqual([])
    expect(detectRetrieval({ sources, gold: { documents: ['faq.md'] } }, { refusal: true })[0]?.category).toBe('retrieval-miss')
    expect(detectRetrieval({ sources }, { refusal: true })).toEqual([])
    expect(detectRetrieval({ sources: null, gold: { documents: ['faq.md'] } }, { refusal: false })).toEqual([])
    expect(isGoldSource(sources[0]!, { chunkIds: [], documents: [] })).toBe(false)
  })
})
