import { describe, expect, it } from 'vitest'
import { seededUniform } from '../../models/seeded-random.js'
import { dot, expectClose, f64, finiteDifferences, kernelsContract, range } from './kernels.contract.js'
import { JsKernels } from './js-kernels.js'

kernelsContract('js', () => new JsKernels())

/** Seeded values in double precision (the gradient checks run the JS kernels entirely in float64). */
function rand64(name: string, length: number, std = 1, center = 0): Float64Array {
  return f64(seededUniform(name, 11, length, std, center))
}

/** Compares an analytic gradient with central differences at every index; rtol 1e-6 on the array's scale. */
function expectGradient(analytic: Float64Array, x: Float64Array, loss: () => number, what: string): void {
  const numeric = finiteDifferences(x, loss, range(x.length))
  expectClose(analytic, range(x.length).map((i) => numeric.get(i)!), 1e-6, what)
}

// Every backward kernel against finite differences of its forward, in float64: the scalar loss is a
// random linear functional of the forward's output, L = Σ G ⊙ y, so ∂L/∂y = G is the dOut fed back.
describe('JS backward kernels vs finite differences (float64)', () => {
  const k = new JsKernels()

  it('rmsNorm: dX and dWeight', () => {
    const rows = 3
    const dim = 5
    const x = rand64('x', rows * dim, 1, 0.2)
    const weight = rand64('w', dim, 0.5, 1)
    const g = rand64('g', rows * dim)
    const eps = 1e-5
    const loss = (): number => {
      const out = new Float64Array(rows * dim)
      k.rmsNormForward({ x, weight, rows, dim, eps, out, rstd: new Float64Array(rows) })
      return dot(g, out)
    }
    const rstd = new Float64Array(rows)
    k.rmsNormForward({ x, weight, rows, dim, eps, out: new Float64Array(rows * dim), rstd })
    const dX = new Float64Array(rows * dim)
    const dWeight = new Float64Array(dim)
    k.rmsNormBackward({ x, weight, rows, dim, eps, rstd, dOut: g, dX, dWeight })
    expectGradient(dX, x, loss, 'dX')
    expectGradient(dWeight, weight, loss, 'dWeight')
  })

  it('rope: the inverse rotation is the backward', () => {
    const segments = Int32Array.from([0, 1, 4, 9])
    const heads = 2
    const headDim = 6
    const x = rand64('rx', 9 * heads * headDim)
    const g = rand64('rg', x.length)
    const loss = (): number => {
      const y = x.slice()
      k.rope({ x: y, segments, heads, headDim, freqBase: 10000 })
      return dot(g, y)
    }
    const dX = g.slice()
    k.rope({ x: dX, segments, heads, headDim, freqBase: 10000, inverse: true })
    expectGradient(dX, x, loss, 'dX')
  })

  it('attention: dq, dk and dv with segments and grouped-query heads', () => {
    const segments = Int32Array.from([0, 1, 4, 8])
    const heads = 4
    const kvHeads = 2
    const headDim = 3
    const T = 8
    const shape = { segments, heads, kvHeads, headDim, scale: 1 / Math.sqrt(headDim) }
    const q = rand64('aq', T * heads * headDim, 1.5)
    const kk = rand64('ak', T * kvHeads * headDim, 1.5)
    const v = rand64('av', T * kvHeads * headDim)
    const g = rand64('ag', q.length)
    const forward = (): { out: Float64Array; lse: Float64Array } => {
      const out = new Float64Array(q.length)
      const lse = new Float64Array(T * heads)
      k.attentionForward({ q, k: kk, v, ...shape, out, lse })
      return { out, lse }
    }
    const loss = (): number => dot(g, forward().out)
    const { out, lse } = forward()
    const dq = new Float64Array(q.length)
    const dk = new Float64Array(kk.length)
    const dv = new Float64Array(v.length)
    k.attentionBackward({ q, k: kk, v, ...shape, out, lse, dOut: g, dq, dk, dv })
    expectGradient(dq, q, loss, 'dq')
    expectGradient(dk, kk, loss, 'dk')
    expectGradient(dv, v, loss, 'dv')
  })

  it('attention: a row only sees keys of its own segment, up to itself', () => {
    const segments = Int32Array.from([0, 2, 5])
    const shape = { segments, heads: 1, kvHeads: 1, headDim: 2, scale: 0.7 }
    const q = rand64('cq', 10)
    const kk = rand64('ck', 10)
    const v = rand64('cv', 10)
    const run = (): Float64Array => {
      const out = new Float64Array(10)
      k.attentionForward({ q, k: kk, v, ...shape, out, lse: new Float64Array(5) })
      return out
    }
    const before = run()
    // Changing token 3's key and value may move rows 3 and 4 only.
    kk[6] = kk[6]! + 1
    v[7] = v[7]! + 1
    const after = run()
    expect(Array.from(after.subarray(0, 6))).toEqual(Array.from(before.subarray(0, 6)))
    expect(after[6]).not.toBe(before[6])
    // Row 0 attends to itself alone: out = v_0.
    expect(Array.from(before.subarray(0, 2))).toEqual(Array.from(v.subarray(0, 2)))
  })

  it('swiglu: dGate and dUp', () => {
    const n = 9
    const gate = rand64('sg', n, 3)
    const up = rand64('su', n)
    const g = rand64('sd', n)
    const loss = (): number => {
      const out = new Float64Array(n)
      k.swigluForward({ gate, up, out, n })
      return dot(g, out)
    }
    const dGate = new Float64Array(n)
    const dUp = new Float64Array(n)
    k.swigluBackward({ gate, up, dOut: g, dGate, dUp, n })
    expectGradient(dGate, gate, loss, 'dGate')
    expectGradient(dUp, up, loss, 'dUp')
  })

  it('crossEntropy: the logits it leaves are ∂(scale · loss)/∂logits', () => {
    const rows = 4
    const vocab = 6
    const scale = 0.3
    const targets = Int32Array.from([2, -1, 0, 5])
    const logits = rand64('cl', rows * vocab, 2)
    const loss = (): number => scale * k.crossEntropy({ logits: logits.slice(), targets, rows, vocab, scale })
    const grad = logits.slice()
    const total = k.crossEntropy({ logits: grad, targets, rows, vocab, scale })
    expectGradient(grad, logits, loss, 'dLogits')
    // The returned value is the plain sum over scored rows of −log softmax(logits)[target].
    let want = 0
    for (let r = 0; r < rows; r++) {
      if (targets[r] === -1) continue
      const row = Array.from(logits.subarray(r * vocab, (r + 1) * vocab))
      want += Math.log(row.reduce((s, x) => s + Math.exp(x), 0)) - row[targets[r]!]!
    }
    expect(total).toBeCloseTo(want, 12)
  })
})
