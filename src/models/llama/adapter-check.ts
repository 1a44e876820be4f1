import type { GgufFileInfo, GgufTensorInfo } from 'node-llama-cpp'
import { RagtuneError } from '../../errors.js'
import { readGgufFileInfo } from './lazy-llama.js'

/**
 * Checks that a GGUF LoRA adapter fits a base model before llama.cpp sees it. llama.cpp applies
 * the same rules but only reports "failed to load", and a wrong adapter (another base, another
 * size) is the mistake users make most, so the message names the first tensor that does not fit.
 */

/** A dotted metadata key ("adapter.lora.alpha") in node-llama-cpp's nested metadata object. */
export function metadataValue(info: GgufFileInfo, key: string): unknown {
  let node: unknown = info.metadata
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

const dimsOf = (t: GgufTensorInfo): number[] => t.dimensions.map(Number)

function mismatch(adapterPath: string, modelPath: string, problem: string, details: Record<string, unknown>): RagtuneError {
  return new RagtuneError('ADAPTER_MISMATCH', `LoRA adapter ${adapterPath} does not fit base model ${modelPath}: ${problem}`, {
    details: { adapterPath, modelPath, ...details },
    hint: 'use an adapter trained on this exact base model (same architecture and sizes), or load the base model it was trained on',
  })
}

/**
 * Throws `ADAPTER_MISMATCH` unless `adapterPath` is a LoRA GGUF for `base`: general.type "adapter",
 * adapter.type "lora", the same architecture, and for every base weight [in, out] a pair
 * `.lora_a` [in, r] and `.lora_b` [r, out] (token_embd's pair is stored the other way round).
 */
export async function checkAdapterFits(base: GgufFileInfo, modelPath: string, adapterPath: string): Promise<void> {
  let adapter: GgufFileInfo
  try {
    adapter = await readGgufFileInfo(adapterPath, { logWarnings: false })
  } catch (error) {
    throw mismatch(adapterPath, modelPath, `it is not a readable GGUF file (${String(error)})`, {})
  }
  const type = metadataValue(adapter, 'general.type')
  const adapterType = metadataValue(adapter, 'adapter.type')
  if (type !== 'adapter' || adapterType !== 'lora') {
    throw mismatch(adapterPath, modelPath, `expected general.type "adapter" and adapter.type "lora", got ${String(type)} and ${String(adapterType)}`, { type, adapterType })
  }
  const arch = metadataValue(adapter, 'general.architecture')
  const baseArch = metadataValue(base, 'general.architecture')
  if (arch !== baseArch) throw mismatch(adapterPath, modelPath, `it is for architecture ${String(arch)}, the model is ${String(baseArch)}`, { arch, baseArch })

  const baseTensors = new Map((base.fullTensorInfo ?? base.tensorInfo ?? []).map((t) => [t.name, t]))
  const pairs = new Map<string, { a?: GgufTensorInfo; b?: GgufTensorInfo }>()
  for (const tensor of adapter.fullTensorInfo ?? adapter.tensorInfo ?? []) {
    const match = /^(.*)\.lora_([ab])$/.exec(tensor.name)
    if (!match) continue
    const pair = pairs.get(match[1] as string) ?? {}
    pair[match[2] as 'a' | 'b'] = tensor
    pairs.set(match[1] as string, pair)
  }
  if (pairs.size === 0) throw mismatch(adapterPath, modelPath, 'it holds no .lora_a/.lora_b tensors', {})
  for (const [name, { a, b }] of pairs) {
    if (!a || !b) throw mismatch(adapterPath, modelPath, `tensor ${name} has only one of .lora_a and .lora_b`, { tensor: name })
    const weight = baseTensors.get(name)
    if (!weight) throw mismatch(adapterPath, modelPath, `the base model has no tensor ${name}`, { tensor: name })
    const [w, ad, bd] = [dimsOf(weight), dimsOf(a), dimsOf(b)]
    const fits = name.endsWith('token_embd.weight') ? w[0] === bd[1] && w[1] === ad[1] : w[0] === ad[0] && w[1] === bd[1] && ad[1] === bd[0]
    if (!fits) {
      throw mismatch(adapterPath, modelPath, `${name} is [${w.join(', ')}] in the model but the adapter has lora_a [${ad.join(', ')}] and lora_b [${bd.join(', ')}]`, {
        tensor: name,
        weight: w,
        loraA: ad,
        loraB: bd,
      })
    }
  }
}
