import { inflateRawSync } from 'node:zlib'

/** What the selected parts of a zip inflate to. */
export interface ZipSizeCheck {
  /** Bytes counted before stopping (exact when `over` is false). */
  inflatedBytes: number
  /** True once the parts counted so far exceed the limit. */
  over: boolean
}

const EOCD = 0x06054b50
const CENTRAL = 0x02014b50
const LOCAL = 0x04034b50

/**
 * Counts what the zip entries accepted by `select` inflate to, stopping as soon as the total passes
 * `limit`. The sizes are measured by inflating (capped), not read from the headers, because a zip
 * bomb's headers can lie. Returns a reason string for a file this plain reader cannot walk (not a
 * zip, damaged, zip64, an unknown compression method): callers refuse it rather than hand an
 * unmeasured archive to a library that inflates everything in memory.
 */
export function inflatedZipSize(bytes: Uint8Array, limit: number, select: (name: string) => boolean): ZipSizeCheck | string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const u16 = (at: number): number => view.getUint16(at, true)
  const u32 = (at: number): number => view.getUint32(at, true)
  let eocd = -1
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (u32(i) === EOCD) {
      eocd = i
      break
    }
  }
  if (eocd < 0) return 'no zip end-of-central-directory record'
  const entries = u16(eocd + 10)
  let at = u32(eocd + 16)
  if (entries === 0xffff || at === 0xffffffff) return 'a zip64 archive'
  let total = 0
  for (let n = 0; n < entries; n++) {
    if (at + 46 > bytes.length || u32(at) !== CENTRAL) return `a damaged zip directory (entry ${n + 1})`
    const method = u16(at + 10)
    const compressed = u32(at + 20)
    const nameLen = u16(at + 28)
    const local = u32(at + 42)
    const name = Buffer.from(bytes.buffer, bytes.byteOffset + at + 46, Math.min(nameLen, bytes.length - at - 46)).toString('utf8')
    at += 46 + nameLen + u16(at + 30) + u16(at + 32)
    if (!select(name)) continue
    if (local + 30 > bytes.length || u32(local) !== LOCAL) return `a damaged zip entry (${name})`
    const start = local + 30 + u16(local + 26) + u16(local + 28)
    const data = bytes.subarray(start, Math.min(bytes.length, start + compressed))
    if (method === 0) total += data.length
    else if (method === 8) {
      try {
        total += inflateRawSync(data, { maxOutputLength: Math.max(1, limit - total + 1) }).length
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return { inflatedBytes: limit + 1, over: true }
        return `a damaged zip entry (${name}: ${(err as Error).message})`
      }
    } else return `zip compression method ${method} (${name})`
    if (total > limit) return { inflatedBytes: total, over: true }
  }
  return { inflatedBytes: total, over: false }
}
