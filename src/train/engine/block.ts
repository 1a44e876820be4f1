import type { LinearName } from '../../models/tiny-llama/tiny-llama.js'
import type { EngineContext, Linear, LinearCache } from './linear.js'
import type { LlamaConfig } from './llama-weights.js'

/**
 * One Llama block, forward and backward:
 *   x2 = x + Wo·attn(rope(Wq·n1), rope(Wk·n1), Wv·n1),  n1 = rmsnorm(x)
 *   y  = x2 + Wdown·(silu(Wgate·n2) ⊙ Wup·n2),           n2 = rmsnorm(x2)
 * The forward keeps exactly what the backward reads; attention keeps only its log-sum-exp.
 */

export interface BlockParams {
  attnNorm: Float32Array
  ffnNorm: Float32Array
  /** Full-weight training only: norm weight gradients. */
  attnNormGrad: Float32Array | null
  ffnNormGrad: Float32Array | null
  linear: Record<LinearName, Linear>
}

interface BlockCache {
  x: Float32Array
  n1: Float32Array
  rstd1: Float32Array
  q: Float32Array
  k: Float32Array
  v: Float32Array
  att: Float32Array
  lse: Float32Array
  x2: Float32Array
  n2: Float32Array
  rstd2: Float32Array
  gate: Float32Array
  up: Float32Array
  act: Float32Array
  lin: Partial<Record<LinearName, LinearCache>>
}

export interface BlockInput {
  T: number
  segments: Int32Array
  /** Distinct per block and micro-batch, so every dropout mask differs and is reproducible. */
  maskSeed: number
}

const MASK_SALT: Record<LinearName, number> = { attn_q: 1, attn_k: 2, attn_v: 3, attn_output: 4, ffn_gate: 5, ffn_up: 6, ffn_down: 7 }

export function blockForward(ctx: EngineContext, c: LlamaConfig, p: BlockParams, x: Float32Array, input: BlockInput): { y: Float32Array; cache: BlockCache } {
  const { kernels } = ctx
  const { T, segments } = input
  const h = c.hidden
  const kv = c.kvHeads * c.headDim
  const seed = (name: LinearName): number => Math.imul(input.maskSeed ^ MASK_SALT[name], 0x2c1b3c6d) >>> 0
  const lin: BlockCache['lin'] = {}
  const run = (name: LinearName, from: Float32Array, outputs: number): Float32Array => {
    const out = new Float32Array(T * outputs)
    lin[name] = p.linear[name].forward(ctx, from, T, out, seed(name))
    return out
  }

  const n1 = new Float32Array(T * h)
  const rstd1 = new Float32Array(T)
  kernels.rmsNormForward({ x, weight: p.attnNorm, rows: T, dim: h, eps: c.eps, out: n1, rstd: rstd1 })
  const q = run('attn_q', n1, h)
  const k = run('attn_k', n1, kv)
  const v = run('attn_v', n1, kv)
  kernels.rope({ x: q, segments, heads: c.heads, headDim: c.headDim, freqBase: c.ropeBase })
  kernels.rope({ x: k, segments, heads: c.kvHeads, headDim: c.headDim, freqBase: c.ropeBase })
  const att = new Float32Array(T * h)
  const lse = new Float32Array(c.heads * T)
  kernels.attentionForward({ q, k, v, segments, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim), out: att, lse })
  const x2 = run('attn_output', att, h)
  for (let i = 0; i < x2.length; i++) x2[i] = (x2[i] as number) + (x[i] as number)

  const n2 = new Float32Array(T * h)
  const rstd2 = new Float32Array(T)
  kernels.rmsNormForward({ x: x2, weight: p.ffnNorm, rows: T, dim: h, eps: c.eps, out: n2, rstd: rstd2 })
  const gate = run('ffn_gate', n2, c.ffn)
  const up = run('ffn_up', n2, c.ffn)
  const act = new Float32Array(T * c.ffn)
  kernels.swigluForward({ gate, up, out: act, n: act.length })
  const y = run('ffn_down', act, h)
  for (let i = 0; i < y.length; i++) y[i] = (y[i] as number) + (x2[i] as number)
  return { y, cache: { x, n1, rstd1, q, k, v, att, lse, x2, n2, rstd2, gate, up, act, lin } }
}

/** Given dy = ∂loss/∂y, adds parameter gradients and returns ∂loss/∂x. */
export function blockBackward(ctx: EngineContext, c: LlamaConfig, p: BlockParams, cache: BlockCache, dy: Float32Array, input: BlockInput): Float32Array {
  const { kernels } = ctx
  const { T, segments } = input
  const h = c.hidden
  const kv = c.kvHeads * c.headDim
  const back = (name: LinearName, d: Float32Array, dx: Float32Array, accumulate = false): void =>
    p.linear[name].backward(ctx, cache.lin[name] as LinearCache, d, T, dx, accumulate)

  // MLP: y = x2 + down(act)
  const dAct = new Float32Array(T * c.ffn)
  back('ffn_down', dy, dAct)
  const dGate = new Float32Array(T * c.ffn)
  const dUp = new Float32Array(T * c.ffn)
  kernels.swigluBackward({ gate: cache.gate, up: cache.up, dOut: dAct, dGate, dUp, n: dAct.length })
  const dn2 = new Float32Array(T * h)
  back('ffn_gate', dGate, dn2)
  back('ffn_up', dUp, dn2, true)
  const dx2 = new Float32Array(T * h)
  kernels.rmsNormBackward({ x: cache.x2, weight: p.ffnNorm, rows: T, dim: h, eps: c.eps, rstd: cache.rstd2, dOut: dn2, dX: dx2, ...(p.ffnNormGrad ? { dWeight: p.ffnNormGrad } : {}) })
  for (let i = 0; i < dx2.length; i++) dx2[i] = (dx2[i] as number) + (dy[i] as number)

  // Attention: x2 = x + o(att)
  const dAtt = new Float32Array(T * h)
  back('attn_output', dx2, dAtt)
  const dq = new Float32Array(T * h)
  const dk = new Float32Array(T * kv)
  const dv = new Float32Array(T * kv)
  kernels.attentionBackward({
    q: cache.q, k: cache.k, v: cache.v, segments, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim),
    out: cache.att, lse: cache.lse, dOut: dAtt, dq, dk, dv,
  })
  kernels.rope({ x: dq, segments, heads: c.heads, headDim: c.headDim, freqBase: c.ropeBase, inverse: true })
  kernels.rope({ x: dk, segments, heads: c.kvHeads, headDim: c.headDim, freqBase: c.ropeBase, inverse: true })
  const dn1 = new Float32Array(T * h)
  back('attn_q', dq, dn1)
  back('attn_k', dk, dn1, true)
  back('attn_v', dv, dn1, true)
  const dx = new Float32Array(T * h)
  kernels.rmsNormBackward({ x: cache.x, weight: p.attnNorm, rows: T, dim: h, eps: c.eps, rstd: cache.rstd1, dOut: dn1, dX: dx, ...(p.attnNormGrad ? { dWeight: p.attnNormGrad } : {}) })
  for (let i = 0; i < dx.length; i++) dx[i] = (dx[i] as number) + (dx2[i] as number)
  return dx
}
