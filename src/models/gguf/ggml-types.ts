import { Q8_0_BLOCK, Q8_0_BLOCK_BYTES } from '../tiny-llama/half-float.js'

/** The ggml tensor types whose sizes ragtune computes (bf16 is only ever read, never written). */
export type GgmlSizedType = 'f32' | 'f16' | 'bf16' | 'q8_0'

/** Bytes of `count` values stored as a ggml type; Q8_0 holds 32 values in 34 bytes (a half-float scale, 32 int8). */
export function ggmlBytes(type: GgmlSizedType, count: number): number {
  switch (type) {
    case 'f32':
      return count * 4
    case 'f16':
    case 'bf16':
      return count * 2
    case 'q8_0':
      return (count / Q8_0_BLOCK) * Q8_0_BLOCK_BYTES
  }
}
