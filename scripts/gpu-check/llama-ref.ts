import type { LlamaModel, Token } from 'node-llama-cpp'
import { llamaRuntime } from '../../src/models/llama/llama-runtime.js'
import type { SafetensorsTensor } from '../../src/train/adapter-io/safetensors.js'

/**
 * Exact logits from llama.cpp (node-llama-cpp, CPU) for fixed token sequences, as
 * test/train-reference.test.ts gets them: f32 KV cache and no flash attention, so nothing is
 * rounded that an fp32 PyTorch forward keeps. Shared by prepare.ts (base model) and finish.ts
 * (base + converted adapter), and the numbers both sides compare.
 */

export interface TokenSequence {
  name: string
  ids: number[]
}

/** Loads a GGUF on the CPU; dispose it when done. */
export async function loadCpuModel(modelPath: string): Promise<LlamaModel> {
  return (await llamaRuntime(false)).loadModel({ modelPath, gpuLayers: 0 })
}

/** Row-major [tokens, vocab] logits of every position of every sequence, with an optional GGUF LoRA at scale 1. */
export async function exactLogits(model: LlamaModel, sequences: readonly TokenSequence[], adapterPath?: string): Promise<Map<string, Float32Array>> {
  const longest = Math.max(...sequences.map((s) => s.ids.length))
  const out = new Map<string, Float32Array>()
  for (const seq of sequences) {
    const context = await model.createContext({
      contextSize: Math.max(256, Math.ceil((longest + 8) / 256) * 256),
      sequences: 1,
      threads: 1,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
      flashAttention: false,
      ...(adapterPath ? { lora: { adapters: [{ filePath: adapterPath, scale: 1 }] } } : {}),
    })
    try {
      const evaluated = await context.getSequence().controlledEvaluate(seq.ids.map((t) => [t as Token, { generateNext: { logits: true } }]))
      const vocab = (evaluated[0]?.next.logits as Map<Token, number>).size
      const values = new Float32Array(seq.ids.length * vocab)
      evaluated.forEach((o, t) => {
        for (const [id, v] of o?.next.logits as Map<Token, number>) values[t * vocab + id] = v
      })
      out.set(seq.name, values)
    } finally {
      await context.dispose()
    }
  }
  return out
}

export interface LogitsComparison {
  tokens: number
  maxAbsDiff: number
  /** Standard deviation of the reference logits: the scale the difference is judged against. */
  refStd: number
  /** maxAbsDiff / refStd. */
  relMaxDiff: number
  /** Positions whose argmax (greedy next token) agrees. */
  argmaxAgree: number
}

/** Compares [tokens, vocab] logits; `ref` is the side taken as the reference. */
export function compareLogits(ref: Float32Array, other: Float32Array, vocab: number): LogitsComparison {
  if (ref.length !== other.length) throw new Error(`logits of different sizes: ${ref.length} vs ${other.length}`)
  let maxAbsDiff = 0
  let sumSq = 0
  let mean = 0
  for (let i = 0; i < ref.length; i++) mean += ref[i] as number
  mean /= ref.length
  for (let i = 0; i < ref.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs((ref[i] as number) - (other[i] as number)))
    sumSq += ((ref[i] as number) - mean) ** 2
  }
  const tokens = ref.length / vocab
  let argmaxAgree = 0
  for (let t = 0; t < tokens; t++) if (argmax(ref, t * vocab, vocab) === argmax(other, t * vocab, vocab)) argmaxAgree++
  const refStd = Math.sqrt(sumSq / ref.length)
  return { tokens, maxAbsDiff, refStd, relMaxDiff: maxAbsDiff / refStd, argmaxAgree }
}

function argmax(a: Float32Array, from: number, n: number): number {
  let best = 0
  for (let i = 1; i < n; i++) if ((a[from + i] as number) > (a[from + best] as number)) best = i
  return best
}

/** Logits as safetensors tensors `<prefix>.<sequence name>`, shape [tokens, vocab]. */
export function logitsTensors(prefix: string, logits: ReadonlyMap<string, Float32Array>, vocab: number): Map<string, SafetensorsTensor> {
  return new Map([...logits].map(([name, values]) => [`${prefix}.${name}`, { dtype: 'F32' as const, shape: [values.length / vocab, vocab], values }]))
}
