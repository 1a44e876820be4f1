import { randomBytes } from 'node:crypto'

/** Crockford's base32: no I, L, O or U, so ids survive being read aloud or typed. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const MAX_TIME = 2 ** 48 - 1

let lastTime = -1
let lastRandom = new Uint8Array(10)

/**
 * A ULID (https://github.com/ulid/spec): 48-bit millisecond time + 80 random bits, 26 characters
 * that sort by creation time, so the query log pages by id and `ls`-style listings read in order.
 * Monotonic within a process: ids made in the same millisecond (or after the clock stepped back)
 * increment the previous random part instead of drawing a new one, so they still sort in call order.
 */
export function ulid(now: number = Date.now()): string {
  if (!Number.isInteger(now) || now < 0 || now > MAX_TIME) throw new RangeError(`ulid: time must be an integer millisecond from 0 to 2^48-1, got ${now}`)
  if (now > lastTime) {
    lastTime = now
    lastRandom = new Uint8Array(randomBytes(10))
  } else if (!increment(lastRandom)) {
    // 2^80 ids in one millisecond cannot happen; moving to the next millisecond keeps the order anyway.
    lastTime += 1
    lastRandom = new Uint8Array(randomBytes(10))
  }
  return encodeTime(lastTime) + encodeRandom(lastRandom)
}

function encodeTime(t: number): string {
  let s = ''
  for (let i = 0; i < 10; i++) {
    s = ALPHABET[t % 32] + s
    t = Math.floor(t / 32)
  }
  return s
}

function encodeRandom(bytes: Uint8Array): string {
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  let s = ''
  for (let i = 0; i < 16; i++) {
    s = ALPHABET[Number(n & 31n)] + s
    n >>= 5n
  }
  return s
}

/** Big-endian +1; false on overflow. */
function increment(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] !== 0xff) {
      bytes[i] = bytes[i]! + 1
      return true
    }
    bytes[i] = 0
  }
  return false
}
