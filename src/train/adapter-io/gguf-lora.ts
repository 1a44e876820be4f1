import { RagtuneError } from '../../errors.js'
import type { GgufFile, GgufTensor, WrittenGguf } from '../../models/tiny-llama/gguf-writer.js'
import { gguf, writeGguf } from '../../models/tiny-llama/gguf-writer.js'
import type { LinearName } from '../../models/tiny-llama/tiny-llama.js'
import { LINEAR_NAMES } from '../engine/llama-weights.js'
import type { LoraWeights } from '../lora-weights.js'

/**
 * Trained adapters as GGUF LoRA files, the format llama.cpp and node-llama-cpp load next to a base
 * model: `<base>.weight.lora_a` with dims [in, rank] and `.lora_b` with dims [rank, out], f32, plus
 * general.type=adapter, adapter.type=lora and adapter.lora.alpha (llama.cpp scales by alpha/rank).
 * LoraWeights already stores A as [rank, in] and B as [out, rank] row-major, which is exactly that
 * ggml layout, so values are written as they are.
 */

export interface GgufLoraOptions {
  /** Shown by llama.cpp when it loads the adapter and kept in the registry. */
  name: string
  /** Must equal the base model's general.architecture; llama.cpp refuses a mismatch. Default 'llama'. */
  architecture?: string
}

const PAIR_KEY = new RegExp(`^blk\\.(\\d+)\\.(${LINEAR_NAMES.join('|')})$`)

/** Layer and target of a pair key such as `blk.3.attn_q`; throws on keys a GGUF Llama has no weight for. */
export function parsePairKey(key: string): { layer: number; target: LinearName } {
  const m = PAIR_KEY.exec(key)
  if (!m) {
    throw new RagtuneError('INVALID_ADAPTER', `LoRA pair key ${JSON.stringify(key)} is not blk.<layer>.<${LINEAR_NAMES.join('|')}>`, {
      details: { key },
      hint: 'key LoraWeights.pairs by the base tensor name without ".weight", e.g. blk.0.attn_q',
    })
  }
  return { layer: Number(m[1]), target: m[2] as LinearName }
}

/** Pair keys in file order (layer, then q k v o gate up down), so equal weights give equal bytes. */
export function sortedPairKeys(lora: LoraWeights): string[] {
  const rank = (key: string): number => {
    const { layer, target } = parsePairKey(key)
    return layer * LINEAR_NAMES.length + LINEAR_NAMES.indexOf(target)
  }
  return [...lora.pairs.keys()].sort((a, b) => rank(a) - rank(b))
}

/** Throws INVALID_ADAPTER unless every pair's A and B have the sizes rank, inputs and outputs imply. */
export function checkLoraWeights(lora: LoraWeights): void {
  if (!Number.isInteger(lora.rank) || lora.rank < 1 || !Number.isFinite(lora.alpha) || lora.pairs.size === 0) {
    throw new RagtuneError('INVALID_ADAPTER', `expected a positive integer rank, a finite alpha and at least one pair, got rank ${lora.rank}, alpha ${lora.alpha}, ${lora.pairs.size} pairs`, {
      details: { rank: lora.rank, alpha: lora.alpha, pairs: lora.pairs.size },
    })
  }
  for (const [key, p] of lora.pairs) {
    parsePairKey(key)
    if (p.a.length !== lora.rank * p.inputs || p.b.length !== p.outputs * lora.rank) {
      throw new RagtuneError('INVALID_ADAPTER', `LoRA pair ${key}: expected a [${lora.rank}, ${p.inputs}] and b [${p.outputs}, ${lora.rank}], got ${p.a.length} and ${p.b.length} values`, {
        details: { key, rank: lora.rank, inputs: p.inputs, outputs: p.outputs, a: p.a.length, b: p.b.length },
      })
    }
  }
}

/** The adapter as a GGUF description (metadata and f32 tensors), for writeGguf or encodeGguf. */
export function ggufLoraFile(lora: LoraWeights, options: GgufLoraOptions): GgufFile {
  checkLoraWeights(lora)
  const tensors: GgufTensor[] = []
  for (const key of sortedPairKeys(lora)) {
    const p = lora.pairs.get(key)
    if (!p) continue
    tensors.push(
      { name: `${key}.weight.lora_a`, dims: [p.inputs, lora.rank], type: 'f32', values: () => p.a },
      { name: `${key}.weight.lora_b`, dims: [lora.rank, p.outputs], type: 'f32', values: () => p.b },
    )
  }
  return {
    metadata: [
      ['general.architecture', gguf.str(options.architecture ?? 'llama')],
      ['general.type', gguf.str('adapter')],
      ['general.name', gguf.str(options.name)],
      ['adapter.type', gguf.str('lora')],
      ['adapter.lora.alpha', gguf.f32(lora.alpha)],
    ],
    tensors,
  }
}

/** Writes the adapter to `path`; the returned sha256 is what the registry and query log record. */
export function writeGgufLora(lora: LoraWeights, options: GgufLoraOptions & { path: string }): Promise<WrittenGguf> {
  return writeGguf(options.path, ggufLoraFile(lora, options))
}
