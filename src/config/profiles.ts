import { RagtuneError } from '../errors.js'
import type { RagtuneConfigInput } from './schema.js'

/** The guide's generator: Mistral 7B Instruct v0.3, 8-bit GGUF (the CPU trainer reads Q8_0 bases too). */
export const MISTRAL_7B_GGUF = 'hf:bartowski/Mistral-7B-Instruct-v0.3-GGUF/Mistral-7B-Instruct-v0.3-Q8_0.gguf'
/** The guide's other 7-8B choice; swap it into generator.model. */
export const LLAMA3_8B_GGUF = 'hf:bartowski/Meta-Llama-3-8B-Instruct-GGUF/Meta-Llama-3-8B-Instruct-Q8_0.gguf'
/** bge-large-en-v1.5 (the guide's embedder) as the ONNX export transformers.js loads: 1,024 dimensions. */
export const BGE_LARGE = 'Xenova/bge-large-en-v1.5'
/** A local cross-encoder of the bge family; teams on Cohere set models.reranker.provider "cohere" instead. */
export const BGE_RERANKER = 'Xenova/bge-reranker-base'

/**
 * Named starting points for `ragtune init --profile`. Each is a partial config on top of the
 * defaults, so a profile never hides a setting: the written file shows every key.
 * - `cpu-small`: the defaults (bge-small, MiniLM reranker, Qwen2.5-0.5B Q8_0): runs on 2 cores.
 * - `gpu-7b`: the guide's stack on one CUDA GPU: bge-large embeddings, bge reranker, Mistral 7B
 *   through node-llama-cpp with every layer on the GPU and 8k context (LoRA adapters hot-swap).
 * - `gpu-7b-vllm`: the same models, generation by a vLLM server (multi-LoRA: adapters are served
 *   under their registry names; start vLLM with --enable-lora and the adapters' PEFT folders).
 */
export const PROFILES = {
  'cpu-small': {},
  'gpu-7b': {
    models: { embedder: { model: BGE_LARGE }, reranker: { model: BGE_RERANKER } },
    generator: { provider: 'llama', model: MISTRAL_7B_GGUF, gpu: 'cuda', contextSize: 8192 },
  },
  'gpu-7b-vllm': {
    models: { embedder: { model: BGE_LARGE }, reranker: { model: BGE_RERANKER } },
    generator: { provider: 'openai', baseURL: 'http://localhost:8000/v1', model: 'mistralai/Mistral-7B-Instruct-v0.3', apiKeyEnv: 'VLLM_API_KEY' },
  },
} satisfies Record<string, RagtuneConfigInput>

export type ProfileName = keyof typeof PROFILES
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[]

/** The config input of a profile; an unknown name lists the known ones. */
export function profileConfig(name: string): RagtuneConfigInput {
  if (!(name in PROFILES)) {
    throw new RagtuneError('USAGE', `expected a profile of ${PROFILE_NAMES.join(', ')}, got "${name}"`, { hint: 'ragtune init --profile gpu-7b' })
  }
  return structuredClone(PROFILES[name as ProfileName]) as RagtuneConfigInput
}
