import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RagtuneError } from '../../errors.js'
import { checkAttention, checkCrossEntropy, checkDequantize, checkGemm, checkRmsNorm, checkRope, checkSwiglu } from './check-args.js'
import type { AttentionArgs, GemmArgs, Kernels, RmsNormArgs, WeightType } from './kernels.js'

/** An opaque thread pool owned by the addon; it stops its threads when garbage-collected. */
type Pool = object

/** The addon's exports (native/addon.cc): positional arguments, a pool first. */
interface Addon {
  createPool(threads: number): Pool
  isa(): string
  measurePeakGflops(threads: number): number
  sgemm(pool: Pool, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, transA: boolean, transB: boolean, alpha: number, beta: number): void
  dequantize(pool: Pool, type: number, src: Uint8Array, out: Float32Array, count: number): void
  rmsNormForward(pool: Pool, x: Float32Array, weight: Float32Array, rows: number, dim: number, eps: number, out: Float32Array, rstd: Float32Array): void
  rmsNormBackward(pool: Pool, x: Float32Array, weight: Float32Array, rows: number, dim: number, rstd: Float32Array, dOut: Float32Array, dX: Float32Array, dWeight: Float32Array | undefined): void
  rope(pool: Pool, x: Float32Array, segments: Int32Array, heads: number, headDim: number, freqBase: number, inverse: boolean): void
  attentionForward(pool: Pool, q: Float32Array, k: Float32Array, v: Float32Array, segments: Int32Array, heads: number, kvHeads: number, headDim: number, scale: number, out: Float32Array, lse: Float32Array): void
  attentionBackward(
    pool: Pool, q: Float32Array, k: Float32Array, v: Float32Array, segments: Int32Array, heads: number, kvHeads: number, headDim: number, scale: number,
    out: Float32Array, lse: Float32Array, dOut: Float32Array, dq: Float32Array, dk: Float32Array, dv: Float32Array,
  ): void
  swigluForward(pool: Pool, gate: Float32Array, up: Float32Array, out: Float32Array, n: number): void
  swigluBackward(pool: Pool, gate: Float32Array, up: Float32Array, dOut: Float32Array, dGate: Float32Array, dUp: Float32Array, n: number): void
  crossEntropy(pool: Pool, logits: Float32Array, targets: Int32Array, rows: number, vocab: number, scale: number): number
}

const WEIGHT_TYPE_CODES: Record<WeightType, number> = { f32: 0, f16: 1, q8_0: 2 }
const FIX = 'npm run build:native (needs g++, make and python3; it prints why it fails)'

/** The package root: the nearest folder above this module with a package.json (from src/ or dist/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) return dirname(fileURLToPath(import.meta.url))
    dir = parent
  }
  return dir
}

/** Where `npm install` (node-gyp) leaves the addon. */
export const ADDON_PATH = join(packageRoot(), 'build', 'Release', 'ragtune_kernels.node')

let loaded: { addon?: Addon; error?: RagtuneError } | undefined

/** The addon, loaded once per process; throws NATIVE_KERNELS_UNAVAILABLE with the reason and the fix. */
export function loadAddon(): Addon {
  if (!loaded) {
    try {
      if (!existsSync(ADDON_PATH)) throw new Error(`${ADDON_PATH} does not exist (the native build did not run or failed)`)
      loaded = { addon: createRequire(import.meta.url)(ADDON_PATH) as Addon }
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause)
      loaded = { error: new RagtuneError('NATIVE_KERNELS_UNAVAILABLE', `the native trainer kernels could not be loaded: ${reason}`, { hint: FIX, cause, details: { path: ADDON_PATH } }) }
    }
  }
  if (loaded.error) throw loaded.error
  return loaded.addon!
}

/**
 * This machine's float32 FMA peak in GFLOP/s on `threads` threads, measured with a register-only
 * loop (about a second): the ceiling GEMM throughput is reported against.
 */
export function measurePeakGflops(threads: number): number {
  return loadAddon().measurePeakGflops(threads)
}

/**
 * The C++ kernels (native/), multi-threaded on a pool of `threads` threads that the calling thread
 * joins for every call. Arguments are checked here (same messages as the JS backend) and again in
 * C++; every array must be a Float32Array.
 */
export class NativeKernels implements Kernels {
  readonly backend = 'native'
  readonly threads: number
  /** The instruction sets the addon was compiled for, e.g. "avx2+fma f16c" or "scalar". */
  readonly isa: string
  readonly warnings: readonly string[]
  private readonly addon: Addon
  private readonly pool: Pool

  constructor(threads: number) {
    this.addon = loadAddon()
    this.threads = threads
    this.pool = this.addon.createPool(threads)
    this.isa = this.addon.isa()
    this.warnings = this.isa === 'scalar' && process.arch === 'x64' ? ['the native kernels were built without AVX2/FMA (old compiler or CPU): GEMM runs several times below peak'] : []
  }

  sgemm(args: GemmArgs): void {
    const { m, n, k, alpha, beta } = checkGemm(args)
    this.addon.sgemm(this.pool, m, n, k, args.a, args.b, args.c, args.transA === true, args.transB === true, alpha, beta)
  }

  dequantize(type: WeightType, src: Uint8Array, out: Float32Array, count: number): void {
    checkDequantize(type, src, out, count)
    this.addon.dequantize(this.pool, WEIGHT_TYPE_CODES[type], src, out, count)
  }

  rmsNormForward(args: RmsNormArgs & { out: Float32Array; rstd: Float32Array }): void {
    checkRmsNorm('rmsNormForward', args, { out: args.out, rstd: args.rstd })
    this.addon.rmsNormForward(this.pool, args.x, args.weight, args.rows, args.dim, args.eps, args.out, args.rstd)
  }

  rmsNormBackward(args: RmsNormArgs & { rstd: Float32Array; dOut: Float32Array; dX: Float32Array; dWeight?: Float32Array }): void {
    checkRmsNorm('rmsNormBackward', args, { rstd: args.rstd, dOut: args.dOut, dX: args.dX, dWeight: args.dWeight })
    this.addon.rmsNormBackward(this.pool, args.x, args.weight, args.rows, args.dim, args.rstd, args.dOut, args.dX, args.dWeight)
  }

  rope(args: { x: Float32Array; segments: Int32Array; heads: number; headDim: number; freqBase: number; inverse?: boolean }): void {
    checkRope(args)
    this.addon.rope(this.pool, args.x, args.segments, args.heads, args.headDim, args.freqBase, args.inverse === true)
  }

  attentionForward(args: AttentionArgs & { out: Float32Array; lse: Float32Array }): void {
    checkAttention('attentionForward', args, {}, { out: args.out, lse: args.lse })
    this.addon.attentionForward(this.pool, args.q, args.k, args.v, args.segments, args.heads, args.kvHeads, args.headDim, args.scale, args.out, args.lse)
  }

  attentionBackward(args: AttentionArgs & { out: Float32Array; lse: Float32Array; dOut: Float32Array; dq: Float32Array; dk: Float32Array; dv: Float32Array }): void {
    checkAttention('attentionBackward', args, { out: args.out, lse: args.lse, dOut: args.dOut }, { dq: args.dq, dk: args.dk, dv: args.dv })
    const a = args
    this.addon.attentionBackward(this.pool, a.q, a.k, a.v, a.segments, a.heads, a.kvHeads, a.headDim, a.scale, a.out, a.lse, a.dOut, a.dq, a.dk, a.dv)
  }

  swigluForward(args: { gate: Float32Array; up: Float32Array; out: Float32Array; n: number }): void {
    checkSwiglu('swigluForward', { gate: args.gate, up: args.up, out: args.out }, args.n)
    this.addon.swigluForward(this.pool, args.gate, args.up, args.out, args.n)
  }

  swigluBackward(args: { gate: Float32Array; up: Float32Array; dOut: Float32Array; dGate: Float32Array; dUp: Float32Array; n: number }): void {
    checkSwiglu('swigluBackward', { gate: args.gate, up: args.up, dOut: args.dOut, dGate: args.dGate, dUp: args.dUp }, args.n)
    this.addon.swigluBackward(this.pool, args.gate, args.up, args.dOut, args.dGate, args.dUp, args.n)
  }

  crossEntropy(args: { logits: Float32Array; targets: Int32Array; rows: number; vocab: number; scale: number }): number {
    checkCrossEntropy(args)
    return this.addon.crossEntropy(this.pool, args.logits, args.targets, args.rows, args.vocab, args.scale)
  }
}
