import type { PackedBatch } from '../engine/llama-train-model.js'
import type { TokenizedExample } from './tokenize-records.js'

/**
 * The order of training: a seeded shuffle per epoch, optimizer steps of batchSize × gradAccum
 * examples, and micro-batches of batchSize examples packed end to end (no padding; attention and
 * positions restart per sequence, so packing changes no result). The plan is a pure function of
 * (examples, seed, sizes), which is what lets `--resume` continue exactly where a run stopped.
 */

export interface StepPlan {
  epoch: number
  /** Micro-batches of example indexes. */
  micro: number[][]
  /** Answer tokens in the whole step: the loss is their mean. */
  scored: number
}

function permutation(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i)
  let s = (seed ^ 0x5bd1e995) >>> 0 || 1
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    const j = (s >>> 0) % (i + 1)
    ;[order[i], order[j]] = [order[j] as number, order[i] as number]
  }
  return order
}

/** Tokens whose prediction is scored: every answer token (the first is predicted from the prompt's last). */
export function scoredTokens(e: TokenizedExample): number {
  return e.tokens.length - e.answerStart
}

export function planSteps(examples: readonly TokenizedExample[], o: { epochs: number; batchSize: number; gradAccum: number; seed: number }): StepPlan[] {
  const perStep = o.batchSize * o.gradAccum
  const steps: StepPlan[] = []
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const order = permutation(examples.length, o.seed + epoch * 7919)
    for (let s = 0; s < order.length; s += perStep) {
      const ids = order.slice(s, s + perStep)
      const micro: number[][] = []
      for (let m = 0; m < ids.length; m += o.batchSize) micro.push(ids.slice(m, m + o.batchSize))
      steps.push({ epoch, micro, scored: ids.reduce((sum, i) => sum + scoredTokens(examples[i] as TokenizedExample), 0) })
    }
  }
  return steps
}

/** Packs examples into one batch; targets are the next token where that token is part of the answer. */
export function packBatch(examples: readonly TokenizedExample[]): PackedBatch {
  const total = examples.reduce((s, e) => s + e.tokens.length, 0)
  const tokens = new Int32Array(total)
  const targets = new Int32Array(total).fill(-1)
  const segments = new Int32Array(examples.length + 1)
  let at = 0
  examples.forEach((e, i) => {
    segments[i] = at
    tokens.set(e.tokens, at)
    for (let t = Math.max(0, e.answerStart - 1); t < e.tokens.length - 1; t++) targets[at + t] = e.tokens[t + 1] as number
    at += e.tokens.length
  })
  segments[examples.length] = at
  return { tokens, targets, segments }
}
