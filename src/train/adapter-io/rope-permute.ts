import { RagtuneError } from '../../errors.js'

/**
 * Hugging Face's Llama applies rotary embeddings "rotate-half" style: in each head, dimension i is
 * paired with i + headDim/2. llama.cpp's Llama ("NORM" rope) pairs 2i with 2i + 1, so its converter
 * reorders the output rows of q_proj and k_proj per head: reshape(nHead, 2, headDim/2, in),
 * swap the middle axes, reshape back. A LoRA's B matrix produces those same rows, so it needs the
 * same reordering, or the adapter silently rotates the wrong pairs. A is untouched.
 */

function headDimOf(rows: number, nHead: number): number {
  const headDim = rows / nHead
  if (!Number.isInteger(nHead) || nHead < 1 || !Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new RagtuneError('INVALID_OPTIONS', `rotary row permutation: ${rows} rows do not split into ${nHead} heads of an even size`, {
      details: { rows, nHead },
      hint: 'pass the attention head count for q (heads) and the key/value head count for k (kvHeads) of the base model',
    })
  }
  return headDim
}

/** GGUF row index of HF row `r`: within a head, row half·(d/2) + i moves to 2i + half. */
function ggufRowOf(r: number, headDim: number): number {
  const head = Math.floor(r / headDim)
  const within = r % headDim
  const half = within < headDim / 2 ? 0 : 1
  const i = within - half * (headDim / 2)
  return head * headDim + 2 * i + half
}

function permute(matrix: Float32Array, rows: number, cols: number, nHead: number, toGguf: boolean): Float32Array {
  if (matrix.length !== rows * cols) {
    throw new RagtuneError('INVALID_OPTIONS', `rotary row permutation: expected ${rows}×${cols} = ${rows * cols} values, got ${matrix.length}`, {
      details: { rows, cols, values: matrix.length },
    })
  }
  const headDim = headDimOf(rows, nHead)
  const out = new Float32Array(matrix.length)
  for (let r = 0; r < rows; r++) {
    const g = ggufRowOf(r, headDim)
    const [from, to] = toGguf ? [r, g] : [g, r]
    out.set(matrix.subarray(from * cols, (from + 1) * cols), to * cols)
  }
  return out
}

/**
 * Reorders the rows of a row-major [rows, cols] matrix (a q_proj/k_proj weight or LoRA B) from
 * Hugging Face's rotate-half layout to llama.cpp's interleaved layout; `nHead` is the attention head
 * count for q and the key/value head count for k. Returns a new array.
 */
export function permuteRowsHfToGguf(matrix: Float32Array, rows: number, cols: number, nHead: number): Float32Array {
  return permute(matrix, rows, cols, nHead, true)
}

/** The inverse of {@link permuteRowsHfToGguf}: llama.cpp's interleaved rows back to Hugging Face's layout. */
export function permuteRowsGgufToHf(matrix: Float32Array, rows: number, cols: number, nHead: number): Float32Array {
  return permute(matrix, rows, cols, nHead, false)
}
