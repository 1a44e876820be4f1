import { f16BitsToF32, Q8_0_BLOCK, Q8_0_BLOCK_BYTES } from '../../models/tiny-llama/half-float.js'
import { checkAttention, checkCrossEntropy, checkDequantize, checkGemm, checkRmsNorm, checkRope, checkSwiglu, type Floats } from './check-args.js'
import type { AttentionArgs, GemmArgs, Kernels, RmsNormArgs, WeightType } from './kernels.js'

/** The Kernels argument types with every Float32Array widened to Float32Array | Float64Array. */
type Widen<T> = { [K in keyof T]: Float32Array extends T[K] ? Exclude<T[K], Float32Array> | Floats : T[K] }

let halfTable: Float32Array | undefined

/** All 65536 half floats as float32, built on first use: dequantizing is then one lookup a value. */
function halfs(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536)
    for (let bits = 0; bits < 65536; bits++) halfTable[bits] = f16BitsToF32(bits)
  }
  return halfTable
}

/** rows×cols row-major → cols×rows row-major, in double (exact for float32 input). */
function transpose(src: Floats, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!
  return out
}

/**
 * The reference implementation of `Kernels` in plain TypeScript: one thread, straightforward loops,
 * sums and softmax statistics in double. It is what the native addon is tested against and what
 * runs when the addon could not be built. Every method also accepts Float64Array where the interface
 * says Float32Array, and then computes entirely in double, which is what the finite-difference
 * gradient checks need.
 */
export class JsKernels implements Kernels {
  readonly backend = 'js'
  readonly threads = 1
  /** Why this backend runs instead of the native one, when it was a fallback. */
  readonly warnings: readonly string[]

  constructor(opts: { warnings?: readonly string[] } = {}) {
    this.warnings = opts.warnings ?? []
  }

  sgemm(args: Widen<GemmArgs>): void {
    const { m, n, k, alpha, beta } = checkGemm(args as GemmArgs, true)
    const { c } = args
    if (alpha === 0) {
      // Like BLAS: A and B are not read at all (NaN in them does not leak into C).
      for (let i = 0; i < m * n; i++) c[i] = beta === 0 ? 0 : beta * c[i]!
      return
    }
    // op(A) as m rows of k and op(B)ᵀ as n rows of k, so each C value is one contiguous dot product.
    const a = args.transA ? transpose(args.a, k, m) : args.a
    const bt = args.transB ? args.b : transpose(args.b, k, n)
    // A band of op(B)ᵀ rows stays in cache while every row of op(A) passes over it.
    const band = Math.max(1, Math.floor(16384 / Math.max(1, k)))
    for (let j0 = 0; j0 < n; j0 += band) {
      const j1 = Math.min(n, j0 + band)
      for (let i = 0; i < m; i++) {
        const ai = i * k
        for (let j = j0; j < j1; j++) {
          const bj = j * k
          let sum = 0
          for (let p = 0; p < k; p++) sum += a[ai + p]! * bt[bj + p]!
          const at = i * n + j
          c[at] = beta === 0 ? alpha * sum : alpha * sum + beta * c[at]!
        }
      }
    }
  }

  dequantize(type: WeightType, src: Uint8Array, out: Float32Array, count: number): void {
    checkDequantize(type, src, out, count)
    const view = new DataView(src.buffer, src.byteOffset, src.byteLength)
    if (type === 'f32') {
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true)
    } else if (type === 'f16') {
      const table = halfs()
      for (let i = 0; i < count; i++) out[i] = table[view.getUint16(2 * i, true)]!
    } else {
      const table = halfs()
      for (let b = 0; b < count / Q8_0_BLOCK; b++) {
        const offset = b * Q8_0_BLOCK_BYTES
        const d = table[view.getUint16(offset, true)]!
        for (let i = 0; i < Q8_0_BLOCK; i++) out[b * Q8_0_BLOCK + i] = d * view.getInt8(offset + 2 + i)
      }
    }
  }

  rmsNormForward(args: Widen<RmsNormArgs & { out: Float32Array; rstd: Float32Array }>): void {
    checkRmsNorm('rmsNormForward', args as RmsNormArgs, { out: args.out, rstd: args.rstd }, true)
    const { x, weight, rows, dim, eps, out, rstd } = args
    for (let r = 0; r < rows; r++) {
      const o = r * dim
      let squares = 0
      for (let j = 0; j < dim; j++) squares += x[o + j]! * x[o + j]!
      // Stored first and read back, so the forward uses exactly the value the backward will see.
      rstd[r] = 1 / Math.sqrt(squares / dim + eps)
      const s = rstd[r]!
      for (let j = 0; j < dim; j++) out[o + j] = x[o + j]! * s * weight[j]!
    }
  }

  rmsNormBackward(args: Widen<RmsNormArgs & { rstd: Float32Array; dOut: Float32Array; dX: Float32Array; dWeight?: Float32Array }>): void {
    checkRmsNorm('rmsNormBackward', args as RmsNormArgs, { rstd: args.rstd, dOut: args.dOut, dX: args.dX, dWeight: args.dWeight }, true)
    const { x, weight, rows, dim, rstd, dOut, dX, dWeight } = args
    for (let r = 0; r < rows; r++) {
      const o = r * dim
      const s = rstd[r]!
      // y_j = x_j·s·w_j with s = (mean(x²) + eps)^(-1/2), so ∂s/∂x_j = -s³·x_j / dim.
      let g = 0
      for (let j = 0; j < dim; j++) g += dOut[o + j]! * weight[j]! * x[o + j]!
      const coef = (g * s * s * s) / dim
      // dWeight before dX: dX may be dOut or x itself (in place).
      if (dWeight) for (let j = 0; j < dim; j++) dWeight[j] = dWeight[j]! + dOut[o + j]! * x[o + j]! * s
      for (let j = 0; j < dim; j++) dX[o + j] = s * weight[j]! * dOut[o + j]! - coef * x[o + j]!
    }
  }

  rope(args: { x: Floats; segments: Int32Array; heads: number; headDim: number; freqBase: number; inverse?: boolean }): void {
    checkRope(args, true)
    const { x, segments, heads, headDim, freqBase } = args
    const sign = args.inverse ? -1 : 1
    for (let s = 0; s + 1 < segments.length; s++) {
      const start = segments[s]!
      for (let t = start; t < segments[s + 1]!; t++) {
        for (let i = 0; i < headDim / 2; i++) {
          const theta = (t - start) * freqBase ** ((-2 * i) / headDim)
          const cos = Math.cos(theta)
          const sin = sign * Math.sin(theta)
          for (let h = 0; h < heads; h++) {
            const at = (t * heads + h) * headDim + 2 * i
            const a = x[at]!
            const b = x[at + 1]!
            x[at] = a * cos - b * sin
            x[at + 1] = a * sin + b * cos
          }
        }
      }
    }
  }

  attentionForward(args: Widen<AttentionArgs & { out: Float32Array; lse: Float32Array }>): void {
    const { T, heads, kvHeads, headDim: D, scale } = checkAttention('attentionForward', args as AttentionArgs, {}, { out: args.out, lse: args.lse }, true)
    const { q, k, v, segments, out, lse } = args
    const scores = new Float64Array(maxSegment(segments))
    const acc = new Float64Array(D)
    for (const { h, i, start, len, qi, kv } of causalRows(segments, heads, kvHeads, D)) {
      let max = -Infinity
      for (let j = 0; j < len; j++) {
        const kj = (start + j) * kvHeads * D + kv
        let dot = 0
        for (let d = 0; d < D; d++) dot += q[qi + d]! * k[kj + d]!
        scores[j] = scale * dot
        max = Math.max(max, scores[j]!)
      }
      let sum = 0
      acc.fill(0)
      for (let j = 0; j < len; j++) {
        const p = Math.exp(scores[j]! - max)
        sum += p
        const vj = (start + j) * kvHeads * D + kv
        for (let d = 0; d < D; d++) acc[d] = acc[d]! + p * v[vj + d]!
      }
      for (let d = 0; d < D; d++) out[qi + d] = acc[d]! / sum
      lse[h * T + i] = max + Math.log(sum)
    }
  }

  attentionBackward(args: Widen<AttentionArgs & { out: Float32Array; lse: Float32Array; dOut: Float32Array; dq: Float32Array; dk: Float32Array; dv: Float32Array }>): void {
    const sizes = checkAttention('attentionBackward', args as AttentionArgs, { out: args.out, lse: args.lse, dOut: args.dOut }, { dq: args.dq, dk: args.dk, dv: args.dv }, true)
    const { T, heads, kvHeads, headDim: D, scale } = sizes
    const { q, k, v, segments, out, lse, dOut, dq, dk, dv } = args
    // dk and dv gather from every query row: summed in double, written once at the end.
    const dkAcc = new Float64Array(T * kvHeads * D)
    const dvAcc = new Float64Array(T * kvHeads * D)
    const dqAcc = new Float64Array(D)
    const p = new Float64Array(maxSegment(segments))
    for (const { h, i, start, len, qi, kv } of causalRows(segments, heads, kvHeads, D)) {
      const l = lse[h * T + i]!
      // Softmax backward: dS_ij = P_ij · (dP_ij − Σ_j' P_ij' dP_ij'), and that sum is dOut_i · out_i.
      let delta = 0
      for (let d = 0; d < D; d++) delta += dOut[qi + d]! * out[qi + d]!
      for (let j = 0; j < len; j++) {
        const kj = (start + j) * kvHeads * D + kv
        let dot = 0
        for (let d = 0; d < D; d++) dot += q[qi + d]! * k[kj + d]!
        p[j] = Math.exp(scale * dot - l)
      }
      dqAcc.fill(0)
      for (let j = 0; j < len; j++) {
        const kj = (start + j) * kvHeads * D + kv
        const pj = p[j]!
        let dp = 0
        for (let d = 0; d < D; d++) dp += dOut[qi + d]! * v[kj + d]!
        const ds = scale * pj * (dp - delta)
        for (let d = 0; d < D; d++) {
          dqAcc[d] = dqAcc[d]! + ds * k[kj + d]!
          dkAcc[kj + d] = dkAcc[kj + d]! + ds * q[qi + d]!
          dvAcc[kj + d] = dvAcc[kj + d]! + pj * dOut[qi + d]!
        }
      }
      for (let d = 0; d < D; d++) dq[qi + d] = dqAcc[d]!
    }
    for (let i = 0; i < T * kvHeads * D; i++) {
      dk[i] = dkAcc[i]!
      dv[i] = dvAcc[i]!
    }
  }

  swigluForward(args: { gate: Floats; up: Floats; out: Floats; n: number }): void {
    checkSwiglu('swigluForward', { gate: args.gate, up: args.up, out: args.out }, args.n, true)
    const { gate, up, out, n } = args
    for (let i = 0; i < n; i++) {
      const g = gate[i]!
      out[i] = (g / (1 + Math.exp(-g))) * up[i]!
    }
  }

  swigluBackward(args: { gate: Floats; up: Floats; dOut: Floats; dGate: Floats; dUp: Floats; n: number }): void {
    checkSwiglu('swigluBackward', { gate: args.gate, up: args.up, dOut: args.dOut, dGate: args.dGate, dUp: args.dUp }, args.n, true)
    const { gate, up, dOut, dGate, dUp, n } = args
    for (let i = 0; i < n; i++) {
      const g = gate[i]!
      const u = up[i]!
      const dy = dOut[i]!
      const sig = 1 / (1 + Math.exp(-g))
      // silu'(g) = σ(g)·(1 + g·(1 − σ(g)))
      dGate[i] = dy * u * sig * (1 + g * (1 - sig))
      dUp[i] = dy * g * sig
    }
  }

  crossEntropy(args: { logits: Floats; targets: Int32Array; rows: number; vocab: number; scale: number }): number {
    checkCrossEntropy(args, true)
    const { logits, targets, rows, vocab, scale } = args
    const e = new Float64Array(vocab)
    let total = 0
    for (let r = 0; r < rows; r++) {
      const o = r * vocab
      const t = targets[r]!
      if (t === -1) {
        logits.fill(0, o, o + vocab)
        continue
      }
      let max = -Infinity
      for (let j = 0; j < vocab; j++) max = Math.max(max, logits[o + j]!)
      let sum = 0
      for (let j = 0; j < vocab; j++) {
        e[j] = Math.exp(logits[o + j]! - max)
        sum += e[j]!
      }
      total += max + Math.log(sum) - logits[o + t]!
      for (let j = 0; j < vocab; j++) logits[o + j] = (scale * e[j]!) / sum
      logits[o + t] = logits[o + t]! - scale
    }
    return total
  }
}

function maxSegment(segments: Int32Array): number {
  let longest = 0
  for (let s = 0; s + 1 < segments.length; s++) longest = Math.max(longest, segments[s + 1]! - segments[s]!)
  return longest
}

/**
 * The query rows of causal attention over packed segments, in the order both attention kernels
 * walk them: per segment, per head, token `i` attends to the `len` keys `start..i` of its own
 * segment. `qi` is where row i of head h starts in q (and out, dOut, dq); `kv` is the offset, within
 * a token's kvHeads·D values of k and v, of the key/value head that head h shares (grouped-query
 * attention: heads / kvHeads query heads to each).
 */
function* causalRows(segments: Int32Array, heads: number, kvHeads: number, D: number): Generator<{ h: number; i: number; start: number; len: number; qi: number; kv: number }> {
  const group = heads / kvHeads
  for (let s = 0; s + 1 < segments.length; s++) {
    const start = segments[s]!
    for (let h = 0; h < heads; h++) {
      const kv = Math.floor(h / group) * D
      for (let i = start; i < segments[s + 1]!; i++) yield { h, i, start, len: i - start + 1, qi: (i * heads + h) * D, kv }
    }
  }
}
