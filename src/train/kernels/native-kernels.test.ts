import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { kernelsContract, rand, tryNative } from './kernels.contract.js'
import type { Kernels } from './kernels.js'
import { ADDON_PATH, measurePeakGflops } from './native-kernels.js'

const one = tryNative(1)
const three = tryNative(3)
const skip = one.kernels ? '' : ` (skipped: ${one.reason})`

describe.skipIf(!one.kernels)(`native kernels${skip}`, () => {
  kernelsContract('native, 1 thread', () => one.kernels!)
  // Three threads on any core count: uneven splits of every parallel loop.
  kernelsContract('native, 3 threads', () => three.kernels!)

  it('give the same bits whatever the thread count (resume depends on it)', () => {
    const run = (k: Kernels): Float32Array[] => {
      const c = new Float32Array(70 * 900)
      k.sgemm({ m: 70, n: 900, k: 800, a: rand('da', 70 * 800), b: rand('db', 900 * 800), c, transB: true })
      const T = 150
      const segments = Int32Array.from([0, 40, 41, T])
      const shape = { segments, heads: 6, kvHeads: 2, headDim: 32, scale: 0.2 }
      const io = { q: rand('dq', T * 192), k: rand('dk', T * 64), v: rand('dv', T * 64), ...shape }
      const out = new Float32Array(T * 192)
      const lse = new Float32Array(T * 6)
      k.attentionForward({ ...io, out, lse })
      const grads = { dq: new Float32Array(T * 192), dk: new Float32Array(T * 64), dv: new Float32Array(T * 64) }
      k.attentionBackward({ ...io, out, lse, dOut: rand('ddo', T * 192), ...grads })
      const dWeight = new Float32Array(96)
      const rows = 300
      const rstd = new Float32Array(rows)
      const x = rand('dx', rows * 96)
      k.rmsNormForward({ x, weight: rand('dw', 96), rows, dim: 96, eps: 1e-6, out: new Float32Array(rows * 96), rstd })
      k.rmsNormBackward({ x, weight: rand('dw', 96), rows, dim: 96, eps: 1e-6, rstd, dOut: rand('ddy', rows * 96), dX: new Float32Array(rows * 96), dWeight })
      const logits = rand('dl', 20 * 5000, 3)
      const loss = k.crossEntropy({ logits, targets: Int32Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? -1 : i * 7)), rows: 20, vocab: 5000, scale: 1 / 13 })
      return [c, out, lse, grads.dq, grads.dk, grads.dv, dWeight, logits, Float32Array.of(loss)]
    }
    const a = run(one.kernels!)
    const b = run(three.kernels!)
    a.forEach((values, i) => expect(Buffer.from(b[i]!.buffer).equals(Buffer.from(values.buffer)), `output ${i}`).toBe(true))
  })

  it('reject Float64Array (the addon works in float32 only)', () => {
    const k = one.kernels!
    expect(() => k.sgemm({ m: 1, n: 1, k: 1, a: new Float64Array(1) as unknown as Float32Array, b: new Float32Array(1), c: new Float32Array(1) })).toThrow(/a must be a Float32Array, got Float64Array/)
  })

  it('the raw addon throws on bad arguments instead of crashing', () => {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as Record<string, (...args: unknown[]) => unknown>
    const pool = addon.createPool!(2)
    const f = (n: number): Float32Array => new Float32Array(n)
    expect(() => addon.sgemm!(pool, 4, 4, 4, f(15), f(16), f(16), false, false, 1, 0)).toThrow(/sgemm: a holds 15 values/)
    expect(() => addon.sgemm!({}, 1, 1, 1, f(1), f(1), f(1), false, false, 1, 0)).toThrow(/pool from createPool/)
    expect(() => addon.sgemm!(pool, 1, 1, 1, f(1), f(1))).toThrow(/c must be a Float32Array/)
    expect(() => addon.sgemm!(pool, -1, 1, 1, f(1), f(1), f(1), false, false, 1, 0)).toThrow(/m must be an integer/)
    const shared = f(8)
    expect(() => addon.sgemm!(pool, 2, 2, 2, shared.subarray(0, 4), f(4), shared.subarray(3), false, false, 1, 0)).toThrow(/must not share memory/)
    expect(() => addon.dequantize!(pool, 2, new Uint8Array(33), f(32), 32)).toThrow(/src holds 33 bytes/)
    expect(() => addon.rope!(pool, f(8), Int32Array.from([0, 5]), 1, 2, 1e4, false)).toThrow(/x holds 8 values/)
    expect(() => addon.attentionForward!(pool, f(4), f(4), f(4), Int32Array.from([0, 2]), 2, 2, 1, 1, f(4), f(3))).toThrow(/lse holds 3/)
    expect(() => addon.attentionBackward!(pool, f(4), f(4), f(4), Int32Array.from([0, 2]), 2, 2, 1, 1, f(4), f(4), f(4), f(4), f(3), f(4))).toThrow(/dk holds 3/)
    expect(() => addon.crossEntropy!(pool, f(4), Int32Array.from([0, -2]), 2, 2, 1)).toThrow(/targets\[1\] = -2/)
    expect(() => addon.createPool!(0)).toThrow(/threads must be an integer/)
  })

  it('measure a plausible FMA peak and name the instruction set', () => {
    expect(measurePeakGflops(1)).toBeGreaterThan(0.5)
    expect((one.kernels as unknown as { isa: string }).isa).toMatch(/avx2|scalar/)
  })
})
