import { describe, expect, it } from 'vitest'
import { analyzeRules, type AnalyzeRulesInput } from '../rules.js'
import { detectTone } from './tone.js'

const rulesOf = (answer: string, tone: AnalyzeRulesInput['tone'] = {}) => detectTone(answer, analyzeRules({ tone }).tone).map((f) => f.rule)

describe('detectTone', () => {
  it('passes a plain, neutral answer under the defaults', () => {
    expect(rulesOf('Rotate the keys every 90 days with skyctl [1].')).toEqual([])
    expect(rulesOf('Use the UDP port of the API [1].')).toEqual([])
  })

  it('flags forbidden phrases, exclamations, emoji, shouting and first person', () => {
    expect(rulesOf('Great question! The port is 7500.', { forbiddenPhrases: ['great question'] })).toEqual(['forbidden-phrase'])
    expect(rulesOf('Wow! Amazing! Port 7500!')).toEqual(['exclamations'])
    expect(rulesOf('Done! 🎉', { emoji: 'forbid' })).toEqual(['emoji'])
    expect(rulesOf('Done! 🎉')).toEqual([])
    expect(rulesOf('NEVER EVER DO THIS AGAIN please')).toEqual(['shouting'])
    expect(rulesOf('I think my answer is right.', { firstPerson: 'forbid' })).toEqual(['first-person'])
    expect(rulesOf('The answer is right.', { firstPerson: 'forbid' })).toEqual([])
  })

  it('ignores code: `!=` and constants in code are not tone', () => {
    expect(rulesOf('Use `a != b` and `x != y`:\n```\nif (A != B && DO_NOT_TOUCH_THIS_EVER) {}\n```', { maxExclamations: 0 })).toEqual([])
    expect(rulesOf('Stop!', { maxExclamations: null })).toEqual([])
  })
})
