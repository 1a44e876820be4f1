import { describe, expect, it } from 'vitest'
import type { ExampleSource } from '../finding.js'
import { analyzeRules } from '../rules.js'
import { checkCitations, detectCitations } from './citations.js'

const sources: ExampleSource[] = [
  { n: 1, text: 'Rotate the master keys every 90 days with skyctl keys rotate.' },
  { n: 2, text: 'The heartbeat uses port 7500 over UDP on the back-end network.' },
]
const rules = analyzeRules().citations
const rulesOf = (answer: string, s: ExampleSource[] | null = sources, opts = { refusal: false, json: false }) => detectCitations(answer, s, rules, opts).map((f) => f.rule)

describe('checkCitations', () => {
  it('scores valid, supported citations', () => {
    expect(checkCitations('Rotate the keys every 90 days [1]. The heartbeat uses UDP port 7500 [2].', sources)).toMatchObject({ cited: [1, 2], invalid: [], unsupported: [], accuracy: 1 })
    const bad = checkCitations('Rotate keys every 90 days [2]. Also see [5].', sources)
    expect(bad.invalid).toEqual([5])
    expect(bad.unsupported.map((u) => u.n)).toEqual([2])
    expect(bad.accuracy).toBe(0)
    expect(checkCitations('No citations here.', sources).accuracy).toBeNull()
  })
})

describe('detectCitations', () => {
  it('passes a properly cited answer', () => {
    expect(rulesOf('The heartbeat uses port 7500 over UDP [2].')).toEqual([])
    expect(rulesOf('The heartbeat uses UDP [2]. Rotate the master keys with skyctl [1].')).toEqual([])
  })

  it('flags a source number that was not given', () => {
    const f = detectCitations('Rotate the keys every 90 days [3].', sources, rules, { refusal: false, json: false })
    expect(f[0]).toMatchObject({ category: 'citation', rule: 'cites-missing-source', evidence: ['[3]'] })
    expect(rulesOf('Port 7500 [0].')).toContain('cites-missing-source')
  })

  it('flags an answer without any citation, except refusals, JSON answers and when there are no sources', () => {
    expect(rulesOf('Rotate the keys every 90 days.')).toEqual(['no-citation'])
    expect(rulesOf("I don't know.", sources, { refusal: true, json: false })).toEqual([])
    expect(rulesOf('{"port": 7500}', sources, { refusal: false, json: true })).toEqual([])
    expect(rulesOf('Rotate the keys.', [])).toEqual([])
    expect(rulesOf('Rotate the keys.', null)).toEqual([])
    expect(detectCitations('Rotate.', sources, analyzeRules({ citations: { required: false } }).citations, { refusal: false, json: false })).toEqual([])
  })

  it('warns when the cited source does not support the sentence', () => {
    const f = detectCitations('The heartbeat uses port 7500 over UDP [1].', sources, rules, { refusal: false, json: false })
    expect(f).toEqual([expect.objectContaining({ rule: 'citation-unsupported', severity: 'warning' })])
  })
})
