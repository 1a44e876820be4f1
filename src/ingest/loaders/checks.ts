import { RagtuneError } from '../../errors.js'
import type { LoadInput } from '../../spec/loader.js'

/** How far into a text file we look for NUL bytes: enough to catch binaries, cheap on huge files. */
const BINARY_SNIFF_BYTES = 8192

/**
 * Decodes UTF-8 or throws LOAD_NOT_UTF8. Indexing mojibake silently poisons retrieval (the text
 * never matches a query), so a wrong encoding is reported rather than guessed. A leading BOM is
 * dropped so that it never ends up glued to the first heading.
 */
export function decodeUtf8Strict(bytes: Uint8Array, path: string): string {
  if (hasUtf16Bom(bytes)) throw notUtf8(path, 'a UTF-16 byte-order mark')
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch (err) {
    throw notUtf8(path, `bytes that are not valid UTF-8 at byte ${firstInvalidUtf8Offset(bytes)}`, err)
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

/**
 * Throws LOAD_BINARY when the start of a file that claims to be text holds a NUL byte: an image or
 * archive renamed to .txt would otherwise be indexed as pages of noise.
 */
export function assertNotBinary(bytes: Uint8Array, path: string): void {
  const n = Math.min(bytes.length, BINARY_SNIFF_BYTES)
  for (let i = 0; i < n; i++) {
    if (bytes[i] === 0) {
      throw new RagtuneError('LOAD_BINARY', `${path}: expected a text file, found a NUL byte at offset ${i} (binary data)`, {
        details: { path, offset: i },
        hint: 'exclude the file (config `exclude` glob) or give it the extension of its real format',
      })
    }
  }
}

/**
 * The entry point of every text format: binary sniffing, strict UTF-8 decoding, then `\n` line
 * ends, so that no loader or chunker downstream has to care about CRLF files.
 */
export function decodeText(input: LoadInput): string {
  // A UTF-16 file is full of NULs; report it as an encoding problem, which is what it is.
  if (!hasUtf16Bom(input.bytes)) assertNotBinary(input.bytes, input.path)
  return decodeUtf8Strict(input.bytes, input.path).replace(/\r\n?/g, '\n')
}

/**
 * Throws LOAD_EMPTY when a loaded document has no visible text. An empty document would produce no
 * chunks and then look "indexed" while nothing can ever retrieve it.
 */
export function assertHasText(text: string, path: string, why = 'the file is empty or holds only whitespace'): void {
  if (text.trim() === '') {
    throw new RagtuneError('LOAD_EMPTY', `${path}: expected some text, found none (${why})`, {
      details: { path },
      hint: 'add content to the file or exclude it',
    })
  }
}

function hasUtf16Bom(bytes: Uint8Array): boolean {
  return (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)
}

function notUtf8(path: string, found: string, cause?: unknown): RagtuneError {
  return new RagtuneError('LOAD_NOT_UTF8', `${path}: expected UTF-8 text, found ${found}`, {
    details: { path },
    hint: 'convert the file to UTF-8, e.g. `iconv -f latin1 -t utf-8 in > out`',
    cause,
  })
}

/** Offset of the first byte that breaks UTF-8, so the message points at the culprit. */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i] as number
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    if (len === 0 || i + len > bytes.length) return i
    // The second byte's narrower ranges rule out overlong forms, surrogates and code points past U+10FFFF.
    const second = bytes[i + 1] as number
    if ((b === 0xe0 && second < 0xa0) || (b === 0xed && second > 0x9f) || (b === 0xf0 && second < 0x90) || (b === 0xf4 && second > 0x8f)) return i
    for (let k = 1; k < len; k++) {
      if (((bytes[i + k] as number) & 0xc0) !== 0x80) return i
    }
    i += len
  }
  return i
}
