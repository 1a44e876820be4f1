import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { RagtuneError, throwIfAborted } from '../errors.js'
import { readGguf } from '../models/gguf/gguf-reader.js'
import { fileSha256, llamaRuntime } from '../models/llama/llama-runtime.js'
import { writeGgufLora } from './adapter-io/gguf-lora.js'
import { exportPeft } from './adapter-io/convert.js'
import { hasCheckpoint, loadCheckpoint, removeCheckpoints, saveCheckpoint } from './checkpoint.js'
import { planSteps } from './data/pack-batches.js'
import { tokenizeRecords } from './data/tokenize-records.js'
import { readTrainingFile } from './data/training-records.js'
import { LlamaTrainModel } from './engine/llama-train-model.js'
import { llamaWeightsFrom } from './engine/llama-weights.js'
import { loadKernels } from './kernels/load-kernels.js'
import { createAdamWState, DEFAULT_ADAMW, learningRate } from './optim/adamw.js'
import { optimizerStep } from './optimizer-step.js'
import type { TrainConfig } from './train-config.js'
import { resolveTrainConfig } from './train-config.js'
import type { TrainEvent, TrainReport } from './train-report.js'
import { renderTrainReport } from './train-report.js'

/**
 * `train()` for the CPU backend: LoRA on a GGUF base with ragtune's own engine. Reads the data,
 * tokenizes it with the model's tokenizer and chat template, plans every step from the seed, then
 * runs forward/backward/AdamW with checkpoints, and writes the adapter as GGUF (for node-llama-cpp)
 * and PEFT (for transformers/vLLM) plus a report. Killed at any point, `resume: true` continues
 * from the last checkpoint to the same weights.
 */

export interface TrainLoraOptions extends Partial<TrainConfig> {
  dataset: string
  /** The GGUF that serves inference (f32, f16 or q8_0). */
  base: string
  /** Output folder, e.g. adapters/support-v2. */
  out: string
  resume?: boolean
  /** Kernel implementation; default 'auto' (native when built). */
  kernels?: 'auto' | 'native' | 'js'
  threads?: number
  /** Hugging Face id of the base, written into adapter_config.json; default the GGUF's general.name. */
  baseModelName?: string
  signal?: AbortSignal
  onEvent?: (event: TrainEvent) => void
}

export interface TrainLoraResult {
  adapterPath: string
  peftDir: string
  reportPath: string
  report: TrainReport
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export async function trainLora(options: TrainLoraOptions): Promise<TrainLoraResult> {
  const config = resolveTrainConfig(options)
  const emit = options.onEvent ?? (() => {})
  const warnings: string[] = []
  const kernels = loadKernels({ backend: options.kernels ?? 'auto', ...(options.threads ? { threads: options.threads } : {}) })
  if (kernels.backend === 'js' && options.kernels !== 'js') warnings.push('native kernels are not built; training runs on the slow TypeScript kernels (npm run build:native)')

  const data = await readTrainingFile(options.dataset)
  const [gguf, baseSha] = await Promise.all([readGguf(options.base), fileSha256(options.base)])
  const weights = llamaWeightsFrom(gguf)
  const maxLength = Math.min(config.maxLength, weights.config.contextLength)
  const llama = await llamaRuntime(false)
  const vocab = await llama.loadModel({ modelPath: options.base, vocabOnly: true })
  const tokenized = (() => {
    try {
      return tokenizeRecords(vocab, data.records, maxLength)
    } finally {
      void vocab.dispose()
    }
  })()
  for (const o of tokenized.overLength) warnings.push(`line ${o.line}: ${o.tokens} tokens > maxLength ${maxLength}; left out (answers are never cut)`)
  const examples = tokenized.examples
  if (examples.length === 0) {
    throw new RagtuneError('DATASET_EMPTY', `no example of ${options.dataset} fits maxLength ${maxLength}`, { details: { overLength: tokenized.overLength.length }, hint: 'raise --max-length or shorten the retrieved context' })
  }
  const plan = planSteps(examples, config)
  const totalSteps = plan.length
  const warmupSteps = Math.ceil(config.warmupRatio * totalSteps)
  const runHash = createHash('sha256').update(JSON.stringify({ config, baseSha, data: data.sha256, maxLength })).digest('hex')

  const model = new LlamaTrainModel(weights, { kernels, seed: config.seed, lora: { rank: config.rank, alpha: config.alpha, targets: config.targets, dropout: config.dropout } })
  const adam = createAdamWState(model.params)
  await mkdir(options.out, { recursive: true })
  let start = 0
  let losses: number[] = []
  let tokensSeen = 0
  if (options.resume) {
    const state = await loadCheckpoint(options.out, runHash, model.params, adam)
    if (state) ({ step: start, losses, tokensSeen } = state)
    else warnings.push(`no checkpoint in ${options.out}; starting from step 0`)
  } else if (await hasCheckpoint(options.out)) {
    throw new RagtuneError('RUN_IN_PROGRESS', `${options.out} holds checkpoints of an unfinished run`, {
      details: { out: options.out },
      hint: 'continue it with --resume, or train into another --out folder',
    })
  }
  const checkpoint = (step: number): Promise<string> =>
    saveCheckpoint(options.out, { step, runHash, losses, tokensSeen, paramNames: model.params.map((p) => p.name) }, model.params, adam)

  emit({ type: 'start', totalSteps, startStep: start, examples: examples.length, skipped: tokenized.overLength.length, kernels: kernels.backend, threads: kernels.threads })
  const t0 = performance.now()
  let computeTokens = 0
  let peakRss = process.memoryUsage().rss
  for (let step = start; step < totalSteps; step++) {
    const s = plan[step]!
    const lr = learningRate({ lr: config.lr, schedule: config.schedule, warmupSteps, totalSteps }, step)
    const { loss, tokens, gradNorm } = await optimizerStep(model, adam, examples, s, {
      lr,
      maxGradNorm: config.maxGradNorm,
      adamW: { ...DEFAULT_ADAMW, weightDecay: config.weightDecay },
      maskSeed: (i) => (Math.imul(config.seed, 0x27d4eb2d) ^ Math.imul(step, 0x165667b1) ^ i) >>> 0,
      beforeMicro: async () => {
        if (!options.signal?.aborted) return
        if (step > start) await checkpoint(step)
        throwIfAborted(options.signal)
      },
      afterMicro: async () => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss)
        await yieldToLoop()
      },
    })
    losses.push(loss)
    tokensSeen += tokens
    computeTokens += tokens
    const elapsed = (performance.now() - t0) / 1000
    const perStep = elapsed / (step + 1 - start)
    emit({ type: 'step', step: step + 1, totalSteps, epoch: s.epoch + 1, loss, lr, gradNorm, tokensPerSecond: computeTokens / elapsed, etaSeconds: perStep * (totalSteps - step - 1) })
    if ((step + 1) % config.checkpointEvery === 0 && step + 1 < totalSteps) emit({ type: 'checkpoint', step: step + 1, path: await checkpoint(step + 1) })
  }
  const seconds = (performance.now() - t0) / 1000

  const lora = model.loraWeights()
  const name = basename(options.out)
  const adapter = await writeGgufLora(lora, { name, path: join(options.out, 'adapter.gguf') })
  const c = weights.config
  const baseModelName = options.baseModelName ?? String(gguf.metadata.get('general.name') ?? basename(options.base))
  await exportPeft(lora, { dir: options.out, heads: c.heads, kvHeads: c.kvHeads, baseModelName, dropout: config.dropout })
  const report: TrainReport = {
    adapter: { path: adapter.path, sha256: adapter.sha256, bytes: adapter.bytes },
    base: { path: options.base, sha256: baseSha, residentBytes: weights.residentBytes, types: [...new Set([weights.tokenEmbedding.type, weights.blocks[0]?.linear.attn_q.type])] },
    dataset: { path: options.dataset, sha256: data.sha256, records: data.records.length, used: examples.length, overLength: tokenized.overLength },
    config: { ...config, maxLength },
    steps: totalSteps,
    resumedFrom: start,
    losses,
    tokensPerSecond: computeTokens / Math.max(seconds, 1e-9),
    seconds,
    peakRssBytes: peakRss,
    kernels: { backend: kernels.backend, threads: kernels.threads },
    warnings,
  }
  const reportPath = join(options.out, 'training-report.json')
  await writeFile(reportPath, `${JSON.stringify(report, null, 2)}\n`)
  await writeFile(join(options.out, 'training-report.md'), renderTrainReport(report))
  await removeCheckpoints(options.out)
  emit({ type: 'done', report })
  return { adapterPath: adapter.path, peftDir: options.out, reportPath, report }
}
