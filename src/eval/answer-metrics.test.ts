import { describe, expect, it } from 'vitest'
import { bestOver, exactMatch, extractLabel, normalizeAnswer, tokenF1 } from './answer-metrics.js'

describe('SQuAD answer metrics', () => {
  it('normalises case, punctuation, articles and spaces like the official script', () => {
    expect(normalizeAnswer('  The Eiffel-Tower, in Paris!  ')).toBe('eiffeltower in paris')
    expect(normalizeAnswer('An apple a day')).toBe('apple day')
    expect(normalizeAnswer('theatre')).toBe('theatre')
  })

  it('exact match compares normalised strings', () => {
    expect(exactMatch('The Beatles.', 'beatles')).toBe(1)
    expect(exactMatch('Beatles band', 'beatles')).toBe(0)
  })

  it('token F1 on known cases', () => {
    // pred [cat, sat], gold [cat, sat, on, mat]: P = 1, R = 0.5
    expect(tokenF1('the cat sat', 'a cat sat on the mat')).toBeCloseTo(2 / 3, 12)
    expect(tokenF1('port 7500 UDP', 'UDP port 7500')).toBe(1)
    expect(tokenF1('no overlap', 'something else')).toBe(0)
    // Counts matter: a repeated word matches once per gold occurrence. P = 2/3, R = 1.
    expect(tokenF1('yes yes no', 'yes no')).toBeCloseTo(0.8, 12)
    expect(tokenF1('', '')).toBe(1)
    expect(tokenF1('the', 'answer')).toBe(0)
  })

  it('takes the best of several gold answers', () => {
    expect(bestOver(['Paris', 'the city of Paris'], (g) => tokenF1('city of Paris', g))).toBe(1)
    expect(bestOver([], () => 1)).toBe(0)
  })

  it('reads the first label word of an answer, or a structured label', () => {
    const labels = ['yes', 'no', 'maybe']
    expect(extractLabel('Yes, the trial shows it [1].', labels)).toBe('yes')
    expect(extractLabel('Maybe; no clear evidence.', labels)).toBe('maybe')
    expect(extractLabel('The sources disagree.', labels)).toBeNull()
    expect(extractLabel('{"label":"no"}', labels, { label: 'No' })).toBe('no')
    expect(extractLabel('it is not known', ['not known', 'known'])).toBe('not known')
  })
})
