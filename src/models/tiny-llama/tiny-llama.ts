import { RagtuneError } from '../../errors.js'
import type { ByteBpeVocab } from './byte-bpe-vocab.js'
import { CHATML_TEMPLATE, buildByteBpeVocab } from './byte-bpe-vocab.js'
import type { GgufFile, GgufTensor, GgufValue, WrittenGguf } from './gguf-writer.js'
import { gguf, writeGguf } from './gguf-writer.js'
import { seededUniform } from '../seeded-random.js'

/**
 * Generates Llama-architecture GGUF models with seeded random weights, a byte-level BPE tokenizer
 * and a ChatML template, all inside the file. This machine has no network and no pretrained
 * weights, so tests, the offline demo and speed benchmarks run on these; never report quality from
 * them. Q and K are random, so the rotary layout question (llama.cpp's interleaved "NORM" rope
 * versus Hugging Face's rotate-half) does not arise here; a reference forward must use llama.cpp's.
 */

export type TinyLlamaTensorType = 'f32' | 'f16' | 'q8_0'

export interface TinyLlamaOptions {
  hiddenSize: number
  layers: number
  heads: number
  /** Fewer than `heads` gives grouped-query attention, as in every current small Llama. */
  kvHeads: number
  intermediateSize: number
  vocabSize: number
  contextLength: number
  /** Storage of the 2-D weights; norms stay f32, as llama.cpp's quantizer leaves them. */
  type: TinyLlamaTensorType
  /** Tied models have no output.weight: llama.cpp reuses token_embd.weight for the logits. */
  tied: boolean
  seed: number
  ropeFreqBase: number
  rmsNormEpsilon: number
}

/** Generates in milliseconds, loads in node-llama-cpp in well under a second. */
export const TINY_LLAMA_SHAPE = {
  hiddenSize: 64, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 128, vocabSize: 1024, contextLength: 8192,
} as const satisfies Partial<TinyLlamaOptions>

/** SmolLM2-135M's exact shapes with random weights: for speed benchmarks only. */
export const SMOLLM2_135M_SHAPE = {
  hiddenSize: 576, layers: 30, heads: 9, kvHeads: 3, intermediateSize: 1536, vocabSize: 49152, contextLength: 2048, tied: true, ropeFreqBase: 100000,
} as const satisfies Partial<TinyLlamaOptions>

/** Fills defaults (tiny shape, f32, untied, seed 42) and rejects shapes llama.cpp cannot run. */
export function resolveTinyLlamaOptions(options: Partial<TinyLlamaOptions> = {}): TinyLlamaOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<TinyLlamaOptions>
  const o: TinyLlamaOptions = { ...TINY_LLAMA_SHAPE, type: 'f32', tied: false, seed: 42, ropeFreqBase: 10000, rmsNormEpsilon: 1e-5, ...given }
  const fail = (message: string): never => {
    throw new RagtuneError('INVALID_OPTIONS', `tiny llama: ${message}`, { details: { ...o } })
  }
  for (const key of ['hiddenSize', 'layers', 'heads', 'kvHeads', 'intermediateSize', 'vocabSize', 'contextLength'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) fail(`${key} must be a positive integer, got ${o[key]}`)
  }
  if (o.hiddenSize % o.heads !== 0) fail(`hiddenSize ${o.hiddenSize} must be a multiple of heads ${o.heads}`)
  if ((o.hiddenSize / o.heads) % 2 !== 0) fail(`the head size ${o.hiddenSize / o.heads} must be even for rotary embeddings`)
  if (o.heads % o.kvHeads !== 0) fail(`heads ${o.heads} must be a multiple of kvHeads ${o.kvHeads}`)
  if (!['f32', 'f16', 'q8_0'].includes(o.type)) fail(`type must be f32, f16 or q8_0, got ${String(o.type)}`)
  return o
}

/** The matmul weights of one block, with their [inputs, outputs] sizes. */
export function blockLinearShapes(o: TinyLlamaOptions): Record<LinearName, [number, number]> {
  const kvSize = (o.hiddenSize / o.heads) * o.kvHeads
  return {
    attn_q: [o.hiddenSize, o.hiddenSize],
    attn_k: [o.hiddenSize, kvSize],
    attn_v: [o.hiddenSize, kvSize],
    attn_output: [o.hiddenSize, o.hiddenSize],
    ffn_gate: [o.hiddenSize, o.intermediateSize],
    ffn_up: [o.hiddenSize, o.intermediateSize],
    ffn_down: [o.intermediateSize, o.hiddenSize],
  }
}

export type LinearName = 'attn_q' | 'attn_k' | 'attn_v' | 'attn_output' | 'ffn_gate' | 'ffn_up' | 'ffn_down'

/** llama.cpp's general.file_type for each storage choice (LLAMA_FTYPE_*). */
const FILE_TYPE: Record<TinyLlamaTensorType, number> = { f32: 0, f16: 1, q8_0: 7 }

/**
 * Scales, found by trying: the residual stream's attention and MLP parts are about as large as the
 * token embedding, so the next token depends on the context and greedy decoding does not settle
 * into one repeated token. Control tokens get near-zero output rows: the model never ends a turn
 * by itself (maxTokens or a grammar does), so greedy tests always see text.
 */
const EMBEDDING_STD = 1
const OUTPUT_GAIN = 2
const CONTROL_ROW_SCALE = 0.02

function tensorsFor(o: TinyLlamaOptions, vocab: ByteBpeVocab): GgufTensor[] {
  const h = o.hiddenSize
  const weight = (name: string, dims: [number, number], std: number, rows?: (v: Float32Array) => void): GgufTensor => ({
    name,
    dims,
    type: o.type,
    values: () => {
      const v = seededUniform(name, o.seed, dims[0] * dims[1], std)
      rows?.(v)
      return v
    },
  })
  const norm = (name: string): GgufTensor => ({ name, dims: [h], type: 'f32', values: () => seededUniform(name, o.seed, h, 0.1, 1) })
  /** Shrinks the rows of the control tokens (the vocabulary's tail) in a [hidden, vocab] matrix. */
  const quietControlTokens = (v: Float32Array): void => {
    for (let i = vocab.bos * h; i < v.length; i++) v[i] = (v[i] as number) * CONTROL_ROW_SCALE
  }

  const tensors = [weight('token_embd.weight', [h, o.vocabSize], EMBEDDING_STD, o.tied ? quietControlTokens : undefined)]
  const shapes = blockLinearShapes(o)
  for (let layer = 0; layer < o.layers; layer++) {
    tensors.push(norm(`blk.${layer}.attn_norm.weight`))
    for (const name of ['attn_q', 'attn_k', 'attn_v', 'attn_output'] as const) {
      const dims = shapes[name]
      tensors.push(weight(`blk.${layer}.${name}.weight`, dims, (name === 'attn_q' || name === 'attn_k' ? 2 : 1.5) / Math.sqrt(dims[0])))
    }
    tensors.push(norm(`blk.${layer}.ffn_norm.weight`))
    for (const name of ['ffn_gate', 'ffn_up', 'ffn_down'] as const) {
      const dims = shapes[name]
      tensors.push(weight(`blk.${layer}.${name}.weight`, dims, 1.5 / Math.sqrt(dims[0])))
    }
  }
  tensors.push(norm('output_norm.weight'))
  if (!o.tied) tensors.push(weight('output.weight', [h, o.vocabSize], OUTPUT_GAIN / Math.sqrt(h), quietControlTokens))
  return tensors
}

/** Metadata keys in llama.cpp's names; `llama.*` hyperparameters, then the tokenizer. */
function metadataFor(o: TinyLlamaOptions, vocab: ByteBpeVocab): Array<[string, GgufValue]> {
  return [
    ['general.architecture', gguf.str('llama')],
    ['general.type', gguf.str('model')],
    ['general.name', gguf.str(`ragtune tiny llama ${o.hiddenSize}x${o.layers}`)],
    ['general.file_type', gguf.u32(FILE_TYPE[o.type])],
    ['llama.vocab_size', gguf.u32(o.vocabSize)],
    ['llama.context_length', gguf.u32(o.contextLength)],
    ['llama.embedding_length', gguf.u32(o.hiddenSize)],
    ['llama.block_count', gguf.u32(o.layers)],
    ['llama.feed_forward_length', gguf.u32(o.intermediateSize)],
    ['llama.attention.head_count', gguf.u32(o.heads)],
    ['llama.attention.head_count_kv', gguf.u32(o.kvHeads)],
    ['llama.rope.dimension_count', gguf.u32(o.hiddenSize / o.heads)],
    ['llama.rope.freq_base', gguf.f32(o.ropeFreqBase)],
    ['llama.attention.layer_norm_rms_epsilon', gguf.f32(o.rmsNormEpsilon)],
    ['tokenizer.ggml.model', gguf.str('gpt2')],
    // qwen2's pre-tokenizer keeps spaces before punctuation on decode (gpt2's would drop them).
    ['tokenizer.ggml.pre', gguf.str('qwen2')],
    ['tokenizer.ggml.tokens', gguf.strings(vocab.tokens)],
    ['tokenizer.ggml.token_type', gguf.i32s(vocab.tokenTypes)],
    ['tokenizer.ggml.merges', gguf.strings(vocab.merges)],
    ['tokenizer.ggml.bos_token_id', gguf.u32(vocab.bos)],
    ['tokenizer.ggml.eos_token_id', gguf.u32(vocab.eos)],
    ['tokenizer.ggml.padding_token_id', gguf.u32(vocab.pad)],
    ['tokenizer.ggml.add_bos_token', gguf.bool(false)],
    ['tokenizer.chat_template', gguf.str(CHATML_TEMPLATE)],
  ]
}

/** The whole model as a GGUF description; tensor values are generated only when written. */
export function tinyLlamaGguf(options: Partial<TinyLlamaOptions> = {}): GgufFile {
  const o = resolveTinyLlamaOptions(options)
  const vocab = buildByteBpeVocab(o.vocabSize)
  return { metadata: metadataFor(o, vocab), tensors: tensorsFor(o, vocab) }
}

/** Writes a tiny Llama GGUF to `path` (streamed, so the SmolLM2 shape needs no 500 MB buffer). */
export function writeTinyLlama(path: string, options: Partial<TinyLlamaOptions> = {}): Promise<WrittenGguf> {
  return writeGguf(path, tinyLlamaGguf(options))
}
