import { describe, expect, it } from 'vitest'
import { checkStructured, repairMessage } from './structured.js'

const schema = { type: 'object', properties: { answer: { type: 'string' }, source: { type: 'integer', minimum: 1 } }, required: ['answer', 'source'], additionalProperties: false }

describe('structured answers', () => {
  it('accepts valid JSON, also inside a fence', () => {
    expect(checkStructured('{"answer":"90 days","source":1}', schema)).toEqual({ ok: true, value: { answer: '90 days', source: 1 } })
    expect(checkStructured('```json\n{"answer":"x","source":2}\n```', schema)).toMatchObject({ ok: true })
  })

  it('names what is wrong', () => {
    const r = checkStructured('{"answer": 3, "extra": true}', schema)
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.errors).toContain("(root) must have required property 'source'")
      expect(r.errors).toContain('/answer must be string')
      expect(repairMessage(r.errors)).toMatch(/did not match the required JSON Schema: .*source/)
    }
    expect(checkStructured('not json', schema)).toMatchObject({ ok: false, errors: [expect.stringMatching(/^not JSON/)] })
  })

  it('rejects a broken schema with a clear error', () => {
    expect(() => checkStructured('{}', { type: 'no-such-type' })).toThrowError(/not a valid JSON Schema/)
  })
})

describe('structured answers from many clients', () => {
  it('compiles schemas with the same $id from different requests independently', () => {
    const a = { $id: 'https://example.com/answer.json', type: 'object', required: ['a'] }
    const b = { $id: 'https://example.com/answer.json', type: 'object', required: ['b'] }
    expect(checkStructured('{"a":1}', a)).toMatchObject({ ok: true })
    expect(checkStructured('{"a":1}', b)).toMatchObject({ ok: false })
    expect(checkStructured('{"b":1}', { ...b })).toMatchObject({ ok: true })
  })
})
