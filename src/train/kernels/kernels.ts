/**
 * The compute kernels the CPU trainer is built from. Two implementations exist: the C++ N-API addon
 * (`native/`, multi-threaded, SIMD) and a plain TypeScript one that is the readable reference and
 * the fallback when the addon could not be built. Both must agree to float32 rounding; tests compare
 * them on random inputs.
 *
 * Layout: every matrix is row-major Float32Array. Activations are [tokens, features]. A GGUF matmul
 * weight with dims [in, out] is stored as `out` rows of `in` values, so a linear layer is
 * Y = X · Wᵀ (`transB: true`) and its input gradient is dX = dY · W (`transB: false`).
 *
 * Sequences are packed: several sequences sit one after another in the token dimension, and
 * `segments` holds their start offsets plus the total (length S + 1, segments[0] = 0). Attention and
 * rotary positions restart at every segment; linear layers do not care.
 */

export type WeightType = 'f32' | 'f16' | 'q8_0'

export interface GemmArgs {
  /** C = alpha · op(A) · op(B) + beta · C, with op(A) m×k and op(B) k×n. */
  m: number
  n: number
  k: number
  a: Float32Array
  b: Float32Array
  c: Float32Array
  /** op(A) = Aᵀ: A is stored k×m. */
  transA?: boolean
  /** op(B) = Bᵀ: B is stored n×k. */
  transB?: boolean
  /** Default 1. */
  alpha?: number
  /** Default 0: C is overwritten (its old values, even NaN, are ignored). 1 accumulates. */
  beta?: number
}

export interface RmsNormArgs {
  x: Float32Array
  weight: Float32Array
  rows: number
  dim: number
  eps: number
}

export interface AttentionArgs {
  /** [T, heads·headDim], rotary already applied. */
  q: Float32Array
  /** [T, kvHeads·headDim]; query head h reads kv head floor(h / (heads / kvHeads)). */
  k: Float32Array
  v: Float32Array
  segments: Int32Array
  heads: number
  kvHeads: number
  headDim: number
  /** Usually 1 / sqrt(headDim). */
  scale: number
}

export interface Kernels {
  readonly backend: 'native' | 'js'
  readonly threads: number

  sgemm(args: GemmArgs): void

  /** Raw GGUF tensor bytes (f32, f16 or q8_0 blocks of 32) → `count` float32 values in `out`. */
  dequantize(type: WeightType, src: Uint8Array, out: Float32Array, count: number): void

  /** out = x / rms(x) · weight per row; writes 1/rms of each row to `rstd` (length rows). */
  rmsNormForward(args: RmsNormArgs & { out: Float32Array; rstd: Float32Array }): void
  /**
   * dX = ∂loss/∂x given dOut; written (beta 0) into `dX`. When `dWeight` is given, ∂loss/∂weight is
   * ADDED to it (only full-weight training needs it).
   */
  rmsNormBackward(args: RmsNormArgs & { rstd: Float32Array; dOut: Float32Array; dX: Float32Array; dWeight?: Float32Array }): void

  /**
   * llama.cpp's rotary embedding for Llama ("NORM" mode: adjacent pairs (x[2i], x[2i+1]) rotate by
   * pos · freqBase^(−2i/headDim)), in place on x [T, heads·headDim]; positions restart at every
   * segment. `inverse` rotates by the negative angle, which is the backward pass.
   */
  rope(args: { x: Float32Array; segments: Int32Array; heads: number; headDim: number; freqBase: number; inverse?: boolean }): void

  /**
   * Causal softmax attention within each segment, grouped-query. Writes out [T, heads·headDim] and
   * the log-sum-exp of every (head, row) to `lse` [heads, T], which is all the backward needs
   * (it recomputes the probabilities instead of storing T² of them).
   */
  attentionForward(args: AttentionArgs & { out: Float32Array; lse: Float32Array }): void
  /** Gradients of q, k, v, written (beta 0), from the forward's inputs, out, lse and dOut. */
  attentionBackward(args: AttentionArgs & { out: Float32Array; lse: Float32Array; dOut: Float32Array; dq: Float32Array; dk: Float32Array; dv: Float32Array }): void

  /** out = silu(gate) · up, elementwise over n values. */
  swigluForward(args: { gate: Float32Array; up: Float32Array; out: Float32Array; n: number }): void
  /** Gradients of gate and up, written (beta 0). */
  swigluBackward(args: { gate: Float32Array; up: Float32Array; dOut: Float32Array; dGate: Float32Array; dUp: Float32Array; n: number }): void

  /**
   * Softmax cross-entropy over logits [rows, vocab] against `targets` (−1 = not scored). Returns the
   * SUM of the scored rows' losses; overwrites `logits` with ∂(scale · sum)/∂logits (zero rows where
   * the target is −1), so the caller never holds a second [rows, vocab] buffer.
   */
  crossEntropy(args: { logits: Float32Array; targets: Int32Array; rows: number; vocab: number; scale: number }): number
}
