import type { LinearName } from '../models/tiny-llama/tiny-llama.js'

/**
 * A LoRA adapter in memory, in GGUF's orientation: for a base weight with GGUF dims [in, out]
 * (stored as `out` rows of `in`), `a` is [rank, in] row-major and `b` is [out, rank] row-major, and
 * the layer computes y = W·x + (alpha / rank) · B·A·x. Rows of q and k follow llama.cpp's rotary
 * layout (interleaved pairs); PEFT export/import permutes them to and from Hugging Face's layout.
 */
export interface LoraPair {
  inputs: number
  outputs: number
  a: Float32Array
  b: Float32Array
}

export interface LoraWeights {
  rank: number
  alpha: number
  targets: readonly LinearName[]
  /** Keyed by the base tensor's name without `.weight`, e.g. `blk.3.attn_q`. */
  pairs: Map<string, LoraPair>
}
