import { RagtuneError } from '../../errors.js'
import type { GgufFile, GgufTensor, WrittenGguf } from './gguf-writer.js'
import { gguf, writeGguf } from './gguf-writer.js'
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

/** The adapter as a GGUF description, shaped for the base model `base` describes. */
export function tinyLoraGguf(base: Partial<TinyLlamaOptions> = {}, options: Partial<TinyLoraOptions> = {}): GgufFile {
  const b = resolveTinyLlamaOptions(base)
  const o = resolveTinyLoraOptions(options)
  const shapes = blockLinearShapes(b)
  const tensors: GgufTensor[] = []
  for (let layer = 0; layer < b.layers; layer++) {
    for (const target of o.targets) {
      const [inputs, outputs] = shapes[target]
      const name = `blk.${layer}.${target}.weight`
      tensors.push(
        { name: `${name}.lora_a`, dims: [inputs, o.rank], type: 'f32', values: () => seededUniform(`${name}.lora_a`, o.seed, inputs * o.rank, 1 / Math.sqrt(inputs)) },
        { name: `${name}.lora_b`, dims: [o.rank, outputs], type: 'f32', values: () => seededUniform(`${name}.lora_b`, o.seed, o.rank * outputs, o.bStd / Math.sqrt(o.rank)) },
      )
    }
  }
  return {
    metadata: [
      ['general.architecture', gguf.str('llama')],
      ['general.type', gguf.str('adapter')],
      ['general.name', gguf.str(`ragtune tiny lora r${o.rank}`)],
      ['adapter.type', gguf.str('lora')],
      ['adapter.lora.alpha', gguf.f32(o.alpha)],
    ],
    tensors,
  }
}

/** Writes an adapter GGUF to `path`. */
export function writeTinyLora(path: string, base: Partial<TinyLlamaOptions> = {}, options: Partial<TinyLoraOptions> = {}): Promise<WrittenGguf> {
  return writeGguf(path, tinyLoraGguf(base, options))
}
