import { describe, expect, it } from 'vitest'
import type { SafetensorsTensor } from './safetensors.js'
import { decodeSafetensors, encodeSafetensors } from './safetensors.js'

/** A file assembled by hand from the format's description, independent of encodeSafetensors. */
function handMade(header: Record<string, unknown>, data: number[]): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const out = Buffer.alloc(8 + json.byteLength + data.length)
  out.writeBigUInt64LE(BigInt(json.byteLength), 0)
  json.copy(out, 8)
  Buffer.from(data).copy(out, 8 + json.byteLength)
  return out
}

describe('safetensors', () => {
  it('reads F32, F16 and BF16 little-endian data at the header offsets', () => {
    const bytes = handMade(
      {
        __metadata__: { format: 'pt' },
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        h: { dtype: 'F16', shape: [1, 2], data_offsets: [8, 12] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [12, 16] },
      },
      // f32 1.5 (0x3fc00000), f32 -2 (0xc0000000), f16 1 (0x3c00), f16 -0.5 (0xb800), bf16 1 (0x3f80), bf16 -3 (0xc040)
      [0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0, 0x00, 0x3c, 0x00, 0xb8, 0x80, 0x3f, 0x40, 0xc0],
    )
    const file = decodeSafetensors(bytes)
    expect(file.metadata).toEqual({ format: 'pt' })
    expect([...(file.tensors.get('a')?.values ?? [])]).toEqual([1.5, -2])
    expect(file.tensors.get('h')).toMatchObject({ dtype: 'F16', shape: [1, 2] })
    expect([...(file.tensors.get('h')?.values ?? [])]).toEqual([1, -0.5])
    expect([...(file.tensors.get('b')?.values ?? [])]).toEqual([1, -3])
  })

  it('round-trips all three dtypes, rounding F16/BF16 to nearest, with an 8-byte aligned header', () => {
    const values = Float32Array.from([0.1, -1.2345678, 3e-3, 65504, 1 / 3])
    const tensors = new Map<string, SafetensorsTensor>([
      ['x.f32', { dtype: 'F32', shape: [5], values }],
      ['x.f16', { dtype: 'F16', shape: [5, 1], values }],
      ['x.bf16', { dtype: 'BF16', shape: [1, 5], values }],
    ])
    const bytes = encodeSafetensors(tensors, { note: 'hi' })
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0)
    const back = decodeSafetensors(bytes)
    expect(back.metadata).toEqual({ note: 'hi' })
    expect(back.tensors.get('x.f32')?.values).toEqual(values)
    const f16 = back.tensors.get('x.f16')?.values as Float32Array
    const bf16 = back.tensors.get('x.bf16')?.values as Float32Array
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number
      expect(Math.abs((f16[i] as number) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 1e-7)
      expect(Math.abs((bf16[i] as number) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -8)
    }
    // Ties go to even, as in torch: 1 + 2^-8 lies halfway between bf16 1 and 1 + 2^-7.
    const tie = decodeSafetensors(encodeSafetensors(new Map([['t', { dtype: 'BF16', shape: [2], values: Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8]) }]])))
    expect([...(tie.tensors.get('t')?.values ?? [])]).toEqual([1, 1 + 2 ** -6])
  })

  it('rejects unsupported dtypes, bad offsets and a shape that does not match the values', () => {
    expect(() => decodeSafetensors(handMade({ i: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, [0, 0, 0, 0, 0, 0, 0, 0]), 'x.safetensors')).toThrow(
      /x\.safetensors .*tensor i has dtype I64, expected F32, F16 or BF16/,
    )
    expect(() => decodeSafetensors(handMade({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, [0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/do not fit shape \[3\]/)
    expect(() => decodeSafetensors(Buffer.from([255, 0, 0, 0, 0, 0, 0, 0, 1]))).toThrow(/header claims 255 bytes/)
    expect(() => encodeSafetensors(new Map([['a', { dtype: 'F32', shape: [2, 2], values: new Float32Array(3) }]]))).toThrow(/shape \[2, 2\] \(4 values\) but 3/)
  })
})
