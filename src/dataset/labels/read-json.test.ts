import { describe, expect, it } from 'vitest'
import { firstSyntaxError } from './read-json.js'

describe('firstSyntaxError', () => {
  it('finds the first offset JSON.parse would reject', () => {
    expect(firstSyntaxError('{"a": }')).toBe(6)
    expect(firstSyntaxError('{"a": [1, 2,, 3]}')).toBe(12)
    expect(firstSyntaxError('{"a": "x\n"}')).toBe(8)
    expect(firstSyntaxError('[tru]')).toBe(1)
    expect(firstSyntaxError('{"a": 1} x')).toBe(9)
    expect(firstSyntaxError('{"a": [1')).toBe(8)
    expect(firstSyntaxError('{"a": -0.5e+3, "b": [true, false, null, "\\"q"]}')).toBe(47)
  })
})
