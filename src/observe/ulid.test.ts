import { beforeEach, describe, expect, it, vi } from 'vitest'

/** Fresh module state per test: ulid() remembers the last id to stay monotonic. */
let ulid: (now?: number) => string
beforeEach(async () => {
  vi.resetModules()
  ulid = (await import('./ulid.js')).ulid
})

describe('ulid', () => {
  it('is 26 Crockford base32 characters with the time in front', () => {
    expect(ulid(Date.parse('2025-03-01T12:00:00Z'))).toMatch(/^01JN8S7QG0[0-9A-HJKMNP-TV-Z]{16}$/)
    expect(ulid(2 ** 48 - 1).slice(0, 10)).toBe('7ZZZZZZZZZ')
    expect(() => ulid(2 ** 48)).toThrow(RangeError)
    expect(() => ulid(-1)).toThrow(RangeError)
  })

  it('starts the epoch at 0000000000', () => {
    expect(ulid(0).slice(0, 10)).toBe('0000000000')
  })

  it('sorts by time, and by call order within one millisecond or when the clock steps back', () => {
    const ids = [ulid(1_000), ulid(1_000), ulid(1_000), ulid(999), ulid(2_000), ulid(2_000)]
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
    // Same millisecond (or earlier): same time prefix, incremented random part.
    expect(ids[3]!.slice(0, 10)).toBe(ids[0]!.slice(0, 10))
  })

  it('does not repeat across many calls', () => {
    const many = Array.from({ length: 10_000 }, () => ulid())
    expect(new Set(many).size).toBe(many.length)
    expect([...many].sort()).toEqual(many)
  })
})
