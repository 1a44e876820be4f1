import { readGguf } from '../../src/models/gguf/gguf-reader.js'
import { LlamaTrainModel } from '../../src/train/engine/llama-train-model.js'
import { llamaWeightsFrom } from '../../src/train/engine/llama-weights.js'
import { loadKernels } from '../../src/train/kernels/load-kernels.js'
import { adamWStep, createAdamWState } from '../../src/train/optim/adamw.js'
import { DEFAULT_TARGETS } from '../../src/train/train-config.js'

/**
 * Child process of bench/train: LoRA training steps of ragtune's engine on one GGUF, the same work
 * as torch_lora_step.py (one sequence, loss on every token, AdamW on LoRA only). Run in its own
 * process so its peak RSS is its own. Prints one JSON line.
 */
const args = JSON.parse(process.argv[2] ?? '{}') as { model: string; seq: number; rank: number; steps: number; threads: number }
const kernels = loadKernels({ backend: 'native', threads: args.threads })
const weights = llamaWeightsFrom(await readGguf(args.model))
const model = new LlamaTrainModel(weights, { kernels, seed: 1, lora: { rank: args.rank, alpha: 2 * args.rank, targets: DEFAULT_TARGETS, dropout: 0.05 } })
const adam = createAdamWState(model.params)
const vocab = weights.config.vocab
const tokens = Int32Array.from({ length: args.seq }, (_, i) => (i * 7919 + 13) % vocab)
const targets = Int32Array.from({ length: args.seq }, (_, i) => (i < args.seq - 1 ? (tokens[i + 1] as number) : -1))
const batch = { tokens, targets, segments: Int32Array.from([0, args.seq]) }
const step = (i: number): void => {
  model.zeroGrad()
  model.lossAndGrad(batch, { lossScale: 1 / (args.seq - 1), maskSeed: i })
  adamWStep(model.params, adam, 2e-4)
}
step(0) // warm-up
const t0 = performance.now()
for (let i = 1; i <= args.steps; i++) step(i)
const seconds = (performance.now() - t0) / 1000
process.stdout.write(`${JSON.stringify({ tokensPerSecond: (args.steps * args.seq) / seconds, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024, threads: kernels.threads })}\n`)
