import { RagtuneError } from '../../errors.js'
import { ggmlBytes } from '../../models/gguf/ggml-types.js'
import { Q8_0_BLOCK } from '../../models/tiny-llama/half-float.js'
import type { AttentionArgs, GemmArgs, RmsNormArgs, WeightType } from './kernels.js'

/**
 * Argument checks shared by both backends, so a wrong length or shape fails the same way (a
 * RagtuneError 'KERNEL_BAD_ARGUMENT' naming the kernel, the argument, what it needs and what it got)
 * whichever backend runs, and the native one never sees memory it could run past. Arrays may be
 * longer than needed (callers slice arenas); the extra values are left alone.
 */

/** Float32Array, or for the JS backend also Float64Array (double-precision gradient checks). */
export type Floats = Float32Array | Float64Array

class Check {
  constructor(
    private readonly kernel: string,
    /** Whether Float64Array is accepted where Float32Array is (JS backend only). */
    private readonly double: boolean,
  ) {}

  fail(message: string): never {
    throw new RagtuneError('KERNEL_BAD_ARGUMENT', `${this.kernel}: ${message}`, { details: { kernel: this.kernel } })
  }

  /** A non-negative safe integer (min 0 unless told). */
  count(name: string, value: unknown, min = 0): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) this.fail(`${name} must be an integer ≥ ${min}, got ${String(value)}`)
    return value
  }

  finite(name: string, value: unknown): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(`${name} must be a finite number, got ${String(value)}`)
    return value
  }

  floats(name: string, value: unknown, need: number, formula: string): void {
    const ok = value instanceof Float32Array || (this.double && value instanceof Float64Array)
    if (!ok) this.fail(`${name} must be a Float32Array${this.double ? ' or Float64Array' : ''}, got ${describe(value)}`)
    this.length(name, (value as Floats).length, need, formula)
  }

  ints(name: string, value: unknown, need: number, formula: string): void {
    if (!(value instanceof Int32Array)) this.fail(`${name} must be an Int32Array, got ${describe(value)}`)
    this.length(name, value.length, need, formula)
  }

  length(name: string, length: number, need: number, formula: string): void {
    if (length < need) this.fail(`${name} holds ${length} values, needs at least ${formula} = ${need}`)
  }

  /** Segment offsets (S + 1 of them, 0 first, never decreasing); returns the token count T. */
  segments(value: unknown): number {
    if (!(value instanceof Int32Array)) this.fail(`segments must be an Int32Array of S + 1 offsets, got ${describe(value)}`)
    if (value.length < 1 || value[0] !== 0) this.fail(`segments must start with 0 (S + 1 offsets, the last = T), got [${Array.from(value.subarray(0, 4)).join(', ')}${value.length > 4 ? ', …' : ''}]`)
    for (let s = 1; s < value.length; s++) {
      if (value[s]! < value[s - 1]!) this.fail(`segments must never decrease, but segments[${s}] = ${value[s]} < segments[${s - 1}] = ${value[s - 1]}`)
    }
    return value[value.length - 1]!
  }

  /** Outputs must not share memory with the listed arrays (only the used prefixes count). */
  disjoint(items: Array<[string, Floats, number]>, pairs: Array<[number, number]>): void {
    for (const [i, j] of pairs) {
      const [na, a, la] = items[i]!
      const [nb, b, lb] = items[j]!
      if (overlaps(a, la, b, lb)) this.fail(`${na} and ${nb} must not share memory`)
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object'
  return typeof value
}

function overlaps(a: Floats, la: number, b: Floats, lb: number): boolean {
  if (a.buffer !== b.buffer || la === 0 || lb === 0) return false
  const a0 = a.byteOffset
  const b0 = b.byteOffset
  return a0 < b0 + lb * b.BYTES_PER_ELEMENT && b0 < a0 + la * a.BYTES_PER_ELEMENT
}

/** Every pair (output, other) for outputs `outs` among `n` items. */
function pairsOf(outs: number[], n: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = []
  for (const o of outs) for (let i = 0; i < n; i++) if (i !== o && !(outs.includes(i) && i < o)) pairs.push([o, i])
  return pairs
}

export interface GemmSizes {
  m: number
  n: number
  k: number
  alpha: number
  beta: number
}

export function checkGemm(args: GemmArgs, double = false): GemmSizes {
  const c = new Check('sgemm', double)
  const m = c.count('m', args.m)
  const n = c.count('n', args.n)
  const k = c.count('k', args.k)
  c.floats('a', args.a, m * k, `m·k (${m}·${k})`)
  c.floats('b', args.b, k * n, `k·n (${k}·${n})`)
  c.floats('c', args.c, m * n, `m·n (${m}·${n})`)
  const alpha = c.finite('alpha', args.alpha ?? 1)
  const beta = c.finite('beta', args.beta ?? 0)
  c.disjoint([['c', args.c, m * n], ['a', args.a, m * k], ['b', args.b, k * n]], [[0, 1], [0, 2]])
  return { m, n, k, alpha, beta }
}

export function checkDequantize(type: WeightType, src: Uint8Array, out: Float32Array, count: number): void {
  const c = new Check('dequantize', false)
  if (type !== 'f32' && type !== 'f16' && type !== 'q8_0') c.fail(`type must be 'f32', 'f16' or 'q8_0', got ${String(type)}`)
  c.count('count', count)
  if (type === 'q8_0' && count % Q8_0_BLOCK !== 0) c.fail(`q8_0 count must be a multiple of ${Q8_0_BLOCK} (whole blocks), got ${count}`)
  if (!(src instanceof Uint8Array)) c.fail(`src must be a Uint8Array, got ${describe(src)}`)
  const bytes = ggmlBytes(type, count)
  if (src.length < bytes) c.fail(`src holds ${src.length} bytes, needs ${bytes} for ${count} ${type} values`)
  c.floats('out', out, count, 'count')
}

export function checkRmsNorm(kernel: string, args: RmsNormArgs, outputs: Record<string, Floats | undefined>, double = false): void {
  const c = new Check(kernel, double)
  const rows = c.count('rows', args.rows)
  const dim = c.count('dim', args.dim, 1)
  if (!(c.finite('eps', args.eps) >= 0)) c.fail(`eps must be ≥ 0, got ${args.eps}`)
  c.floats('x', args.x, rows * dim, 'rows·dim')
  c.floats('weight', args.weight, dim, 'dim')
  for (const [name, value] of Object.entries(outputs)) {
    if (name === 'dWeight' && value === undefined) continue
    if (name === 'rstd') c.floats(name, value, rows, 'rows')
    else if (name === 'dWeight') c.floats(name, value, dim, 'dim')
    else c.floats(name, value, rows * dim, 'rows·dim')
  }
}

export function checkRope(args: { x: Floats; segments: Int32Array; heads: number; headDim: number; freqBase: number }, double = false): number {
  const c = new Check('rope', double)
  const T = c.segments(args.segments)
  const heads = c.count('heads', args.heads, 1)
  const headDim = c.count('headDim', args.headDim, 2)
  if (headDim % 2 !== 0) c.fail(`headDim must be even (rotary pairs), got ${headDim}`)
  if (!(c.finite('freqBase', args.freqBase) > 0)) c.fail(`freqBase must be positive, got ${args.freqBase}`)
  c.floats('x', args.x, T * heads * headDim, 'T·heads·headDim')
  return T
}

export interface AttentionSizes {
  T: number
  heads: number
  kvHeads: number
  headDim: number
  scale: number
}

/** `reads` are the arrays besides q, k, v that the kernel reads; `writes` the ones it writes. */
export function checkAttention(kernel: string, args: AttentionArgs, reads: Record<string, Floats>, writes: Record<string, Floats>, double = false): AttentionSizes {
  const c = new Check(kernel, double)
  const T = c.segments(args.segments)
  const heads = c.count('heads', args.heads, 1)
  const kvHeads = c.count('kvHeads', args.kvHeads, 1)
  const headDim = c.count('headDim', args.headDim, 1)
  if (heads % kvHeads !== 0) c.fail(`heads (${heads}) must be a multiple of kvHeads (${kvHeads})`)
  const scale = c.finite('scale', args.scale)
  const sizeOf = (name: string): [number, string] =>
    name === 'lse' ? [T * heads, 'heads·T'] : ['k', 'v', 'dk', 'dv'].includes(name) ? [T * kvHeads * headDim, 'T·kvHeads·headDim'] : [T * heads * headDim, 'T·heads·headDim']
  const inputs = Object.entries({ q: args.q, k: args.k, v: args.v, ...reads })
  const items: Array<[string, Floats, number]> = []
  for (const [name, value] of [...inputs, ...Object.entries(writes)]) {
    const [need, formula] = sizeOf(name)
    c.floats(name, value, need, formula)
    items.push([name, value, need])
  }
  const written = items.map((_, i) => i).filter((i) => i >= inputs.length)
  c.disjoint(items, pairsOf(written, items.length))
  return { T, heads, kvHeads, headDim, scale }
}

export function checkSwiglu(kernel: string, arrays: Record<string, Floats>, n: number, double = false): void {
  const c = new Check(kernel, double)
  c.count('n', n)
  for (const [name, value] of Object.entries(arrays)) c.floats(name, value, n, 'n')
  if (arrays.dGate && arrays.dUp) c.disjoint([['dGate', arrays.dGate, n], ['dUp', arrays.dUp, n]], [[0, 1]])
}

export function checkCrossEntropy(args: { logits: Floats; targets: Int32Array; rows: number; vocab: number; scale: number }, double = false): void {
  const c = new Check('crossEntropy', double)
  const rows = c.count('rows', args.rows)
  const vocab = c.count('vocab', args.vocab, 1)
  c.finite('scale', args.scale)
  c.floats('logits', args.logits, rows * vocab, 'rows·vocab')
  c.ints('targets', args.targets, rows, 'rows')
  for (let r = 0; r < rows; r++) {
    const t = args.targets[r]!
    if (t < -1 || t >= vocab) c.fail(`targets[${r}] = ${t} is outside [-1, vocab = ${vocab})`)
  }
}
