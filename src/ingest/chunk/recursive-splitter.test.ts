import { describe, expect, it } from 'vitest'
import type { TokenCounter } from '../../spec/tokenizer.js'
import { findHeadings, headingPathIndex } from './headings.js'
import { RecursiveSplitter } from './recursive-splitter.js'

/** Words and punctuation marks, like BERT's pre-tokenizer without subwords. */
const wordCounter = (maxInputTokens = 10_000): TokenCounter => ({
  maxInputTokens,
  countTokens: (t) => t.match(/[A-Za-z0-9]+|[^A-Za-z0-9\s]/g)?.length ?? 0,
})

function sentence(i: number): string {
  return `Sentence number ${i} talks about topic ${i % 7} and nothing else.`
}

function doc(): string {
  const parts = ['# Guide', '', 'Intro paragraph. ' + Array.from({ length: 30 }, (_, i) => sentence(i)).join(' ')]
  parts.push('', '## Install', '', Array.from({ length: 40 }, (_, i) => sentence(100 + i)).join(' '))
  parts.push('', '### Linux', '', '```bash', '# not a heading', 'make install', '```', Array.from({ length: 25 }, (_, i) => sentence(200 + i)).join('\n'))
  parts.push('', '## Usage', '', Array.from({ length: 35 }, (_, i) => sentence(300 + i)).join(' '))
  return parts.join('\n')
}

describe('RecursiveSplitter', () => {
  const counter = wordCounter()
  const splitter = new RecursiveSplitter(counter)
  const text = doc()
  const chunks = splitter.chunk({ documentPath: 'guide.md', text }, { chunkTokens: 64, overlapTokens: 12 })

  it('keeps every chunk within the token limit, counted by the given tokenizer', () => {
    expect(chunks.length).toBeGreaterThan(10)
    for (const c of chunks) {
      expect(c.tokenCount).toBe(counter.countTokens(c.text))
      expect(c.tokenCount).toBeLessThanOrEqual(64)
    }
  })

  it('produces exact slices that cover the whole text in order', () => {
    expect(chunks[0]!.start).toBe(0)
    for (const c of chunks) expect(text.slice(c.start, c.end)).toBe(c.text)
    for (let k = 1; k < chunks.length; k++) {
      expect(chunks[k]!.start).toBeLessThanOrEqual(chunks[k - 1]!.end)
      expect(chunks[k]!.end).toBeGreaterThan(chunks[k - 1]!.end)
    }
    expect(text.slice(chunks[chunks.length - 1]!.end).trim()).toBe('')
  })

  it('overlaps neighbours by at most the overlap budget, and by something when sentences allow', () => {
    let overlapped = 0
    for (let k = 1; k < chunks.length; k++) {
      const shared = text.slice(chunks[k]!.start, Math.max(chunks[k]!.start, chunks[k - 1]!.end))
      expect(counter.countTokens(shared)).toBeLessThanOrEqual(12)
      if (shared.trim().length > 0) overlapped++
    }
    expect(overlapped).toBeGreaterThan(chunks.length / 2)
  })

  it('records the markdown heading path where the new text of each chunk starts', () => {
    const paths = chunks.map((c) => c.headingPath.join(' > '))
    expect(paths[0]).toBe('Guide')
    expect(paths).toContain('Guide > Install')
    expect(paths).toContain('Guide > Install > Linux')
    expect(paths).toContain('Guide > Usage')
    expect(paths.some((p) => p.includes('not a heading'))).toBe(false)
    const usage = chunks.find((c) => c.text.includes('Sentence number 320 '))!
    expect(usage.headingPath).toEqual(['Guide', 'Usage'])
  })

  it('gives stable ids: same input same ids, edited text new ids', () => {
    const again = splitter.chunk({ documentPath: 'guide.md', text }, { chunkTokens: 64, overlapTokens: 12 })
    expect(again.map((c) => c.id)).toEqual(chunks.map((c) => c.id))
    const edited = splitter.chunk({ documentPath: 'guide.md', text: text.replace('Sentence number 330', 'Sentence number 999') }, { chunkTokens: 64, overlapTokens: 12 })
    expect(edited.filter((c, k) => c.id !== chunks[k]?.id).length).toBeGreaterThan(0)
    expect(new Set(chunks.map((c) => c.id)).size).toBe(chunks.length)
  })

  it('cuts a run with no separators by characters', () => {
    const blob = 'x'.repeat(50) + '=' + 'y'.repeat(10) + '/'.repeat(200)
    const out = new RecursiveSplitter(wordCounter()).chunk({ documentPath: 'b.txt', text: blob }, { chunkTokens: 40, overlapTokens: 0 })
    expect(out.length).toBeGreaterThan(1)
    expect(out.map((c) => c.text).join('')).toBe(blob)
    for (const c of out) expect(c.tokenCount).toBeLessThanOrEqual(40)
  })

  it('never cuts a surrogate pair when cutting by characters', () => {
    const perChar: TokenCounter = { maxInputTokens: 10_000, countTokens: (t) => t.length }
    const blob = '😀'.repeat(40)
    const out = new RecursiveSplitter(perChar).chunk({ documentPath: 'e.txt', text: blob }, { chunkTokens: 7, overlapTokens: 0 })
    expect(out.map((c) => c.text).join('')).toBe(blob)
    for (const c of out) expect(c.text).toMatch(/^(😀)+$/u)
  })

  it('clamps the chunk size to what the model can take in', () => {
    const out = new RecursiveSplitter(wordCounter(20)).chunk({ documentPath: 'g.md', text }, { chunkTokens: 512, overlapTokens: 64 })
    for (const c of out) expect(c.tokenCount).toBeLessThanOrEqual(20)
  })

  it('returns nothing for blank text and one chunk for short text', () => {
    expect(splitter.chunk({ documentPath: 'e.md', text: '\n\n  \n' }, { chunkTokens: 64, overlapTokens: 8 })).toEqual([])
    const one = splitter.chunk({ documentPath: 's.md', text: 'Just one line.' }, { chunkTokens: 64, overlapTokens: 8 })
    expect(one).toHaveLength(1)
    expect(one[0]).toMatchObject({ ordinal: 0, text: 'Just one line.', headingPath: [], tokenCount: 4 })
  })
})

describe('headings', () => {
  it('ignores headings in fenced code and pops deeper levels', () => {
    const t = '# A\n```\n# no\n```\n## B\ntext\n# C\n### D\n'
    expect(findHeadings(t).map((h) => h.title)).toEqual(['A', 'B', 'C', 'D'])
    const at = headingPathIndex(t)
    expect(at(0)).toEqual(['A'])
    expect(at(t.indexOf('text'))).toEqual(['A', 'B'])
    expect(at(t.length - 1)).toEqual(['C', 'D'])
  })
})
