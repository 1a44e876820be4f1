import { describe, expect, it } from 'vitest'
import { RagtuneError } from '../../errors.js'
import { assertHasText, assertNotBinary, decodeText, decodeUtf8Strict } from './checks.js'

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (err) {
    return err instanceof RagtuneError ? err.code : 'not a RagtuneError'
  }
  return undefined
}

describe('decodeUtf8Strict', () => {
  it('decodes UTF-8 and drops a BOM', () => {
    expect(decodeUtf8Strict(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0xc3, 0xa9]), 'a.md')).toBe('hé')
  })

  it('rejects latin-1 bytes, naming the offset', () => {
    const latin1 = Uint8Array.from(Buffer.from('caf\xe9 au lait', 'latin1'))
    expect(() => decodeUtf8Strict(latin1, 'a.md')).toThrow(/a\.md: expected UTF-8 text.*at byte 3/)
    expect(codeOf(() => decodeUtf8Strict(latin1, 'a.md'))).toBe('LOAD_NOT_UTF8')
  })

  it('reports UTF-16 as an encoding problem, not as binary', () => {
    const utf16 = Uint8Array.from(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hi', 'utf16le')]))
    expect(codeOf(() => decodeText({ path: 'a.txt', bytes: utf16 }))).toBe('LOAD_NOT_UTF8')
  })
})

describe('binary and empty checks', () => {
  it('flags a NUL byte in the first 8 KB only', () => {
    const early = new Uint8Array(100).fill(0x61)
    early[50] = 0
    expect(codeOf(() => assertNotBinary(early, 'x.txt'))).toBe('LOAD_BINARY')
    const late = new Uint8Array(9000).fill(0x61)
    late[8500] = 0
    expect(codeOf(() => assertNotBinary(late, 'x.txt'))).toBeUndefined()
  })

  it('normalises CRLF and lone CR line ends', () => {
    expect(decodeText({ path: 'a.txt', bytes: Buffer.from('a\r\nb\rc\n') })).toBe('a\nb\nc\n')
  })

  it('treats whitespace-only text as empty', () => {
    expect(codeOf(() => assertHasText(' \n\t\u00a0', 'a.txt'))).toBe('LOAD_EMPTY')
    expect(codeOf(() => assertHasText(' x ', 'a.txt'))).toBeUndefined()
  })
})
