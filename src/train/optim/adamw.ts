import type { Param } from '../engine/llama-train-model.js'

/**
 * AdamW (Loshchilov & Hutter) as torch.optim.AdamW computes it: bias-corrected moments, weight
 * decay decoupled from the gradient. Moments are plain Float32Arrays so checkpoints can save and
 * restore them bit for bit.
 */

export interface AdamWOptions {
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
}

export const DEFAULT_ADAMW: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }

export interface AdamWState {
  /** Optimizer steps taken so far. */
  step: number
  m: Float32Array[]
  v: Float32Array[]
}

export function createAdamWState(params: readonly Param[]): AdamWState {
  return { step: 0, m: params.map((p) => new Float32Array(p.value.length)), v: params.map((p) => new Float32Array(p.value.length)) }
}

/** One update of every param from its grad, at learning rate `lr`. */
export function adamWStep(params: readonly Param[], state: AdamWState, lr: number, o: AdamWOptions = DEFAULT_ADAMW): void {
  state.step++
  const c1 = 1 - o.beta1 ** state.step
  const c2 = 1 - o.beta2 ** state.step
  const decay = 1 - lr * o.weightDecay
  params.forEach((p, i) => {
    const m = state.m[i] as Float32Array
    const v = state.v[i] as Float32Array
    const w = p.value
    const g = p.grad
    for (let j = 0; j < w.length; j++) {
      const gj = g[j] as number
      const mj = o.beta1 * (m[j] as number) + (1 - o.beta1) * gj
      const vj = o.beta2 * (v[j] as number) + (1 - o.beta2) * gj * gj
      m[j] = mj
      v[j] = vj
      w[j] = (w[j] as number) * decay - (lr * (mj / c1)) / (Math.sqrt(vj / c2) + o.eps)
    }
  })
}

/** Scales all grads so their global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm(params: readonly Param[], maxNorm: number): number {
  let sum = 0
  for (const p of params) for (const g of p.grad) sum += g * g
  const norm = Math.sqrt(sum)
  if (maxNorm > 0 && norm > maxNorm) {
    const s = maxNorm / (norm + 1e-6)
    for (const p of params) for (let j = 0; j < p.grad.length; j++) p.grad[j] = (p.grad[j] as number) * s
  }
  return norm
}

/** Linear warmup to `lr`, then cosine decay to 0 (or constant), as transformers' schedulers do. */
export function learningRate(o: { lr: number; schedule: 'cosine' | 'constant'; warmupSteps: number; totalSteps: number }, step: number): number {
  if (step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps
  if (o.schedule === 'constant') return o.lr
  const progress = (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps)
  return o.lr * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)))
}
