import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readGgufFileInfo } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GgufFile } from './gguf-writer.js'
import { GGUF_MAGIC, encodeGguf, gguf, tensorByteSize, writeGguf } from './gguf-writer.js'
import { Q8_0_BLOCK_BYTES, dequantizeQ8_0, f16BitsToF32, f32ToF16Bits, quantizeQ8_0 } from './half-float.js'
import { seededUniform } from '../seeded-random.js'

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ragtune-gguf-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const sample = (alignment?: number): GgufFile => ({
  metadata: [
    ['general.architecture', gguf.str('llama')],
    ['test.count', gguf.u32(7)],
    ['test.flag', gguf.bool(true)],
    ['test.eps', gguf.f32(0.5)],
    ['test.words', gguf.strings(['a', 'ünï', ''])],
    ['test.ints', gguf.i32s([-1, 2, 3])],
    ['test.floats', gguf.f32s([0.25, -4])],
  ],
  tensors: [
    { name: 'three', dims: [3], type: 'f32', values: () => Float32Array.from([1, 2, 3]) },
    { name: 'matrix', dims: [32, 2], type: 'q8_0', values: () => seededUniform('m', 1, 64, 1) },
    { name: 'half', dims: [2, 2], type: 'f16', values: () => Float32Array.from([1, -2, 0.5, 65504]) },
  ],
  ...(alignment ? { alignment } : {}),
})

describe('GGUF writer', () => {
  it('writes the v3 header, typed metadata and little-endian scalars', () => {
    const bytes = encodeGguf(sample())
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('GGUF')
    expect(view.getUint32(0, true)).toBe(GGUF_MAGIC)
    expect(view.getUint32(4, true)).toBe(3)
    expect(view.getBigUint64(8, true)).toBe(3n) // tensors
    expect(view.getBigUint64(16, true)).toBe(7n) // metadata pairs
    expect(view.getBigUint64(24, true)).toBe(20n) // key length
    expect(bytes.subarray(32, 52).toString('utf8')).toBe('general.architecture')
    expect(view.getUint32(52, true)).toBe(8) // string
    expect(view.getBigUint64(56, true)).toBe(5n)
    expect(bytes.subarray(64, 69).toString('utf8')).toBe('llama')
  })

  it('aligns the data section and every tensor, and records general.alignment when not 32', async () => {
    for (const alignment of [32, 64]) {
      const file = sample(alignment === 32 ? undefined : alignment)
      const written = await writeGguf(join(root, `a${alignment}.gguf`), file)
      const bytes = await readFile(written.path)
      const info = await readGgufFileInfo(written.path, { logWarnings: false })
      const dataStart = info.infoEndOffset as number
      expect(dataStart % alignment).toBe(0)
      const offsets = (info.tensorInfo ?? []).map((t) => Number(t.offset))
      expect(offsets).toEqual([0, alignment, alignment + Math.ceil((2 * Q8_0_BLOCK_BYTES) / alignment) * alignment])
      expect(bytes.byteLength).toBe(dataStart + offsets[2]! + Math.ceil(8 / alignment) * alignment)
      expect(bytes.subarray(dataStart, dataStart + 12)).toEqual(Buffer.from(Float32Array.from([1, 2, 3]).buffer))
      expect((info.metadata.general as Record<string, unknown>).alignment).toBe(alignment === 32 ? undefined : alignment)
    }
  })

  it('is read back by node-llama-cpp with every value and tensor shape intact', async () => {
    const { path } = await writeGguf(join(root, 'sample.gguf'), sample())
    const info = await readGgufFileInfo(path, { logWarnings: false })
    expect(info.version).toBe(3)
    expect(info.metadata as unknown).toMatchObject({
      general: { architecture: 'llama' },
      test: { count: 7, flag: true, eps: 0.5, words: ['a', 'ünï', ''], ints: [-1, 2, 3], floats: [0.25, -4] },
    })
    expect(info.tensorInfo?.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType])).toEqual([
      ['three', [3], 0],
      ['matrix', [32, 2], 8],
      ['half', [2, 2], 1],
    ])
  })

  it('refuses Q8_0 for a first dimension that is not a multiple of 32', () => {
    expect(() => tensorByteSize({ name: 'bad', dims: [48, 2], type: 'q8_0' })).toThrow(/multiple of 32/)
    expect(tensorByteSize({ name: 'ok', dims: [64, 3], type: 'q8_0' })).toBe(6 * 34)
  })
})

describe('half floats', () => {
  it('converts known values, rounding ties to even', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [0.1, 0x2e66], [65504, 0x7bff], [65520, 0x7c00],
      [Infinity, 0x7c00], [-Infinity, 0xfc00], [2 ** -24, 0x0001], [2 ** -26, 0x0000], [6.097555160522461e-5, 0x03ff], [2 ** -14, 0x0400],
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [3 * 2 ** -25, 0x0002],
    ]
    for (const [value, bits] of cases) expect([value, f32ToF16Bits(value)]).toEqual([value, bits])
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(Number.NaN)))).toBe(true)
  })

  it('round-trips every finite half float exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue // Inf and NaN
      if (f32ToF16Bits(f16BitsToF32(bits)) !== bits) throw new Error(`half 0x${bits.toString(16)} does not round-trip`)
    }
  })
})

describe('Q8_0', () => {
  it('round-trips within half a step plus the scale rounding, block by block', () => {
    const values = seededUniform('q8', 3, 32 * 64, 2)
    values[5] = 0
    values.fill(0, 64, 96) // an all-zero block must stay zero, not NaN
    const data = quantizeQ8_0(values)
    expect(data.byteLength).toBe(64 * Q8_0_BLOCK_BYTES)
    const back = dequantizeQ8_0(data)
    for (let b = 0; b < 64; b++) {
      const block = values.subarray(b * 32, b * 32 + 32)
      const amax = Math.max(...block.map(Math.abs))
      const bound = amax / 254 + amax * 2 ** -11 + 1e-7
      for (let i = 0; i < 32; i++) expect(Math.abs((back[b * 32 + i] as number) - (block[i] as number))).toBeLessThanOrEqual(bound)
    }
    expect(back.subarray(64, 96).every((v) => v === 0)).toBe(true)
  })

  it('stores the scale as a half float and the extreme value as ±127', () => {
    const values = new Float32Array(32).map((_, i) => (i - 16) / 16)
    const data = quantizeQ8_0(values)
    const view = new DataView(data.buffer)
    expect(f16BitsToF32(view.getUint16(0, true))).toBeCloseTo(1 / 127, 5)
    expect(view.getInt8(2)).toBe(-127)
    expect(view.getInt8(2 + 16)).toBe(0)
  })
})
