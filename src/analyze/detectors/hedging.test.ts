import { describe, expect, it } from 'vitest'
import { analyzeRules } from '../rules.js'
import { detectHedging, findDisclaimers, findHedges } from './hedging.js'

const rules = analyzeRules().hedging

describe('detectHedging', () => {
  it('flags answers that hedge more than allowed, not a single honest "may"', () => {
    expect(detectHedging('The dose may be lowered for children [1].', rules)).toEqual([])
    const f = detectHedging('I think it is probably port 7500, but perhaps it could be 7501.', rules)
    expect(f).toHaveLength(1)
    expect(f[0]).toMatchObject({ category: 'hedging', rule: 'hedges', severity: 'error' })
    expect(f[0]!.evidence).toEqual(expect.arrayContaining(['i think', 'probably', 'perhaps', 'could be']))
    expect(detectHedging('Maybe. Maybe not.', analyzeRules({ hedging: { maxHedges: 2 } }).hedging)).toEqual([])
    expect(detectHedging('Maybe maybe maybe.', analyzeRules({ hedging: { enabled: false } }).hedging)).toEqual([])
  })

  it('counts whole phrases only, and the team\'s own phrases', () => {
    expect(findHedges('Likelihood ratios are maybelline-free.')).toEqual([])
    expect(findHedges('It is sort of right, sort of wrong.', ['sort of'])).toEqual(['sort of', 'sort of'])
  })

  it('flags needless disclaimers', () => {
    expect(findDisclaimers('As an AI language model, I cannot feel. Please consult a doctor.')).toEqual(['As an AI language model', 'Please consult a doctor'])
    const f = detectHedging("Take 5 mg daily [1]. This is not medical advice.", rules)
    expect(f).toEqual([expect.objectContaining({ rule: 'needless-disclaimer', evidence: ['This is not medical advice'] })])
    expect(detectHedging('Rotate keys every 90 days [1].', rules)).toEqual([])
    expect(detectHedging('As an AI, I can help.', analyzeRules({ hedging: { disclaimers: false } }).hedging)).toEqual([])
  })
})
