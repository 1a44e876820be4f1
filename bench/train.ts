import { execFile } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { SMOLLM2_135M_SHAPE } from '../src/models/tiny-llama/tiny-llama.js'
import { measurePeakGflops } from '../src/train/kernels/native-kernels.js'
import { envInt } from './lib/env.js'
import { fmt, note, printTable } from './lib/format.js'
import { BENCH_DIR, type BenchResult } from './lib/results.js'
import { ensureSmolLm2 } from './lib/smollm2.js'
import { median } from './lib/stats.js'
import { torchPython } from '../test/helpers/torch-python.js'

/**
 * `npm run bench -- train`: LoRA training speed and memory of ragtune's CPU trainer on a
 * SmolLM2-135M-shaped GGUF (random weights), sequence 512, r=16 on q,k,v,o, against PyTorch on the
 * CPU (Debian's python3-torch, same shapes, same thread count) doing the same work. Each side runs
 * in its own process (so peak RSS is its own), alternating for `rounds` rounds; the ratio is
 * taken per round. Also reports achieved GFLOP/s against the machine's measured FMA peak.
 */

const run = promisify(execFile)
const S = SMOLLM2_135M_SHAPE

interface Side {
  tokensPerSecond: number
  seconds: number
  peakRssBytes: number
}

/** Multiply-adds × 2 per token of one LoRA training step (forward + input-gradient backward + LoRA grads). */
function flopsPerToken(seq: number, rank: number): number {
  const h = S.hiddenSize
  const kv = (h / S.heads) * S.kvHeads
  const base = h * h * 2 + h * kv * 2 + 3 * h * S.intermediateSize
  const lora = rank * (h + h) * 2 + rank * (h + kv) * 2
  const attention = 2 * seq * h // causal: half of T×T×d for scores, half for values, per token ≈ 2·(T/2)·h
  const layer = 2 * (base + lora + attention) // forward
  const backward = 2 * (base + attention * 2) + 2 * 2 * lora // dX through base + attention bwd + LoRA dA, dB, dh
  const head = 2 * h * S.vocabSize * 2 // logits + dX of the head
  return S.layers * (layer + backward) + head
}

export async function runTrain(): Promise<BenchResult> {
  const seq = envInt('BENCH_TRAIN_SEQ', 512)
  const rank = 16
  const steps = envInt('BENCH_TRAIN_STEPS', 3)
  const rounds = envInt('BENCH_TRAIN_ROUNDS', 2)
  const threads = envInt('BENCH_TRAIN_THREADS', availableParallelism())
  const python = torchPython()
  const notes: string[] = []
  const [f32, q8] = [await ensureSmolLm2('f32'), await ensureSmolLm2('q8_0')]
  const ours = (model: string) => async (): Promise<Side> => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'train', 'ragtune-lora-step.ts'), JSON.stringify({ model, seq, rank, steps, threads })], { maxBuffer: 1 << 24 })
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Side
  }
  const torch = async (): Promise<Side> => {
    const args = { hidden: S.hiddenSize, layers: S.layers, heads: S.heads, kvHeads: S.kvHeads, ffn: S.intermediateSize, vocab: S.vocabSize, rank, seq, steps, threads }
    const { stdout } = await run(python!, [join(BENCH_DIR, 'train', 'torch_lora_step.py'), JSON.stringify(args)], { maxBuffer: 1 << 24 })
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Side
  }
  const sides: Record<string, () => Promise<Side>> = { 'ragtune f32': ours(f32.path), 'ragtune q8_0': ours(q8.path) }
  if (python) sides['pytorch f32'] = torch
  else notes.push('PyTorch is not importable (apt install python3-torch): no baseline, no ratio')
  const results: Record<string, Side[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]))
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(sides)) {
      note(`train: round ${r + 1}/${rounds}, ${name}`)
      results[name]!.push(await fn())
    }
  }
  const peak = measurePeakGflops(threads)
  const fpt = flopsPerToken(seq, rank)
  const rows = Object.entries(results).map(([name, list]) => {
    const tps = median(list.map((s) => s.tokensPerSecond))
    return [name, tps, (tps * fpt) / 1e9, (100 * tps * fpt) / 1e9 / peak, Math.max(...list.map((s) => s.peakRssBytes)) / 2 ** 20]
  })
  printTable(`LoRA training, SmolLM2-135M shape, seq ${seq}, r=${rank} q,k,v,o, ${threads} threads (median of ${rounds})`, ['side', 'tokens/s', 'GFLOP/s', '% of peak', 'peak RSS MiB'], rows)
  const ratios: Record<string, number> = {}
  if (python) {
    for (const name of ['ragtune f32', 'ragtune q8_0']) {
      ratios[name] = median(results[name]!.map((s, i) => s.tokensPerSecond / results['pytorch f32']![i]!.tokensPerSecond))
    }
    process.stdout.write(`paired ratio vs PyTorch: f32 ${fmt(ratios['ragtune f32']!)}×, q8_0 ${fmt(ratios['ragtune q8_0']!)}×; measured FMA peak ${fmt(peak)} GFLOP/s\n`)
  }
  notes.push(`FLOPs per token counted from the shapes: ${fmt(fpt / 1e9)} GFLOP (forward, input-gradient backward, LoRA gradients; the frozen base gets no weight gradient on either side)`)
  notes.push('random weights of the real shapes: speed only')
  return {
    data: { seq, rank, steps, rounds, threads, peakGflops: peak, flopsPerToken: fpt, results, ratios, models: { f32: f32.bytes, q8_0: q8.bytes } },
    goals: python ? [{ goal: 'LoRA tokens/s vs PyTorch CPU (f32 base)', value: ratios['ragtune f32']!, target: '≥ 1.0', met: ratios['ragtune f32']! >= 1 }] : [],
    notes,
  }
}
