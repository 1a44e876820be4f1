/**
 * IEEE-754 half precision and ggml's Q8_0 blocks, written out by hand: GGUF stores F16 tensors and
 * every Q8_0 block scale as half floats, and Node has no Float16Array before v22.
 */

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** Rounds a number to the nearest half float (ties to even), returning its 16 bits. */
export function f32ToF16Bits(value: number): number {
  f32[0] = value
  const x = u32[0] as number
  const sign = (x >>> 16) & 0x8000
  const exponent = (x >>> 23) & 0xff
  let mantissa = x & 0x7fffff
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 | (mantissa >>> 13) : 0)
  const e = exponent - 127 + 15
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa, implicit bit included, into 10 bits.
    if (e < -10) return sign
    mantissa |= 0x800000
    const shift = 14 - e
    let half = mantissa >>> shift
    const rest = mantissa & ((1 << shift) - 1)
    const halfway = 1 << (shift - 1)
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++
    return sign | half
  }
  let half = (e << 10) | (mantissa >>> 13)
  const rest = mantissa & 0x1fff
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++
  return sign | half
}

/** The value of a half float given as its 16 bits. */
export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exponent = (bits >>> 10) & 0x1f
  const mantissa = bits & 0x3ff
  if (exponent === 0) return sign * mantissa * 2 ** -24
  if (exponent === 0x1f) return mantissa !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
}

/** Values per Q8_0 block; a tensor's first dimension must be a multiple of it. */
export const Q8_0_BLOCK = 32
/** Bytes per Q8_0 block: one half-float scale, then 32 signed bytes. */
export const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK

/** C's roundf: halves go away from zero (Math.round sends -2.5 to -2). */
function roundAwayFromZero(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v)
}

/**
 * Quantizes like ggml's reference `quantize_row_q8_0`: per block of 32, scale d = max|x| / 127
 * (stored as f16) and q = round(x / d). Worst-case error per value is d/2 plus the scale's rounding.
 */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % Q8_0_BLOCK !== 0) throw new RangeError(`Q8_0 needs a multiple of ${Q8_0_BLOCK} values, got ${values.length}`)
  const blocks = values.length / Q8_0_BLOCK
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES)
  const view = new DataView(out.buffer)
  for (let b = 0; b < blocks; b++) {
    const start = b * Q8_0_BLOCK
    let amax = 0
    for (let i = 0; i < Q8_0_BLOCK; i++) amax = Math.max(amax, Math.abs(values[start + i] as number))
    const d = Math.fround(amax / 127)
    const inverse = d !== 0 ? Math.fround(1 / d) : 0
    const offset = b * Q8_0_BLOCK_BYTES
    view.setUint16(offset, f32ToF16Bits(d), true)
    for (let i = 0; i < Q8_0_BLOCK; i++) {
      view.setInt8(offset + 2 + i, roundAwayFromZero(Math.fround((values[start + i] as number) * inverse)))
    }
  }
  return out
}

/** Inverse of `quantizeQ8_0`, for round-trip tests and for readers that dequantize on the fly. */
export function dequantizeQ8_0(data: Uint8Array): Float32Array {
  if (data.byteLength % Q8_0_BLOCK_BYTES !== 0) throw new RangeError(`Q8_0 data must be whole ${Q8_0_BLOCK_BYTES}-byte blocks`)
  const blocks = data.byteLength / Q8_0_BLOCK_BYTES
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const out = new Float32Array(blocks * Q8_0_BLOCK)
  for (let b = 0; b < blocks; b++) {
    const offset = b * Q8_0_BLOCK_BYTES
    const d = f16BitsToF32(view.getUint16(offset, true))
    for (let i = 0; i < Q8_0_BLOCK; i++) out[b * Q8_0_BLOCK + i] = d * view.getInt8(offset + 2 + i)
  }
  return out
}
