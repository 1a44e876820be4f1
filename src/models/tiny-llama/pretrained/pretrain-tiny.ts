import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { llamaRuntime } from '../../llama/llama-runtime.js'
import { parseGguf } from '../../gguf/gguf-reader.js'
import { encodeGguf, type GgufFile } from '../gguf-writer.js'
import { tinyLlamaGguf, type TinyLlamaOptions } from '../tiny-llama.js'
import { LlamaTrainModel } from '../../../train/engine/llama-train-model.js'
import { llamaWeightsFrom } from '../../../train/engine/llama-weights.js'
import { planSteps } from '../../../train/data/pack-batches.js'
import { tokenizeRecords } from '../../../train/data/tokenize-records.js'
import type { Kernels } from '../../../train/kernels/kernels.js'
import { createAdamWState, learningRate } from '../../../train/optim/adamw.js'
import { optimizerStep } from '../../../train/optimizer-step.js'
import { plainAnswer, PRETRAIN_JSON_SCHEMA, pretrainJsonAnswer, ragTaskExample } from './rag-task.js'

/**
 * Pre-trains a tiny Llama (all weights, from seeded random init) on the synthetic RAG task with
 * plain-text answers ("water [2]") by default and, when the system prompt asks for JSON with
 * PRETRAIN_JSON_SCHEMA, JSON with its own keys ({"value", "citation"}). The result is a base model
 * with a habit and some JSON (as real models have), which
 * is what a LoRA adapter is for: changing how a model answers. Built by the project itself because
 * no pretrained weights exist on machines without a network; deterministic for a given recipe.
 */

export interface PretrainRecipe {
  shape: Partial<TinyLlamaOptions>
  examples: number
  epochs: number
  batchSize: number
  lr: number
  /** Task family seed of the training examples; held-out evaluations use other seeds. */
  taskSeed: number
  /**
   * Every n-th example's system prompt asks for JSON (PRETRAIN_JSON_SCHEMA) and its answer is that
   * JSON; the rest answer in plain text. A base model that knows some JSON, as real ones do.
   */
  jsonEvery?: number
}

/** Bumped whenever the recipe's meaning changes, so cached fixtures are rebuilt. */
export const PRETRAIN_RECIPE_VERSION = 2

export const DEFAULT_PRETRAIN_RECIPE: PretrainRecipe = {
  shape: { hiddenSize: 64, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 128, vocabSize: 1024, contextLength: 2048, seed: 5 },
  examples: 1200,
  epochs: 2,
  batchSize: 8,
  lr: 3e-3,
  taskSeed: 1,
  jsonEvery: 2,
}

export interface PretrainResult {
  /** Trained weights as a GGUF description; write it as f32 or q8_0. */
  gguf: (type: 'f32' | 'q8_0') => GgufFile
  losses: number[]
}

/** Runs the pre-training. `workDir` receives the random-init GGUF (node-llama-cpp tokenizes from a file). */
export async function pretrainTinyLlama(o: { recipe?: PretrainRecipe; kernels: Kernels; workDir: string; onStep?: (step: number, total: number, loss: number) => void }): Promise<PretrainResult> {
  const recipe = o.recipe ?? DEFAULT_PRETRAIN_RECIPE
  const init = encodeGguf(tinyLlamaGguf({ ...recipe.shape, type: 'f32' }))
  await mkdir(o.workDir, { recursive: true })
  const initPath = join(o.workDir, 'init-f32.gguf')
  await writeFile(initPath, init)
  // node-llama-cpp's tokenizer needs a file; the weights then come from the same bytes in memory.

  const llama = await llamaRuntime(false)
  const vocab = await llama.loadModel({ modelPath: initPath, vocabOnly: true })
  const jsonEvery = recipe.jsonEvery ?? 0
  const records = Array.from({ length: recipe.examples }, (_, i) => {
    if (jsonEvery && i % jsonEvery === jsonEvery - 1) {
      const e = ragTaskExample(recipe.taskSeed, i, { jsonSchema: PRETRAIN_JSON_SCHEMA })
      return { line: i + 1, prompt: e.messages, answer: pretrainJsonAnswer(e) }
    }
    const e = ragTaskExample(recipe.taskSeed, i)
    return { line: i + 1, prompt: e.messages, answer: plainAnswer(e) }
  })
  const { examples } = tokenizeRecords(vocab, records, 2048)
  await vocab.dispose()

  const weights = llamaWeightsFrom(parseGguf(new Uint8Array(init.buffer, init.byteOffset, init.byteLength)))
  const model = new LlamaTrainModel(weights, { kernels: o.kernels, seed: 1, full: true })
  const adam = createAdamWState(model.params)
  const plan = planSteps(examples, { epochs: recipe.epochs, batchSize: recipe.batchSize, gradAccum: 1, seed: recipe.taskSeed })
  const losses: number[] = []
  for (const [step, s] of plan.entries()) {
    const lr = learningRate({ lr: recipe.lr, schedule: 'cosine', warmupSteps: Math.ceil(plan.length * 0.05), totalSteps: plan.length }, step)
    const { loss } = await optimizerStep(model, adam, examples, s, { lr, maxGradNorm: 1, maskSeed: () => step })
    losses.push(loss)
    o.onStep?.(step + 1, plan.length, loss)
    await new Promise((resolve) => setImmediate(resolve))
  }
  const trained = new Map(model.params.map((p) => [p.name, p.value]))
  return {
    losses,
    gguf: (type) => {
      const file = tinyLlamaGguf({ ...recipe.shape, type })
      return { ...file, tensors: file.tensors.map((t) => ({ ...t, values: () => Float32Array.from(trained.get(t.name) ?? t.values()) })) }
    },
  }
}
