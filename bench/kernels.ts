import { availableParallelism } from 'node:os'
import { JsKernels } from '../src/train/kernels/js-kernels.js'
import type { GemmArgs, Kernels } from '../src/train/kernels/kernels.js'
import { loadKernels } from '../src/train/kernels/load-kernels.js'
import { measurePeakGflops } from '../src/train/kernels/native-kernels.js'
import { envInt } from './lib/env.js'
import { fmt, note, pct, printTable } from './lib/format.js'
import type { BenchResult } from './lib/results.js'
import { seededRandom } from './lib/rng.js'
import { median } from './lib/stats.js'

/** SmolLM2-135M, the model the trainer is sized for. */
const HIDDEN = 576
const KV = 192
const FFN = 1536
const VOCAB = 49152
const RANK = 16
const LAYERS = 30

interface Shape {
  group: 'forward' | 'backward dX' | 'LoRA'
  name: string
  m: number
  n: number
  k: number
  transA: boolean
  transB: boolean
  /** Calls per training step (forward + input-gradient backward of the base model). */
  count: number
}

/** Every GEMM a training step of the base model runs (T tokens), plus LoRA's rank-16 products. */
function shapes(T: number): Shape[] {
  const nt = (name: string, n: number, k: number, count: number): Shape => ({ group: 'forward', name, m: T, n, k, transA: false, transB: true, count })
  const nn = (name: string, n: number, k: number, count: number): Shape => ({ group: 'backward dX', name, m: T, n, k, transA: false, transB: false, count })
  const lora = (name: string, m: number, n: number, k: number, transA: boolean, transB: boolean): Shape => ({ group: 'LoRA', name, m, n, k, transA, transB, count: 0 })
  return [
    nt('q, o', HIDDEN, HIDDEN, 2 * LAYERS), nt('k, v', KV, HIDDEN, 2 * LAYERS), nt('gate, up', FFN, HIDDEN, 2 * LAYERS), nt('down', HIDDEN, FFN, LAYERS), nt('lm head', VOCAB, HIDDEN, 1),
    nn('q, o', HIDDEN, HIDDEN, 2 * LAYERS), nn('k, v', HIDDEN, KV, 2 * LAYERS), nn('gate, up', HIDDEN, FFN, 2 * LAYERS), nn('down', FFN, HIDDEN, LAYERS), nn('lm head', HIDDEN, VOCAB, 1),
    lora('x·Aᵀ', T, RANK, HIDDEN, false, true),
    lora('(x·Aᵀ)·Bᵀ', T, HIDDEN, RANK, false, true),
    lora('dB = dYᵀ·(x·Aᵀ)', HIDDEN, RANK, T, true, false),
    lora('dA = (dY·B)ᵀ·x', RANK, HIDDEN, T, true, false),
  ]
}

interface ShapeResult extends Shape {
  op: string
  flops: number
  nativeSeconds?: number
  nativeMedianSeconds?: number
  nativeRuns?: number
  nativeGflops: number
  oneThreadGflops: number
  jsRows: number
  jsGflops: number
  pctOfPeak?: number
  oneThreadPctOfPeak?: number
}

function randomArray(random: () => number, length: number): Float32Array {
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) out[i] = random() * 2 - 1
  return out
}

/**
 * Seconds per call, best and median: one warm-up, then calls until `minMs` has passed (at least
 * `minRuns`). Throughput is reported from the best call, like the peak it is compared with: on a
 * shared machine the best is the closest to what the code does on idle cores.
 */
function time(run: () => void, minMs: number, minRuns: number): { best: number; median: number; runs: number } {
  run()
  const samples: number[] = []
  const t0 = performance.now()
  while (samples.length < minRuns || performance.now() - t0 < minMs) {
    const s0 = performance.now()
    run()
    samples.push((performance.now() - s0) / 1000)
  }
  return { best: Math.min(...samples), median: median(samples), runs: samples.length }
}

/** The other kernels of one layer at T tokens (one segment, SmolLM2's 9 query / 3 kv heads of 64). */
function otherKernels(T: number, random: () => number): Array<{ name: string; run: (k: Kernels) => void }> {
  const heads = 9
  const kvHeads = 3
  const headDim = 64
  const segments = Int32Array.from([0, T])
  const q = randomArray(random, T * HIDDEN)
  const kk = randomArray(random, T * KV)
  const v = randomArray(random, T * KV)
  const shape = { q, k: kk, v, segments, heads, kvHeads, headDim, scale: 1 / Math.sqrt(headDim) }
  const out = new Float32Array(T * HIDDEN)
  const lse = new Float32Array(T * heads)
  const dOut = randomArray(random, T * HIDDEN)
  const x = randomArray(random, T * HIDDEN)
  const weight = randomArray(random, HIDDEN)
  const rstd = new Float32Array(T)
  const gate = randomArray(random, T * FFN)
  const up = randomArray(random, T * FFN)
  const logits = randomArray(random, T * VOCAB)
  const targets = Int32Array.from({ length: T }, (_, i) => (i * 7919) % VOCAB)
  const q8 = new Uint8Array((HIDDEN * FFN * 34) / 32)
  for (let i = 0; i < q8.length; i++) q8[i] = (random() * 256) | 0
  for (let b = 0; b < q8.length; b += 34) q8[b + 1] = 0x20 // a small, finite f16 scale
  const dequantized = new Float32Array(HIDDEN * FFN)
  return [
    { name: 'attention forward', run: (k) => k.attentionForward({ ...shape, out, lse }) },
    { name: 'attention backward', run: (k) => k.attentionBackward({ ...shape, out, lse, dOut, dq: new Float32Array(T * HIDDEN), dk: new Float32Array(T * KV), dv: new Float32Array(T * KV) }) },
    { name: 'rope (q)', run: (k) => k.rope({ x: q, segments, heads, headDim, freqBase: 100000 }) },
    { name: 'rmsNorm forward', run: (k) => k.rmsNormForward({ x, weight, rows: T, dim: HIDDEN, eps: 1e-5, out, rstd }) },
    { name: 'rmsNorm backward', run: (k) => k.rmsNormBackward({ x, weight, rows: T, dim: HIDDEN, eps: 1e-5, rstd, dOut, dX: new Float32Array(T * HIDDEN) }) },
    { name: 'swiglu forward', run: (k) => k.swigluForward({ gate, up, out: new Float32Array(T * FFN), n: T * FFN }) },
    { name: 'swiglu backward', run: (k) => k.swigluBackward({ gate, up, dOut: gate, dGate: new Float32Array(T * FFN), dUp: new Float32Array(T * FFN), n: T * FFN }) },
    // Each call leaves gradients in place of the logits; the next call's inputs are those (as costly).
    { name: `crossEntropy (vocab ${VOCAB})`, run: (k) => k.crossEntropy({ logits, targets, rows: T, vocab: VOCAB, scale: 1 / T }) },
    { name: 'dequantize q8_0 (576×1536)', run: (k) => k.dequantize('q8_0', q8, dequantized, HIDDEN * FFN) },
  ]
}

function gemmArgs(s: Shape, m: number, random: () => number): GemmArgs {
  return { m, n: s.n, k: s.k, a: randomArray(random, m * s.k), b: randomArray(random, s.k * s.n), c: new Float32Array(m * s.n), transA: s.transA, transB: s.transB }
}

/**
 * `npm run bench -- kernels`: sgemm throughput of the trainer's compute kernels on the real shapes
 * of a SmolLM2-135M training step, native (all threads and one) against the JS reference and against
 * this machine's measured FMA peak.
 */
export async function runKernels(): Promise<BenchResult> {
  const T = envInt('BENCH_KERNELS_TOKENS', 512)
  const threads = envInt('BENCH_KERNELS_THREADS', availableParallelism())
  const minMs = envInt('BENCH_KERNELS_MIN_MS', 600)
  const jsRows = envInt('BENCH_KERNELS_JS_ROWS', 32)
  const notes: string[] = []
  const random = seededRandom(5)
  const js = new JsKernels()
  const loaded = loadKernels({ threads })
  notes.push(...loaded.warnings)
  const native: Kernels | undefined = loaded.backend === 'native' ? loaded : undefined
  const single = native ? loadKernels({ backend: 'native', threads: 1 }) : undefined

  note('kernels: measuring the FMA peak')
  // Measured before and after the shapes, the higher kept: on a shared machine that is the closest
  // to what the cores can do.
  let peak = native ? measurePeakGflops(threads) : NaN
  let peak1 = native ? measurePeakGflops(1) : NaN
  const rows: Array<Array<string | number>> = []
  const results: ShapeResult[] = []
  let flopsBase = 0
  let secondsBase = 0
  for (const s of shapes(T)) {
    const flops = 2 * s.m * s.n * s.k
    const args = gemmArgs(s, s.m, random)
    const all = native ? time(() => native.sgemm(args), minMs, 3) : undefined
    const one = single ? time(() => single.sgemm(args), minMs / 2, 2) : undefined
    // The JS reference on a slice of the rows (same per-row work; the full lm head would take a minute).
    const m = s.transA ? s.m : Math.min(s.m, jsRows)
    const jsArgs = gemmArgs(s, m, random)
    const jsTime = time(() => js.sgemm(jsArgs), 0, 1)
    const jsGflops = (2 * m * s.n * s.k) / jsTime.best / 1e9
    const gflops = all ? flops / all.best / 1e9 : NaN
    const gflops1 = one ? flops / one.best / 1e9 : NaN
    if (all) {
      flopsBase += s.count * flops
      secondsBase += s.count * all.best
    }
    const op = `${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`
    results.push({ ...s, op, flops, nativeSeconds: all?.best, nativeMedianSeconds: all?.median, nativeRuns: all?.runs, nativeGflops: gflops, oneThreadGflops: gflops1, jsRows: m, jsGflops })
    note(`kernels: ${s.group} ${s.name} ${fmt(gflops)} GFLOP/s`)
  }
  if (native) {
    peak = Math.max(peak, measurePeakGflops(threads))
    peak1 = Math.max(peak1, measurePeakGflops(1))
  }
  const other: Array<{ kernel: string; nativeMs: number; oneThreadMs: number; jsMs: number }> = []
  for (const { name, run } of otherKernels(T, random)) {
    const nativeMs = native ? time(() => run(native), minMs / 3, 3).best * 1000 : NaN
    const oneThreadMs = single ? time(() => run(single), minMs / 3, 2).best * 1000 : NaN
    const jsMs = time(() => run(js), 0, 1).best * 1000
    other.push({ kernel: name, nativeMs, oneThreadMs, jsMs })
    note(`kernels: ${name} ${fmt(nativeMs)} ms`)
  }
  const stepGflops = flopsBase / secondsBase / 1e9
  for (const r of results) {
    r.pctOfPeak = pct(r.nativeGflops, peak)
    r.oneThreadPctOfPeak = pct(r.oneThreadGflops, peak1)
    rows.push([`${r.group}: ${r.name}`, r.op, `${r.m}×${r.n}×${r.k}`, r.nativeGflops, r.pctOfPeak, r.oneThreadGflops, r.oneThreadPctOfPeak, r.jsGflops, r.nativeGflops / r.jsGflops])
  }
  printTable(`kernels: sgemm, SmolLM2-135M shapes, ${T} tokens (GFLOP/s; peak = measured FMA peak: ${fmt(peak)} on ${threads} threads, ${fmt(peak1)} on 1)`, [
    'shape', 'op', 'm×n×k', `native ${threads}t`, '% peak', 'native 1t', '% peak 1t', 'js', 'native/js',
  ], rows)
  printTable(`kernels: the base model's GEMMs in one training step (${LAYERS} layers, forward + dX; each shape × its calls)`, ['measure', 'value'], [
    ['GFLOP per step', flopsBase / 1e9],
    [`native seconds per step, ${threads} threads`, secondsBase],
    [`native GFLOP/s, ${threads} threads`, stepGflops],
    ['% of measured peak', pct(stepGflops, peak)],
  ])
  printTable(`kernels: the rest, one layer's worth at ${T} tokens (ms per call)`, ['kernel', `native ${threads}t`, 'native 1t', 'js', 'native/js'],
    other.map((o) => [o.kernel, o.nativeMs, o.oneThreadMs, o.jsMs, o.jsMs / o.nativeMs]))
  if (native) {
    notes.push(`isa ${(native as unknown as { isa: string }).isa}; peak = register-only FMA loop (widest vector the compiler targets) on ${threads} threads, best of 5 runs before and 5 after`)
  }
  notes.push('times are the best call of those in the time budget (JSON has the median too): on a shared machine that is the closest to idle cores, like the peak')
  notes.push(`js = the TypeScript reference on the first ${jsRows} rows of each shape (the same per-row work), one thread`)
  notes.push(`step totals weight each base shape by its calls per step (q,o,k,v,gate,up × 2·${LAYERS}, down × ${LAYERS}, lm head × 1); LoRA products are listed, not counted`)
  const goal = pct(stepGflops, peak)
  return {
    data: { tokens: T, threads, peakGflops: peak, peakGflops1: peak1, stepGflop: flopsBase / 1e9, stepSeconds: secondsBase, stepGflops, stepPctOfPeak: goal, shapes: results, other },
    goals: native ? [{ goal: 'native sgemm, a training step\'s base-model GEMMs, % of measured FMA peak', value: goal, target: '≥ 70', met: goal >= 70 }] : [],
    notes,
  }
}
