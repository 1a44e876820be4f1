import type { Kernels } from '../kernels/kernels.js'
import type { WeightMatrix } from './llama-weights.js'

/**
 * One linear layer of the base model with an optional LoRA pair and optional full-weight gradient:
 * y = x·Wᵀ + s·(drop(x)·Aᵀ)·Bᵀ with s = alpha / rank, as PEFT computes it. The forward returns what
 * its backward needs; gradients are ADDED into the parameter grads, so micro-batches accumulate.
 */

export interface LoraParams {
  rank: number
  scale: number
  /** [rank, inputs] */
  a: Float32Array
  /** [outputs, rank] */
  b: Float32Array
  gradA: Float32Array
  gradB: Float32Array
}

export interface EngineContext {
  kernels: Kernels
  /** Dequantization target, big enough for the largest matrix. */
  scratch: Float32Array
  /** LoRA dropout probability; 0 when evaluating. */
  dropout: number
}

export interface LinearCache {
  x: Float32Array
  /** Kept-element mask of LoRA dropout (1 = kept), or null without dropout. */
  mask: Uint8Array | null
  /** drop(x)·Aᵀ, [T, rank]. */
  h: Float32Array | null
}

/** xorshift32 stream for dropout masks: fast, and seeded per (step, micro-batch, layer, target). */
export function dropoutMask(seed: number, length: number, p: number): Uint8Array {
  const mask = new Uint8Array(length)
  let s = seed >>> 0 || 0x9e3779b9
  const threshold = p * 4294967296
  for (let i = 0; i < length; i++) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    mask[i] = (s >>> 0) >= threshold ? 1 : 0
  }
  return mask
}

export class Linear {
  constructor(
    readonly weight: WeightMatrix,
    readonly lora: LoraParams | null,
    /** Full-weight training: ∂loss/∂W accumulates here (f32 weights only). */
    readonly weightGrad: Float32Array | null,
  ) {}

  get inputs(): number {
    return this.weight.cols
  }

  get outputs(): number {
    return this.weight.rows
  }

  /** Writes y [T, outputs]. `maskSeed` keys the dropout mask (ignored when ctx.dropout is 0). */
  forward(ctx: EngineContext, x: Float32Array, T: number, y: Float32Array, maskSeed: number): LinearCache {
    const { kernels } = ctx
    const w = this.weight.values(kernels, ctx.scratch)
    kernels.sgemm({ m: T, n: this.outputs, k: this.inputs, a: x, b: w, c: y, transB: true })
    const lora = this.lora
    if (!lora) return { x, mask: null, h: null }
    const mask = ctx.dropout > 0 ? dropoutMask(maskSeed, T * this.inputs, ctx.dropout) : null
    const xd = mask ? this.dropped(x, mask, ctx.dropout) : x
    const h = new Float32Array(T * lora.rank)
    kernels.sgemm({ m: T, n: lora.rank, k: this.inputs, a: xd, b: lora.a, c: h, transB: true })
    kernels.sgemm({ m: T, n: this.outputs, k: lora.rank, a: h, b: lora.b, c: y, transB: true, alpha: lora.scale, beta: 1 })
    return { x, mask, h }
  }

  /**
   * Given dy [T, outputs], adds parameter gradients and writes dx [T, inputs]; `accumulate` adds to
   * dx instead (q, k and v share one input).
   */
  backward(ctx: EngineContext, cache: LinearCache, dy: Float32Array, T: number, dx: Float32Array, accumulate: boolean): void {
    const { kernels } = ctx
    const w = this.weight.values(kernels, ctx.scratch)
    kernels.sgemm({ m: T, n: this.inputs, k: this.outputs, a: dy, b: w, c: dx, beta: accumulate ? 1 : 0 })
    if (this.weightGrad) kernels.sgemm({ m: this.outputs, n: this.inputs, k: T, a: dy, b: cache.x, c: this.weightGrad, transA: true, beta: 1 })
    const lora = this.lora
    if (!lora || !cache.h) return
    const r = lora.rank
    kernels.sgemm({ m: this.outputs, n: r, k: T, a: dy, b: cache.h, c: lora.gradB, transA: true, alpha: lora.scale, beta: 1 })
    const dh = new Float32Array(T * r)
    kernels.sgemm({ m: T, n: r, k: this.outputs, a: dy, b: lora.b, c: dh, alpha: lora.scale })
    const xd = cache.mask ? this.dropped(cache.x, cache.mask, ctx.dropout) : cache.x
    kernels.sgemm({ m: r, n: this.inputs, k: T, a: dh, b: xd, c: lora.gradA, transA: true, beta: 1 })
    if (!cache.mask) {
      kernels.sgemm({ m: T, n: this.inputs, k: r, a: dh, b: lora.a, c: dx, beta: 1 })
      return
    }
    const dxd = new Float32Array(T * this.inputs)
    kernels.sgemm({ m: T, n: this.inputs, k: r, a: dh, b: lora.a, c: dxd })
    const keep = 1 / (1 - ctx.dropout)
    const mask = cache.mask
    for (let i = 0; i < dxd.length; i++) if (mask[i]) dx[i] = (dx[i] as number) + (dxd[i] as number) * keep
  }

  /** Inverted dropout, as torch.nn.Dropout: kept values scaled by 1 / (1 − p). */
  private dropped(x: Float32Array, mask: Uint8Array, p: number): Float32Array {
    const out = new Float32Array(x.length)
    const keep = 1 / (1 - p)
    for (let i = 0; i < x.length; i++) if (mask[i]) out[i] = (x[i] as number) * keep
    return out
  }
}
