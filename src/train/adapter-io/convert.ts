import { readGgufFileInfo } from '../../models/llama/lazy-llama.js'
import { RagtuneError } from '../../errors.js'
import { checkAdapterFits, metadataValue } from '../../models/llama/adapter-check.js'
import type { WrittenGguf } from '../../models/tiny-llama/gguf-writer.js'
import type { LinearName } from '../../models/tiny-llama/tiny-llama.js'
import { LINEAR_NAMES } from '../engine/llama-weights.js'
import type { LoraPair, LoraWeights } from '../lora-weights.js'
import { parsePairKey, sortedPairKeys, writeGgufLora } from './gguf-lora.js'
import type { PeftAdapter } from './peft.js'
import { parsePeftTensorName, peftAdapterConfig, peftTensorName, readPeftAdapter, writePeftAdapter } from './peft.js'
import { permuteRowsGgufToHf, permuteRowsHfToGguf } from './rope-permute.js'
import type { SafetensorsTensor } from './safetensors.js'

/**
 * Moves adapters between PEFT (what the GPU job trains) and GGUF LoRA (what ragtune serves with
 * llama.cpp). Besides renaming tensors, q and k LoRA B rows must follow llama.cpp's rotary layout
 * for architectures whose converter permutes them (Llama, Mistral); Qwen2/Qwen3 use "NEOX" rope
 * in llama.cpp, the same rotate-half layout as Hugging Face, and are copied unchanged.
 */

/** What the conversion needs to know about the base model. */
export interface BaseShape {
  /** The base GGUF's general.architecture (llama, qwen2, qwen3). */
  architecture: string
  heads: number
  kvHeads: number
}

/** How llama.cpp's converter lays out q/k rows for each architecture ragtune can convert. */
const ROPE_LAYOUT: Readonly<Record<string, 'interleaved' | 'neox'>> = { llama: 'interleaved', qwen2: 'neox', qwen3: 'neox' }

/** Hugging Face config.json `model_type` → the GGUF architecture llama.cpp's converter gives it. */
const GGUF_ARCH_OF_MODEL_TYPE: Readonly<Record<string, string>> = { llama: 'llama', mistral: 'llama', qwen2: 'qwen2', qwen3: 'qwen3' }

/** The GGUF architecture of a Hugging Face model type, or undefined when ragtune cannot convert its adapters. */
export function ggufArchitectureOf(modelType: string): string | undefined {
  return GGUF_ARCH_OF_MODEL_TYPE[modelType]
}

/** Row-permutation head count for a q/k LoRA B in this architecture, or null when rows stay as they are. */
function permuteHeads(target: LinearName, shape: BaseShape): number | null {
  const layout = ROPE_LAYOUT[shape.architecture]
  if (!layout) {
    throw new RagtuneError('UNSUPPORTED_ARCHITECTURE', `cannot convert LoRA adapters for architecture ${JSON.stringify(shape.architecture)}: its rotary layout is unknown`, {
      details: { architecture: shape.architecture },
      hint: `use a base model of architecture ${Object.keys(ROPE_LAYOUT).join(', ')} (Llama, Mistral, SmolLM, Qwen2/2.5/3)`,
    })
  }
  if (layout === 'neox') return null
  if (target === 'attn_q') return shape.heads
  return target === 'attn_k' ? shape.kvHeads : null
}

/** An adapter read from PEFT, in GGUF orientation (q/k B rows permuted where the architecture needs it). */
export function loraFromPeft(adapter: PeftAdapter, shape: BaseShape): LoraWeights {
  const halves = new Map<string, { a?: SafetensorsTensor; b?: SafetensorsTensor }>()
  for (const [name, tensor] of adapter.tensors) {
    const parsed = parsePeftTensorName(name)
    if (!parsed) continue // readPeftAdapter already rejected these
    const key = `blk.${parsed.layer}.${parsed.target}`
    const half = halves.get(key) ?? {}
    half[parsed.part === 'A' ? 'a' : 'b'] = tensor
    halves.set(key, half)
  }
  const pairs = new Map<string, LoraPair>()
  for (const [key, { a, b }] of halves) {
    if (!a || !b) {
      throw new RagtuneError('INVALID_ADAPTER', `PEFT adapter: ${key} has only lora_${a ? 'A' : 'B'}, expected both lora_A and lora_B`, {
        details: { key },
        hint: 'the safetensors file is incomplete; save the adapter again',
      })
    }
    const [inputs, outputs] = [a.shape[1] as number, b.shape[0] as number]
    const nHead = permuteHeads(parsePairKey(key).target, shape)
    const bValues = nHead === null ? b.values : permuteRowsHfToGguf(b.values, outputs, adapter.rank, nHead)
    pairs.set(key, { inputs, outputs, a: a.values, b: bValues })
  }
  const present = new Set([...pairs.keys()].map((k) => parsePairKey(k).target))
  const lora: LoraWeights = { rank: adapter.rank, alpha: adapter.alpha, targets: LINEAR_NAMES.filter((t) => present.has(t)), pairs }
  return { ...lora, pairs: new Map(sortedPairKeys(lora).map((k) => [k, pairs.get(k) as LoraPair])) }
}

/** The PEFT tensors of a GGUF-orientation adapter (q/k B rows permuted back to Hugging Face's layout). */
export function peftTensorsFromLora(lora: LoraWeights, shape: BaseShape): Map<string, SafetensorsTensor> {
  const tensors = new Map<string, SafetensorsTensor>()
  for (const key of sortedPairKeys(lora)) {
    const p = lora.pairs.get(key) as LoraPair
    const { layer, target } = parsePairKey(key)
    const nHead = permuteHeads(target, shape)
    tensors.set(peftTensorName(layer, target, 'A'), { dtype: 'F32', shape: [lora.rank, p.inputs], values: p.a })
    const b = nHead === null ? p.b : permuteRowsGgufToHf(p.b, p.outputs, lora.rank, nHead)
    tensors.set(peftTensorName(layer, target, 'B'), { dtype: 'F32', shape: [p.outputs, lora.rank], values: b })
  }
  return tensors
}

export interface ExportPeftOptions {
  dir: string
  heads: number
  kvHeads: number
  /** Hugging Face id or folder of the base model, written as base_model_name_or_path. */
  baseModelName: string
  /** The base GGUF's architecture; default 'llama'. */
  architecture?: string
  /** The dropout the adapter was trained with, recorded in adapter_config.json; default 0. */
  dropout?: number
}

/** Writes a trained adapter as a PEFT folder that transformers/peft and vLLM load on the original HF model. */
export async function exportPeft(lora: LoraWeights, options: ExportPeftOptions): ReturnType<typeof writePeftAdapter> {
  const shape: BaseShape = { architecture: options.architecture ?? 'llama', heads: options.heads, kvHeads: options.kvHeads }
  const tensors = peftTensorsFromLora(lora, shape)
  const config = peftAdapterConfig({ rank: lora.rank, alpha: lora.alpha, dropout: options.dropout ?? 0, targets: lora.targets, baseModelName: options.baseModelName })
  return writePeftAdapter(options.dir, config, tensors)
}

/** Architecture and head counts from a base GGUF's metadata (`<arch>.attention.head_count[_kv]`). */
async function baseShapeOf(basePath: string): Promise<{ shape: BaseShape; info: Awaited<ReturnType<typeof readGgufFileInfo>> }> {
  let info: Awaited<ReturnType<typeof readGgufFileInfo>>
  try {
    info = await readGgufFileInfo(basePath, { logWarnings: false })
  } catch (error) {
    throw new RagtuneError('MODEL_NOT_FOUND', `could not read base model GGUF ${basePath}: ${String(error)}`, {
      details: { basePath },
      hint: 'pass the GGUF file the adapter will be served with, or its { architecture, heads, kvHeads }',
      cause: error,
    })
  }
  const architecture = String(metadataValue(info, 'general.architecture'))
  const heads = Number(metadataValue(info, `${architecture}.attention.head_count`))
  const kvHeads = Number(metadataValue(info, `${architecture}.attention.head_count_kv`) ?? heads)
  return { shape: { architecture, heads, kvHeads }, info }
}

export interface ConvertPeftOptions {
  /** The folder peft's save_pretrained wrote (adapter_model.safetensors + adapter_config.json). */
  peftDir: string
  /**
   * The base model: its GGUF file (architecture and head counts are read from it, and the result is
   * checked to fit it), or the shape when the GGUF is not at hand.
   */
  base: string | BaseShape
  /** Where the GGUF LoRA goes. */
  out: string
  /** general.name; default "ragtune lora r<rank>". */
  name?: string
}

/**
 * Converts a PEFT LoRA (e.g. the GPU job's output) into a GGUF LoRA for node-llama-cpp. Throws
 * UNSUPPORTED_ADAPTER for PEFT options a GGUF LoRA cannot express, and ADAPTER_MISMATCH when a base
 * GGUF is given and the adapter does not fit it.
 */
export async function convertPeftToGguf(options: ConvertPeftOptions): Promise<WrittenGguf & { rank: number; alpha: number; warnings: string[] }> {
  const adapter = await readPeftAdapter(options.peftDir)
  const base = typeof options.base === 'string' ? await baseShapeOf(options.base) : { shape: options.base, info: null }
  const lora = loraFromPeft(adapter, base.shape)
  const written = await writeGgufLora(lora, { path: options.out, name: options.name ?? `ragtune lora r${lora.rank}`, architecture: base.shape.architecture })
  if (base.info && typeof options.base === 'string') await checkAdapterFits(base.info, options.base, options.out)
  return { ...written, rank: adapter.rank, alpha: adapter.alpha, warnings: adapter.warnings }
}
