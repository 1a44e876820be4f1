import { describe, expect, it } from 'vitest'
import { analyzeRules } from '../rules.js'
import { detectUngrounded, groundednessScore } from './grounding.js'

const context = ['The heartbeat uses port 7500 over UDP on the back-end network.', 'Rotate the master keys every 90 days with skyctl keys rotate.']
const rules = analyzeRules().grounding

describe('groundednessScore', () => {
  it('is 1 for an answer the context supports, low for an invented one', () => {
    const good = groundednessScore('The heartbeat uses port 7500 over UDP [1].', context)
    expect(good.score).toBe(1)
    const bad = groundednessScore('The heartbeat uses port 9000 over TCP, according to Bob Smith.', context)
    expect(bad.score).toBeLessThan(0.3)
    expect(bad.numbers.unsupported).toEqual(['9000'])
    expect(bad.entities.unsupported).toEqual(['TCP', 'Bob Smith'])
  })

  it('treats numbers by value, ignores citation markers and accepts words of the question', () => {
    expect(groundednessScore('It costs 1,000 dollars [2].', ['The fee is 1000 dollars.']).numbers.unsupported).toEqual([])
    expect(groundednessScore('Version 3.50 [1].', ['version 3.5']).numbers.unsupported).toEqual([])
    expect(groundednessScore('Falcon 9 has nine engines.', ['It has nine engines.'], { question: 'How many engines has Falcon 9?' }).numbers.unsupported).toEqual([])
    expect(groundednessScore('Falcon 9 has nine engines.', ['It has nine engines.']).numbers.unsupported).toEqual(['9'])
    expect(groundednessScore('Yes.', []).score).toBe(1)
  })
})

describe('detectUngrounded', () => {
  it('passes a grounded answer and flags invented numbers, names and low scores', () => {
    expect(detectUngrounded('Rotate the master keys every 90 days [2].', context, rules)).toEqual([])
    const f = detectUngrounded('The heartbeat uses port 9000 over TCP, says Bob Smith.', context, rules)
    expect(f.map((x) => [x.rule, x.severity])).toEqual([['ungrounded-number', 'error'], ['ungrounded-entity', 'warning'], ['low-groundedness', 'error']])
    expect(f[0]!.category).toBe('ungrounded')
  })

  it('skips unknown contexts, refusals and a disabled check', () => {
    expect(detectUngrounded('Port 9000.', null, rules)).toEqual([])
    expect(detectUngrounded("I don't know port 9000.", context, rules, { refusal: true })).toEqual([])
    expect(detectUngrounded('Port 9000.', context, analyzeRules({ grounding: { enabled: false } }).grounding)).toEqual([])
  })
})
