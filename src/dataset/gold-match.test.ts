import { describe, expect, it } from 'vitest'
import { bearsAnswer, documentMatches, evidenceKeys, isGoldChunk, passageMatches, type SourceChunk } from './gold-match.js'

const chunk = (over: Partial<SourceChunk> = {}): SourceChunk => ({ chunkId: 'c1', documentPath: 'docs/12345.txt', headingPath: [], text: 'The heartbeat uses port 7500 over UDP.', ...over })
const gold = (over: object = {}) => ({ documents: [], chunkIds: [], text: null, ...over })

describe('gold matching', () => {
  it('matches by chunk id first, then by document, then by passage text', () => {
    expect(isGoldChunk(chunk(), gold({ chunkIds: ['c1'] }))).toBe(true)
    expect(isGoldChunk(chunk(), gold({ chunkIds: ['c2'], documents: ['12345'] }))).toBe(false)
    expect(isGoldChunk(chunk(), gold({ documents: ['12345'] }))).toBe(true)
    expect(isGoldChunk(chunk(), gold({ documents: ['999'], text: 'Intro. The heartbeat uses port 7500 over UDP. More.' }))).toBe(true)
    expect(isGoldChunk(chunk(), gold({ text: 'Something else entirely.' }))).toBe(false)
    expect(documentMatches('a/b/guide.md', ['guide'])).toBe(true)
    expect(documentMatches('a/b/guide.md', ['a/b/guide.md'])).toBe(true)
    expect(documentMatches('a/b/guide.md', ['guid'])).toBe(false)
  })

  it('matches a passage split or re-headed by chunking', () => {
    const passage = 'Programmed cell death is regulated. The lace plant makes holes in its leaves through it. Cells at the center die first.'
    expect(passageMatches('# Lace plant\n\nThe lace plant makes holes in its leaves through it. Cells at the center die first. Then', passage)).toBe(true)
    expect(passageMatches('The lace plant grows in water and has no holes at all in any leaf.', passage)).toBe(false)
  })

  it('finds short answers stated verbatim, never long ones', () => {
    expect(bearsAnswer('The Denver Broncos won Super Bowl 50.', 'Denver Broncos [1].')).toBe(true)
    expect(bearsAnswer('The Carolina Panthers lost.', 'Denver Broncos')).toBe(false)
    expect(bearsAnswer('a b c d e f g h i j k l m n', 'a b c d e f g h i j k l m n')).toBe(false)
  })

  it('derives split keys from documents, chunks, passage and the gold chunks found', () => {
    const keys = evidenceKeys(gold({ documents: ['123'], text: 'Passage.' }), [chunk()])
    expect(keys).toEqual(expect.arrayContaining(['doc:123', 'doc:docs/12345.txt', 'chunk:c1']))
    expect(keys.some((k) => k.startsWith('text:'))).toBe(true)
  })
})
