import { beforeAll, describe, expect, it } from 'vitest'
import { RagtuneError } from '../../errors.js'
import { seededUniform } from '../../models/seeded-random.js'
import { dequantizeQ8_0, f16BitsToF32, quantizeQ8_0 } from '../../models/tiny-llama/half-float.js'
import { JsKernels } from './js-kernels.js'
import type { Kernels } from './kernels.js'
import { loadKernels, type LoadedKernels } from './load-kernels.js'

/** Seeded uniform values with standard deviation `std` (one stream per name). */
export function rand(name: string, length: number, std = 1, center = 0): Float32Array {
  return seededUniform(name, 7, length, std, center)
}

/** The native kernels on `threads` threads, or why they are not available (then native tests skip). */
export function tryNative(threads: number): { kernels?: LoadedKernels; reason: string } {
  try {
    return { kernels: loadKernels({ backend: 'native', threads }), reason: '' }
  } catch (err) {
    return { reason: err instanceof Error ? err.message.split('\n')[0]! : String(err) }
  }
}

/**
 * Elementwise |actual − expected| ≤ rtol·|expected| + atol, reporting the worst offender. `atol`
 * defaults to rtol times the largest |expected|, i.e. the test is relative to the array's scale for
 * values that cancel to near zero.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what: string, atol?: number): void {
  expect(actual.length, `${what}: length`).toBe(expected.length)
  let scale = 0
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!))
  const abs = atol ?? rtol * scale
  let worst = -1
  let worstExcess = 0
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!
    const e = expected[i]!
    const excess = Math.abs(a - e) - (rtol * Math.abs(e) + abs)
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i
      worstExcess = excess
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: index ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${abs.toExponential(2)})`)
  }
}

/** Central finite differences of a scalar function of `x` (Float64Array), at every index given. */
export function finiteDifferences(x: Float64Array, f: () => number, indices: Iterable<number>, h = 1e-6): Map<number, number> {
  const out = new Map<number, number>()
  for (const i of indices) {
    const saved = x[i]!
    x[i] = saved + h
    const up = f()
    x[i] = saved - h
    const down = f()
    x[i] = saved
    out.set(i, (up - down) / (2 * h))
  }
  return out
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}

export function f64(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values)
}

/** Σ g_i·y_i: a random linear functional turns a vector output into the scalar a gradient check needs. */
export function dot(g: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < g.length; i++) s += g[i]! * y[i]!
  return s
}

/** |actual − expected| ≤ bound elementwise (a rounding-error bound computed by the caller). */
function expectWithin(actual: ArrayLike<number>, expected: ArrayLike<number>, bound: ArrayLike<number>, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!)
    if (!(err <= bound[i]!)) expect.fail(`${what}: index ${i} is ${actual[i]}, expected ${expected[i]} (bound ${bound[i]})`)
  }
}

function abs(values: Float32Array): Float32Array {
  return values.map(Math.abs)
}

function expectBadArgument(run: () => unknown, message: RegExp): void {
  let thrown: unknown
  try {
    run()
  } catch (err) {
    thrown = err
  }
  expect(thrown, `expected a KERNEL_BAD_ARGUMENT error matching ${message}`).toBeInstanceOf(RagtuneError)
  expect((thrown as RagtuneError).code).toBe('KERNEL_BAD_ARGUMENT')
  expect((thrown as RagtuneError).message).toMatch(message)
}

const U = 2 ** -24

/**
 * What every `Kernels` implementation must do, checked against the JS reference (`JsKernels`,
 * computing in double from the same float32 inputs) on seeded random inputs, odd shapes included.
 * Tolerances are stated per kernel: GEMM gets the classic worst-case float32 dot-product bound
 * (k + 4)·2u·(|α|·|A||B| + |β|·|C|), u = 2⁻²⁴; the rest get a relative tolerance scaled by the
 * output's largest magnitude (float32 sums and a polynomial exp against double).
 */
export function kernelsContract(label: string, make: () => Kernels): void {
  const ref = new JsKernels()

  describe(`Kernels contract: ${label}`, () => {
    let k: Kernels
    beforeAll(() => {
      k = make()
    })

    describe('sgemm', () => {
      const shapes: Array<[number, number, number]> = [
        [1, 1, 1], [1, 17, 5], [7, 1, 13], [6, 16, 8], [13, 29, 37], [5, 3, 0], [0, 4, 3], [64, 48, 200], [100, 16, 576], [16, 100, 300], [37, 300, 3],
      ]
      const combos: Array<[boolean, boolean]> = [[false, false], [false, true], [true, false], [true, true]]
      const check = (m: number, n: number, kk: number, transA: boolean, transB: boolean, scalars: Array<[number, number]>): void => {
        const a = rand(`a${m},${n},${kk}`, m * kk)
        const b = rand(`b${m},${n},${kk}`, kk * n)
        const c0 = rand(`c${m},${n},${kk}`, m * n)
        const magnitude = new Float64Array(m * n)
        ref.sgemm({ m, n, k: kk, a: abs(a), b: abs(b), c: magnitude, transA, transB })
        for (const [alpha, beta] of scalars) {
          const c = beta === 0 ? new Float32Array(m * n).fill(Number.NaN) : c0.slice()
          k.sgemm({ m, n, k: kk, a, b, c, transA, transB, alpha, beta })
          const expected = Float64Array.from(c0)
          ref.sgemm({ m, n, k: kk, a, b, c: expected, transA, transB, alpha, beta })
          const bound = magnitude.map((p, i) => (kk + 4) * 2 * U * (Math.abs(alpha) * p + Math.abs(beta) * Math.abs(c0[i]!)) + 1e-30)
          expectWithin(c, expected, bound, `sgemm m=${m} n=${n} k=${kk} transA=${transA} transB=${transB} alpha=${alpha} beta=${beta}`)
        }
      }
      for (const [transA, transB] of combos) {
        it(`matches the reference, transA=${transA} transB=${transB}, beta 0 (C = NaN before), 1 and 0.5`, () => {
          for (const [m, n, kk] of shapes) check(m, n, kk, transA, transB, [[1, 0], [1, 1], [-0.7, 0.5]])
        })
      }
      it('handles several column and depth blocks (n > 3072, k > 384)', () => {
        check(70, 3100, 800, false, true, [[1, 0]])
        check(70, 3100, 800, true, false, [[0.5, 1]])
      })
      it('alpha 0 only scales C and never reads A or B', () => {
        const c = Float32Array.from([1, 2, Number.NaN, 4])
        const nan = new Float32Array(6).fill(Number.NaN)
        k.sgemm({ m: 2, n: 2, k: 3, a: nan, b: nan.slice(), c, alpha: 0, beta: 0 })
        expect(Array.from(c)).toEqual([0, 0, 0, 0])
        c.set([1, 2, 3, 4])
        k.sgemm({ m: 2, n: 2, k: 3, a: nan, b: nan.slice(), c, alpha: 0, beta: 0.5 })
        expect(Array.from(c)).toEqual([0.5, 1, 1.5, 2])
      })
    })

    describe('dequantize', () => {
      it('f32 from unaligned bytes', () => {
        const values = rand('f32', 37, 100)
        const bytes = new Uint8Array(4 * values.length + 1)
        const view = new DataView(bytes.buffer)
        values.forEach((v, i) => view.setFloat32(1 + 4 * i, v, true))
        const out = new Float32Array(values.length)
        k.dequantize('f32', bytes.subarray(1), out, values.length)
        expect(out).toEqual(values)
      })
      it('f16: every one of the 65536 bit patterns, like half-float.ts', () => {
        const bytes = new Uint8Array(2 * 65536 + 1)
        const view = new DataView(bytes.buffer)
        for (let h = 0; h < 65536; h++) view.setUint16(1 + 2 * h, h, true)
        const out = new Float32Array(65536)
        k.dequantize('f16', bytes.subarray(1), out, 65536)
        for (let h = 0; h < 65536; h++) {
          const want = f16BitsToF32(h)
          if (!(Object.is(out[h], want) || (Number.isNaN(want) && Number.isNaN(out[h]!)))) expect.fail(`f16 0x${h.toString(16)}: ${out[h]} != ${want}`)
        }
      })
      it('q8_0 like half-float.ts, exactly, also from unaligned bytes and for a prefix', () => {
        const data = quantizeQ8_0(rand('q8', 32 * 41, 3))
        const want = dequantizeQ8_0(data)
        const out = new Float32Array(want.length)
        k.dequantize('q8_0', data, out, want.length)
        expect(out).toEqual(want)
        const shifted = new Uint8Array(data.length + 3)
        shifted.set(data, 3)
        const prefix = new Float32Array(64).fill(Number.NaN)
        k.dequantize('q8_0', shifted.subarray(3), prefix, 64)
        expect(prefix).toEqual(want.subarray(0, 64))
      })
    })

    describe('rmsNorm', () => {
      for (const [rows, dim] of [[1, 1], [5, 7], [130, 576]] as const) {
        it(`forward and backward match the reference (rows ${rows}, dim ${dim}), rtol 1e-5`, () => {
          const x = rand(`x${rows}`, rows * dim, 2, 0.3)
          const weight = rand(`w${dim}`, dim, 0.5, 1)
          const eps = 1e-5
          const out = new Float32Array(rows * dim)
          const rstd = new Float32Array(rows)
          const rOut = new Float32Array(rows * dim)
          const rRstd = new Float32Array(rows)
          k.rmsNormForward({ x, weight, rows, dim, eps, out, rstd })
          ref.rmsNormForward({ x, weight, rows, dim, eps, out: rOut, rstd: rRstd })
          expectClose(rstd, rRstd, 1e-6, 'rstd')
          expectClose(out, rOut, 1e-5, 'out')
          const dOut = rand(`dy${rows}`, rows * dim)
          const start = rand(`dw${dim}`, dim)
          const dX = new Float32Array(rows * dim)
          const dWeight = start.slice()
          const rdX = new Float32Array(rows * dim)
          const rdWeight = Float64Array.from(start)
          k.rmsNormBackward({ x, weight, rows, dim, eps, rstd: rRstd, dOut, dX, dWeight })
          ref.rmsNormBackward({ x, weight, rows, dim, eps, rstd: rRstd, dOut, dX: rdX, dWeight: rdWeight })
          // dX = s·w·dy − (s³/dim)·(Σ dy·w·x)·x can cancel to nearly nothing (dim 1): scale atol by the terms.
          const termScale = Math.max(...rRstd) * Math.max(...abs(weight)) * Math.max(...abs(dOut))
          expectClose(dX, rdX, 1e-5, 'dX', 1e-5 * termScale)
          expectClose(dWeight, rdWeight, 1e-5, 'dWeight (added to what it held)')
          const dXOnly = new Float32Array(rows * dim)
          k.rmsNormBackward({ x, weight, rows, dim, eps, rstd: rRstd, dOut, dX: dXOnly })
          expect(dXOnly).toEqual(dX)
        })
      }
    })

    describe('rope', () => {
      const cases = [
        { segments: [0, 1], heads: 1, headDim: 2, freqBase: 10000 },
        { segments: [0, 5, 6, 6, 20], heads: 3, headDim: 8, freqBase: 10000 },
        { segments: [0, 300], heads: 2, headDim: 64, freqBase: 100000 },
      ]
      for (const c of cases) {
        it(`matches the reference and inverse undoes it (segments ${c.segments.join(',')}, headDim ${c.headDim}), rtol 1e-6`, () => {
          const segments = Int32Array.from(c.segments)
          const original = rand(`rope${c.headDim}`, c.segments.at(-1)! * c.heads * c.headDim)
          const x = original.slice()
          const want = original.slice()
          k.rope({ x, segments, heads: c.heads, headDim: c.headDim, freqBase: c.freqBase })
          ref.rope({ x: want, segments, heads: c.heads, headDim: c.headDim, freqBase: c.freqBase })
          expectClose(x, want, 1e-6, 'rope')
          k.rope({ x, segments, heads: c.heads, headDim: c.headDim, freqBase: c.freqBase, inverse: true })
          expectClose(x, original, 1e-5, 'inverse(rope(x))')
        })
      }
    })

    describe('attention', () => {
      const cases = [
        { segments: [0, 1], heads: 1, kvHeads: 1, headDim: 1 },
        { segments: [0, 3, 3, 4, 40], heads: 6, kvHeads: 2, headDim: 5 },
        { segments: [0, 37, 100], heads: 4, kvHeads: 4, headDim: 16 },
        { segments: [0, 200], heads: 9, kvHeads: 3, headDim: 64 },
      ]
      for (const c of cases) {
        it(`forward and backward match the reference (segments ${c.segments.join(',')}, heads ${c.heads}/${c.kvHeads}, headDim ${c.headDim}), rtol 1e-4`, () => {
          const T = c.segments.at(-1)!
          const segments = Int32Array.from(c.segments)
          const qn = T * c.heads * c.headDim
          const kn = T * c.kvHeads * c.headDim
          const shape = { segments, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim) }
          const io = { q: rand(`q${T}`, qn, 1.5), k: rand(`k${T}`, kn, 1.5), v: rand(`v${T}`, kn), ...shape }
          const out = new Float32Array(qn)
          const lse = new Float32Array(T * c.heads)
          const rOut = new Float32Array(qn)
          const rLse = new Float32Array(T * c.heads)
          k.attentionForward({ ...io, out, lse })
          ref.attentionForward({ ...io, out: rOut, lse: rLse })
          expectClose(out, rOut, 1e-5, 'out')
          expectClose(lse, rLse, 1e-6, 'lse')
          const dOut = rand(`do${T}`, qn)
          const grads = { dq: new Float32Array(qn).fill(Number.NaN), dk: new Float32Array(kn).fill(Number.NaN), dv: new Float32Array(kn).fill(Number.NaN) }
          const want = { dq: new Float32Array(qn), dk: new Float32Array(kn), dv: new Float32Array(kn) }
          k.attentionBackward({ ...io, out: rOut, lse: rLse, dOut, ...grads })
          ref.attentionBackward({ ...io, out: rOut, lse: rLse, dOut, ...want })
          expectClose(grads.dq, want.dq, 1e-4, 'dq')
          expectClose(grads.dk, want.dk, 1e-4, 'dk')
          expectClose(grads.dv, want.dv, 1e-4, 'dv')
        })
      }
    })

    describe('swiglu', () => {
      const extremes = [-1000, -90, -20, -1e-3, 0, 1e-3, 20, 90, 1000]
      for (const n of [0, 1, 7, 8, 9, 1000, 40000]) {
        it(`forward and backward match the reference (n ${n}), rtol 1e-5`, () => {
          const gate = rand(`g${n}`, n, 4)
          gate.set(extremes.slice(0, n))
          const up = rand(`u${n}`, n)
          const dOut = rand(`d${n}`, n)
          const out = new Float32Array(n)
          const want = new Float32Array(n)
          k.swigluForward({ gate, up, out, n })
          ref.swigluForward({ gate, up, out: want, n })
          expectClose(out, want, 1e-5, 'out')
          const dGate = new Float32Array(n)
          const dUp = new Float32Array(n)
          const wGate = new Float32Array(n)
          const wUp = new Float32Array(n)
          k.swigluBackward({ gate, up, dOut, dGate, dUp, n })
          ref.swigluBackward({ gate, up, dOut, dGate: wGate, dUp: wUp, n })
          expectClose(dGate, wGate, 1e-5, 'dGate')
          expectClose(dUp, wUp, 1e-5, 'dUp')
        })
      }
    })

    describe('crossEntropy', () => {
      for (const [rows, vocab] of [[6, 1], [6, 7], [6, 1000], [2, 49152]] as const) {
        it(`loss and gradient match the reference (rows ${rows}, vocab ${vocab}), rtol 1e-6 / 1e-5`, () => {
          const targets = Int32Array.from([3, -1, 0, vocab - 1, -1, 2].slice(0, rows), (t) => (t < 0 ? t : t % vocab))
          const logits = rand(`l${vocab}`, rows * vocab, 3)
          const want = logits.slice()
          const loss = k.crossEntropy({ logits, targets, rows, vocab, scale: 0.25 })
          const wantLoss = ref.crossEntropy({ logits: want, targets, rows, vocab, scale: 0.25 })
          expect(Math.abs(loss - wantLoss)).toBeLessThanOrEqual(1e-6 * Math.abs(wantLoss) + 1e-9)
          expectClose(logits, want, 1e-5, 'gradient', 1e-9)
          for (let j = 0; j < vocab; j++) expect(logits[vocab + j]).toBe(0)
        })
      }
    })

    describe('bad arguments throw KERNEL_BAD_ARGUMENT (never crash)', () => {
      const f = (n: number): Float32Array => new Float32Array(n)
      const seg = Int32Array.from([0, 2])
      const att = { q: f(4), k: f(4), v: f(4), segments: seg, heads: 2, kvHeads: 2, headDim: 1, scale: 1 }
      const cases: Array<[string, () => unknown, RegExp]> = [
        ['short a', () => k.sgemm({ m: 2, n: 2, k: 2, a: f(3), b: f(4), c: f(4) }), /sgemm: a holds 3 values, needs at least m·k/],
        ['fractional m', () => k.sgemm({ m: 1.5, n: 2, k: 2, a: f(4), b: f(4), c: f(4) }), /m must be an integer/],
        ['negative n', () => k.sgemm({ m: 1, n: -1, k: 2, a: f(4), b: f(4), c: f(4) }), /n must be an integer/],
        ['NaN alpha', () => k.sgemm({ m: 1, n: 1, k: 1, a: f(1), b: f(1), c: f(1), alpha: Number.NaN }), /alpha must be a finite number/],
        ['c overlapping a', () => {
          const buf = f(8)
          k.sgemm({ m: 2, n: 2, k: 2, a: buf.subarray(0, 4), b: f(4), c: buf.subarray(2, 6) })
        }, /c and a must not share memory/],
        ['plain array', () => k.sgemm({ m: 1, n: 1, k: 1, a: [1] as unknown as Float32Array, b: f(1), c: f(1) }), /a must be a Float32Array/],
        ['q8_0 partial block', () => k.dequantize('q8_0', new Uint8Array(34), f(32), 16), /multiple of 32/],
        ['short f16 bytes', () => k.dequantize('f16', new Uint8Array(3), f(2), 2), /src holds 3 bytes, needs 4/],
        ['unknown type', () => k.dequantize('q4_k' as 'f16', new Uint8Array(4), f(2), 2), /type must be/],
        ['short rstd', () => k.rmsNormForward({ x: f(6), weight: f(3), rows: 2, dim: 3, eps: 1e-5, out: f(6), rstd: f(1) }), /rstd holds 1 values/],
        ['short dWeight', () => k.rmsNormBackward({ x: f(6), weight: f(3), rows: 2, dim: 3, eps: 1e-5, rstd: f(2), dOut: f(6), dX: f(6), dWeight: f(2) }), /dWeight holds 2/],
        ['odd headDim', () => k.rope({ x: f(6), segments: seg, heads: 1, headDim: 3, freqBase: 1e4 }), /headDim must be even/],
        ['segments not from 0', () => k.rope({ x: f(8), segments: Int32Array.from([1, 2]), heads: 1, headDim: 2, freqBase: 1e4 }), /segments must start with 0/],
        ['decreasing segments', () => k.rope({ x: f(8), segments: Int32Array.from([0, 2, 1]), heads: 1, headDim: 2, freqBase: 1e4 }), /never decrease/],
        ['short x for the segments', () => k.rope({ x: f(3), segments: seg, heads: 1, headDim: 2, freqBase: 1e4 }), /x holds 3 values/],
        ['heads not a multiple of kvHeads', () => k.attentionForward({ ...att, heads: 3, kvHeads: 2, out: f(6), lse: f(6) }), /multiple of kvHeads/],
        ['short lse', () => k.attentionForward({ ...att, out: f(4), lse: f(3) }), /lse holds 3 values/],
        ['out aliasing q', () => k.attentionForward({ ...att, out: att.q, lse: f(4) }), /out and q must not share memory/],
        ['dk aliasing dv', () => {
          const g = f(4)
          k.attentionBackward({ ...att, out: f(4), lse: f(4), dOut: f(4), dq: f(4), dk: g, dv: g })
        }, /dk and dv must not share memory/],
        ['short up', () => k.swigluForward({ gate: f(4), up: f(3), out: f(4), n: 4 }), /up holds 3 values/],
        ['target out of range', () => k.crossEntropy({ logits: f(4), targets: Int32Array.from([0, 2]), rows: 2, vocab: 2, scale: 1 }), /targets\[1\] = 2 is outside/],
        ['targets not Int32Array', () => k.crossEntropy({ logits: f(4), targets: [0, 1] as unknown as Int32Array, rows: 2, vocab: 2, scale: 1 }), /targets must be an Int32Array/],
      ]
      for (const [name, run, message] of cases) it(name, () => expectBadArgument(run, message))
    })
  })
}
