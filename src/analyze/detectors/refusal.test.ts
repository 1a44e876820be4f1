import { describe, expect, it } from 'vitest'
import { detectRefusal, isRefusal } from './refusal.js'

describe('isRefusal', () => {
  it('recognises refusals and "I don\'t know"', () => {
    for (const t of [
      "I don't know.",
      'I do not know which port the heartbeat uses.',
      'The sources do not contain the answer to this question.',
      "The provided context doesn't mention the rotation period.",
      'This is not mentioned in the sources.',
      'There is no information about key rotation in the documents.',
      'I cannot answer that from the given sources.',
      "I'm unable to determine the port.",
    ]) expect(isRefusal(t), t).toBe(true)
  })

  it('does not mistake answers for refusals', () => {
    for (const t of [
      'Rotate the keys every 90 days [1].',
      'The sources do not mention the exact date, but keys are rotated every 90 days [1].',
      'Yes. The heartbeat uses port 7500 [2].',
      'Know your ports: the heartbeat uses 7500 [1].',
      '',
    ]) expect(isRefusal(t), t).toBe(false)
  })
})

describe('detectRefusal', () => {
  it('warns about a refusal only while the gold is unknown (with gold, detectRetrieval decides)', () => {
    expect(detectRefusal("I don't know.", { goldKnown: false })).toEqual([expect.objectContaining({ category: 'refusal', rule: 'refused', severity: 'warning' })])
    expect(detectRefusal("I don't know.", { goldKnown: true })).toEqual([])
    expect(detectRefusal('Port 7500 [1].', { goldKnown: false })).toEqual([])
  })
})
