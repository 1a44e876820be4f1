import { describe, expect, it } from 'vitest'
import { seededUniform } from '../../models/seeded-random.js'
import { permuteRowsGgufToHf, permuteRowsHfToGguf } from './rope-permute.js'

/** y = M·h for a row-major [rows, cols] matrix. */
function matVec(m: Float32Array, rows: number, cols: number, h: Float32Array): Float64Array {
  const y = new Float64Array(rows)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) y[r] = (y[r] as number) + (m[r * cols + c] as number) * (h[c] as number)
  return y
}

const theta = (pos: number, i: number, headDim: number): number => pos * 10000 ** ((-2 * i) / headDim)

/** Hugging Face's Llama rotary embedding: in each head, i pairs with i + headDim/2 ("rotate_half"). */
function ropeRotateHalf(x: Float64Array, nHead: number, pos: number): Float64Array {
  const d = x.length / nHead
  const out = new Float64Array(x.length)
  for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < d / 2; i++) {
      const [a, b] = [x[h * d + i] as number, x[h * d + i + d / 2] as number]
      const [c, s] = [Math.cos(theta(pos, i, d)), Math.sin(theta(pos, i, d))]
      out[h * d + i] = a * c - b * s
      out[h * d + i + d / 2] = b * c + a * s
    }
  }
  return out
}

/** llama.cpp's NORM rotary embedding (used for the llama architecture): 2i pairs with 2i + 1. */
function ropeInterleaved(x: Float64Array, nHead: number, pos: number): Float64Array {
  const d = x.length / nHead
  const out = new Float64Array(x.length)
  for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < d / 2; i++) {
      const [a, b] = [x[h * d + 2 * i] as number, x[h * d + 2 * i + 1] as number]
      const [c, s] = [Math.cos(theta(pos, i, d)), Math.sin(theta(pos, i, d))]
      out[h * d + 2 * i] = a * c - b * s
      out[h * d + 2 * i + 1] = b * c + a * s
    }
  }
  return out
}

/** Attention scores of every q head against its kv head (grouped-query attention). */
function scores(q: Float64Array, k: Float64Array, heads: number, kvHeads: number): number[] {
  const d = q.length / heads
  const out: number[] = []
  for (let h = 0; h < heads; h++) {
    const kv = Math.floor(h / (heads / kvHeads))
    let dot = 0
    for (let j = 0; j < d; j++) dot += (q[h * d + j] as number) * (k[kv * d + j] as number)
    out.push(dot)
  }
  return out
}

describe('rotary row permutation (HF rotate-half ↔ llama.cpp interleaved)', () => {
  it('moves row half·d/2 + i of each head to 2i + half, and the inverse undoes it', () => {
    // 2 heads of size 4, one column: rows numbered 0..7.
    const rows = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7])
    expect([...permuteRowsHfToGguf(rows, 8, 1, 2)]).toEqual([0, 2, 1, 3, 4, 6, 5, 7])
    const m = seededUniform('m', 1, 24 * 5, 1)
    expect(permuteRowsGgufToHf(permuteRowsHfToGguf(m, 24, 5, 3), 24, 5, 3)).toEqual(m)
    expect(permuteRowsHfToGguf(permuteRowsGgufToHf(m, 24, 5, 4), 24, 5, 4)).toEqual(m)
    expect(permuteRowsHfToGguf(m, 24, 5, 3)).not.toEqual(m)
  })

  it('means the same thing: rotate-half RoPE of B_hf·h equals interleaved RoPE of B_gguf·h, rows mapped', () => {
    const [heads, kvHeads, headDim, rank] = [4, 2, 8, 3]
    const bq = seededUniform('bq', 2, heads * headDim * rank, 1)
    const bk = seededUniform('bk', 2, kvHeads * headDim * rank, 1)
    const bqGguf = permuteRowsHfToGguf(bq, heads * headDim, rank, heads)
    const bkGguf = permuteRowsHfToGguf(bk, kvHeads * headDim, rank, kvHeads)
    const h = seededUniform('h', 3, rank, 1) // plays A·x
    for (const pos of [0, 1, 7, 300]) {
      const qHf = ropeRotateHalf(matVec(bq, heads * headDim, rank, h), heads, pos)
      const qGguf = ropeInterleaved(matVec(bqGguf, heads * headDim, rank, h), heads, pos)
      // The rotated vectors are the same up to the row permutation…
      const back = permuteRowsGgufToHf(Float32Array.from(qGguf), heads * headDim, 1, heads)
      for (let r = 0; r < qHf.length; r++) expect(back[r]).toBeCloseTo(qHf[r] as number, 4)
      // …so attention scores, what the model actually uses, are equal.
      const kPos = Math.max(0, pos - 3)
      const kHf = ropeRotateHalf(matVec(bk, kvHeads * headDim, rank, h), kvHeads, kPos)
      const kGguf = ropeInterleaved(matVec(bkGguf, kvHeads * headDim, rank, h), kvHeads, kPos)
      const [sHf, sGguf] = [scores(qHf, kHf, heads, kvHeads), scores(qGguf, kGguf, heads, kvHeads)]
      sHf.forEach((s, i) => expect(sGguf[i]).toBeCloseTo(s, 9))
    }
    // Without the permutation the interleaved rope computes something else.
    const wrong = scores(ropeInterleaved(matVec(bq, heads * headDim, rank, h), heads, 5), ropeInterleaved(matVec(bk, kvHeads * headDim, rank, h), kvHeads, 2), heads, kvHeads)
    const right = scores(ropeRotateHalf(matVec(bq, heads * headDim, rank, h), heads, 5), ropeRotateHalf(matVec(bk, kvHeads * headDim, rank, h), kvHeads, 2), heads, kvHeads)
    expect(Math.max(...wrong.map((w, i) => Math.abs(w - (right[i] as number))))).toBeGreaterThan(0.1)
  })

  it('rejects head counts that do not split the rows into even-sized heads', () => {
    expect(() => permuteRowsHfToGguf(new Float32Array(12), 12, 1, 5)).toThrow(/12 rows do not split into 5 heads/)
    expect(() => permuteRowsHfToGguf(new Float32Array(12), 12, 1, 4)).toThrow(/even size/)
    expect(() => permuteRowsHfToGguf(new Float32Array(11), 12, 1, 2)).toThrow(/expected 12×1 = 12 values, got 11/)
  })
})
