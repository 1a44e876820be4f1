import { RagtuneError } from '../../errors.js'
import { ggufLoraFile } from '../../train/adapter-io/gguf-lora.js'
import type { LoraPair, LoraWeights } from '../../train/lora-weights.js'
import type { GgufFile, WrittenGguf } from './gguf-writer.js'
import { writeGguf } from './gguf-writer.js'
import { seededUniform } from '../seeded-random.js'
import type { LinearName, TinyLlamaOptions } from './tiny-llama.js'
import { blockLinearShapes, resolveTinyLlamaOptions } from './tiny-llama.js'

/**
 * GGUF LoRA adapters for a tiny Llama, in the layout llama.cpp's `convert_lora_to_gguf.py` writes
 * and `llama_adapter_lora_init` checks: for a base weight of dims [in, out], `<name>.lora_a` is
 * [in, rank] and `<name>.lora_b` is [rank, out], and the update is W·x + (alpha / rank)·scale·B·A·x.
 * B is random and non-zero (a freshly initialized PEFT adapter has B = 0 and changes nothing), so
 * tests can see that the adapter was applied.
 */

export interface TinyLoraOptions {
  rank: number
  alpha: number
  /** Which matmuls of every block get an adapter; the design's default is attention q, k, v, o. */
  targets: readonly LinearName[]
  seed: number
  /** Standard deviation of B; with the default, the adapter changes greedy output from the first tokens. */
  bStd: number
}

export const DEFAULT_LORA_TARGETS: readonly LinearName[] = ['attn_q', 'attn_k', 'attn_v', 'attn_output']

export function resolveTinyLoraOptions(options: Partial<TinyLoraOptions> = {}): TinyLoraOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<TinyLoraOptions>
  const o: TinyLoraOptions = { rank: 4, alpha: 8, targets: DEFAULT_LORA_TARGETS, seed: 7, bStd: 0.5, ...given }
  if (!Number.isInteger(o.rank) || o.rank < 1) {
    throw new RagtuneError('INVALID_OPTIONS', `tiny lora: rank must be a positive integer, got ${o.rank}`, { details: { rank: o.rank } })
  }
  if (o.targets.length === 0) throw new RagtuneError('INVALID_OPTIONS', 'tiny lora: targets must name at least one matmul', { details: {} })
  return o
}

/** The adapter's weights, shaped for the base model `base` describes. */
export function tinyLoraWeights(base: Partial<TinyLlamaOptions> = {}, options: Partial<TinyLoraOptions> = {}): LoraWeights {
  const b = resolveTinyLlamaOptions(base)
  const o = resolveTinyLoraOptions(options)
  const shapes = blockLinearShapes(b)
  const pairs = new Map<string, LoraPair>()
  for (let layer = 0; layer < b.layers; layer++) {
    for (const target of o.targets) {
      const [inputs, outputs] = shapes[target]
      const name = `blk.${layer}.${target}.weight`
      pairs.set(`blk.${layer}.${target}`, {
        inputs,
        outputs,
        a: seededUniform(`${name}.lora_a`, o.seed, inputs * o.rank, 1 / Math.sqrt(inputs)),
        b: seededUniform(`${name}.lora_b`, o.seed, o.rank * outputs, o.bStd / Math.sqrt(o.rank)),
      })
    }
  }
  return { rank: o.rank, alpha: o.alpha, targets: o.targets, pairs }
}

/** The adapter as a GGUF description, shaped for the base model `base` describes. */
export function tinyLoraGguf(base: Partial<TinyLlamaOptions> = {}, options: Partial<TinyLoraOptions> = {}): GgufFile {
  const o = resolveTinyLoraOptions(options)
  return ggufLoraFile(tinyLoraWeights(base, o), { name: `ragtune tiny lora r${o.rank}` })
}

/** Writes an adapter GGUF to `path`. */
export function writeTinyLora(path: string, base: Partial<TinyLlamaOptions> = {}, options: Partial<TinyLoraOptions> = {}): Promise<WrittenGguf> {
  return writeGguf(path, tinyLoraGguf(base, options))
}
