import { describe, expect, it } from 'vitest'
import type { SourceChunk } from './gold-match.js'
import { addCitation, isJsonTarget, quoteThenAnswer, removeCitations, renumberCitations, renumberJsonCitations } from './targets.js'

const c = (id: string): SourceChunk => ({ chunkId: id, documentPath: `${id}.md`, headingPath: [], text: '' })

describe('targets', () => {
  it('renumbers a correction\'s citations for the rebuilt context, dropping absent sources', () => {
    const cited = { 1: 'keys', 2: 'ports', 3: 'faq' }
    expect(renumberCitations('Port 7500 [2]. Rotate every 90 days [1, 3].', cited, [c('ports'), c('other'), c('keys')])).toBe('Port 7500 [1]. Rotate every 90 days [3].')
    expect(renumberCitations('Only the FAQ says so [3].', cited, [c('ports')])).toBe('Only the FAQ says so.')
    expect(renumberCitations('Unchanged [1].', {}, [c('x')])).toBe('Unchanged [1].')
  })

  it('renumbers the citation fields of a JSON target: logged sources by chunk, imports to the gold', () => {
    const cited = { 1: 'keys', 2: 'ports' }
    expect(renumberJsonCitations('{"answer":"7500","source":2}', cited, [c('other'), c('keys'), c('ports')], null)).toBe('{"answer":"7500","source":3}')
    expect(renumberJsonCitations('{"answer":"7500","source":1}', {}, [c('a'), c('b')], 2)).toBe('{"answer":"7500","source":2}')
    expect(renumberJsonCitations('{"answer":"x","sources":[1,2]}', cited, [c('ports')], 1)).toBe('{"answer":"x","sources":[1]}')
    expect(renumberJsonCitations('{"answer": "7500", "source": 1}', {}, [c('a')], null)).toBe('{"answer": "7500", "source": 1}')
    expect(renumberJsonCitations('{"port": 7500}', {}, [c('a')], 1)).toBe('{"port": 7500}')
  })

  it('adds a citation of the gold source to a target that cites nothing', () => {
    expect(addCitation('Rotate them monthly.', 2)).toBe('Rotate them monthly [2].')
    expect(addCitation('Denver Broncos', 1)).toBe('Denver Broncos [1]')
    expect(addCitation('Already [3].', 1)).toBe('Already [3].')
    expect(removeCitations('Port 7500 [1], UDP [2, 3].')).toBe('Port 7500, UDP.')
  })

  it('quotes the gold sentence that best supports the answer before it', () => {
    const gold = '# Ports\nThe API listens on 443. The heartbeat uses port 7500 over UDP. Nothing else.'
    expect(quoteThenAnswer('The heartbeat uses port 7500 [2].', gold, 2)).toBe('> "The heartbeat uses port 7500 over UDP." [2]\n\nThe heartbeat uses port 7500 [2].')
    expect(quoteThenAnswer('Zebras.', gold, 1)).toBe('Zebras.')
    expect(isJsonTarget('{"port": 7500}')).toBe(true)
    expect(isJsonTarget('[1] says 7500')).toBe(false)
  })
})
