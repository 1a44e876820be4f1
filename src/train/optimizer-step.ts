import type { StepPlan } from './data/pack-batches.js'
import { packBatch } from './data/pack-batches.js'
import type { TokenizedExample } from './data/tokenize-records.js'
import type { LlamaTrainModel } from './engine/llama-train-model.js'
import type { AdamWOptions, AdamWState } from './optim/adamw.js'
import { adamWStep, clipGradNorm, DEFAULT_ADAMW } from './optim/adamw.js'

/** How one optimizer step runs; the hooks let the trainer checkpoint on abort and yield between micro-batches. */
export interface OptimizerStepOptions {
  /** This step's learning rate. */
  lr: number
  /** Clip the gradient's global L2 norm to this; 0 disables clipping. */
  maxGradNorm: number
  /** Default DEFAULT_ADAMW. */
  adamW?: AdamWOptions
  /** Dropout mask seed of micro-batch `micro` (its index in the step). */
  maskSeed: (micro: number) => number
  /** Awaited before each micro-batch. */
  beforeMicro?: () => Promise<void>
  /** Awaited after each micro-batch's forward and backward. */
  afterMicro?: () => Promise<void>
}

export interface OptimizerStepResult {
  /** Mean loss per scored token over the whole step. */
  loss: number
  /** Tokens packed into the step's micro-batches (prompts included). */
  tokens: number
  /** Gradient norm before clipping. */
  gradNorm: number
}

/**
 * One optimizer step of a plan: zeroes the grads, accumulates forward/backward over the step's
 * micro-batches (each loss scaled by 1/scored, so the sum is the step's mean per scored token),
 * clips the gradient norm and applies one AdamW update.
 */
export async function optimizerStep(
  model: LlamaTrainModel,
  adam: AdamWState,
  examples: readonly TokenizedExample[],
  step: StepPlan,
  o: OptimizerStepOptions,
): Promise<OptimizerStepResult> {
  model.zeroGrad()
  let loss = 0
  let tokens = 0
  for (const [i, ids] of step.micro.entries()) {
    if (o.beforeMicro) await o.beforeMicro()
    const batch = packBatch(ids.map((id) => examples[id]!))
    loss += model.lossAndGrad(batch, { lossScale: 1 / step.scored, maskSeed: o.maskSeed(i) }).loss
    tokens += batch.tokens.length
    if (o.afterMicro) await o.afterMicro()
  }
  const gradNorm = clipGradNorm(model.params, o.maxGradNorm)
  adamWStep(model.params, adam, o.lr, o.adamW ?? DEFAULT_ADAMW)
  return { loss: loss / step.scored, tokens, gradNorm }
}
