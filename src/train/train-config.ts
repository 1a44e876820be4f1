import { RagtuneError } from '../errors.js'
import type { LinearName } from '../models/tiny-llama/tiny-llama.js'
import { hfTargetName } from './adapter-io/peft.js'
import { LINEAR_NAMES } from './engine/llama-weights.js'

/**
 * Training settings. Defaults are the guide's (and the QLoRA-era consensus): LoRA r=16, alpha=32,
 * dropout 0.05 on q,k,v,o; AdamW lr 2e-4 with a short warmup and cosine decay; 3 epochs of
 * batch 4 × gradient accumulation 4; gradient norm clipped at 1.
 */
export interface TrainConfig {
  rank: number
  alpha: number
  dropout: number
  /** Matmuls with adapters; `all-linear` adds gate/up/down (the QLoRA paper's choice). */
  targets: readonly LinearName[]
  lr: number
  schedule: 'cosine' | 'constant'
  /** Fraction of the steps spent warming the learning rate up linearly. */
  warmupRatio: number
  epochs: number
  batchSize: number
  gradAccum: number
  maxGradNorm: number
  weightDecay: number
  /** Longest example in tokens (prompt + answer); longer ones are reported and left out, never cut. */
  maxLength: number
  seed: number
  /** Save a resumable checkpoint every N optimizer steps. */
  checkpointEvery: number
}

export const DEFAULT_TARGETS: readonly LinearName[] = ['attn_q', 'attn_k', 'attn_v', 'attn_output']

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  rank: 16, alpha: 32, dropout: 0.05, targets: DEFAULT_TARGETS, lr: 2e-4, schedule: 'cosine', warmupRatio: 0.03, epochs: 3,
  batchSize: 4, gradAccum: 4, maxGradNorm: 1, weightDecay: 0, maxLength: 2048, seed: 42, checkpointEvery: 50,
}

/** Short names, and the Hugging Face module names (q_proj, …) PEFT's target_modules use. */
const SHORT_NAMES: Record<string, LinearName> = {
  q: 'attn_q', k: 'attn_k', v: 'attn_v', o: 'attn_output', gate: 'ffn_gate', up: 'ffn_up', down: 'ffn_down',
  ...Object.fromEntries(LINEAR_NAMES.map((target) => [hfTargetName(target), target])),
}

/** Parses "q,k,v,o", "all-linear" or GGUF/Hugging Face names into target matmuls. */
export function parseTargets(text: string): LinearName[] {
  if (text.trim() === 'all-linear') return [...LINEAR_NAMES]
  const out: LinearName[] = []
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const name = (LINEAR_NAMES as readonly string[]).includes(raw) ? (raw as LinearName) : Object.hasOwn(SHORT_NAMES, raw) ? SHORT_NAMES[raw] : undefined
    if (!name) {
      throw new RagtuneError('INVALID_OPTIONS', `unknown LoRA target "${raw}"`, {
        details: { target: raw },
        hint: 'use q,k,v,o,gate,up,down (or q_proj… / attn_q…), or all-linear',
      })
    }
    if (!out.includes(name)) out.push(name)
  }
  if (out.length === 0) throw new RagtuneError('INVALID_OPTIONS', 'no LoRA targets given', { details: {}, hint: 'e.g. --targets q,k,v,o' })
  return out
}

/** Merges overrides into the defaults and rejects values that cannot train. */
export function resolveTrainConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  // Only the settings themselves: callers pass wider option objects (paths, callbacks, resume).
  const known = new Set(Object.keys(DEFAULT_TRAIN_CONFIG))
  const given = Object.fromEntries(Object.entries(overrides).filter(([k, v]) => known.has(k) && v !== undefined)) as Partial<TrainConfig>
  const c: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...given }
  const fail = (key: string, expected: string): never => {
    throw new RagtuneError('INVALID_OPTIONS', `train option ${key}: expected ${expected}, got ${JSON.stringify((c as unknown as Record<string, unknown>)[key])}`, { details: { key } })
  }
  for (const key of ['rank', 'epochs', 'batchSize', 'gradAccum', 'maxLength', 'checkpointEvery'] as const) if (!Number.isInteger(c[key]) || c[key] < 1) fail(key, 'a positive integer')
  if (!(c.lr > 0)) fail('lr', 'a positive number')
  if (!(c.alpha > 0)) fail('alpha', 'a positive number')
  if (!(c.dropout >= 0 && c.dropout < 1)) fail('dropout', 'a number in [0, 1)')
  if (!(c.warmupRatio >= 0 && c.warmupRatio < 1)) fail('warmupRatio', 'a number in [0, 1)')
  if (!(c.maxGradNorm >= 0)) fail('maxGradNorm', 'a number ≥ 0 (0 disables clipping)')
  if (!(c.weightDecay >= 0)) fail('weightDecay', 'a number ≥ 0')
  if (c.schedule !== 'cosine' && c.schedule !== 'constant') fail('schedule', '"cosine" or "constant"')
  return c
}
