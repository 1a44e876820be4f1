import { RagtuneError } from '../../errors.js'
import { ggmlBytes } from '../../models/gguf/ggml-types.js'
import type { GgufContents, GgufTensorInfo } from '../../models/gguf/gguf-reader.js'
import type { LinearName } from '../../models/tiny-llama/tiny-llama.js'
import type { Kernels, WeightType } from '../kernels/kernels.js'

/**
 * The frozen base model as the trainer holds it: hyperparameters from the GGUF metadata and every
 * weight in its stored type (f32, f16 or q8_0). A quantized matrix is dequantized into a shared
 * scratch buffer only while its matmul runs, so a Q8_0 base costs ~1.06 bytes per weight in memory,
 * QLoRA's idea with llama.cpp's format.
 */

export interface LlamaConfig {
  hidden: number
  layers: number
  heads: number
  kvHeads: number
  headDim: number
  ffn: number
  vocab: number
  eps: number
  ropeBase: number
  contextLength: number
  /** No output.weight: the logits reuse token_embd.weight. */
  tied: boolean
}

export const LINEAR_NAMES: readonly LinearName[] = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down']

/** A matmul weight: `rows` outputs of `cols` inputs each (GGUF dims [cols, rows]). */
export class WeightMatrix {
  /** f32 storage read in place, or (full training) a trainable copy. */
  f32: Float32Array | null
  constructor(
    readonly name: string,
    readonly rows: number,
    readonly cols: number,
    readonly type: WeightType,
    readonly data: Uint8Array,
  ) {
    this.f32 = type === 'f32' ? asFloat32(data) : null
  }

  get byteLength(): number {
    return this.data.byteLength
  }

  /** The weight as float32: the stored array itself for f32, else dequantized into `scratch`. */
  values(kernels: Kernels, scratch: Float32Array): Float32Array {
    if (this.f32) return this.f32
    const out = scratch.subarray(0, this.rows * this.cols)
    kernels.dequantize(this.type, this.data, out, this.rows * this.cols)
    return out
  }

  /** One row (e.g. a token's embedding) as float32. */
  row(kernels: Kernels, index: number, out: Float32Array): void {
    if (this.f32) {
      out.set(this.f32.subarray(index * this.cols, (index + 1) * this.cols))
      return
    }
    const rowBytes = ggmlBytes(this.type, this.cols)
    kernels.dequantize(this.type, this.data.subarray(index * rowBytes, (index + 1) * rowBytes), out, this.cols)
  }
}

export interface LlamaBlockWeights {
  attnNorm: Float32Array
  ffnNorm: Float32Array
  linear: Record<LinearName, WeightMatrix>
}

export interface LlamaWeights {
  config: LlamaConfig
  tokenEmbedding: WeightMatrix
  /** The logits' weight: token_embd when tied. */
  output: WeightMatrix
  outputNorm: Float32Array
  blocks: LlamaBlockWeights[]
  /** Biggest matrix, in values, so one scratch buffer serves every dequantization. */
  maxMatrixValues: number
  /** The model's own bytes held by this object (what "the base stays quantized" buys). */
  residentBytes: number
}

/** Float32 view when aligned, else a copy (GGUF aligns tensor data to 32 bytes, so normally a view). */
function asFloat32(data: Uint8Array): Float32Array {
  if (data.byteOffset % 4 === 0) return new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4)
  return new Float32Array(data.slice().buffer)
}

function num(meta: Map<string, unknown>, key: string, fallback?: number): number {
  const v = meta.get(key)
  if (typeof v === 'number') return v
  if (fallback !== undefined) return fallback
  throw new RagtuneError('GGUF_INVALID', `the GGUF has no ${key}; the trainer needs it to rebuild the model`, { details: { key } })
}

export function llamaConfigFrom(gguf: GgufContents): LlamaConfig {
  const meta = gguf.metadata
  const arch = meta.get('general.architecture')
  if (arch !== 'llama') {
    throw new RagtuneError('UNSUPPORTED_MODEL', `the CPU trainer trains Llama-family models; this GGUF is "${String(arch)}"`, {
      details: { architecture: arch },
      hint: 'use a Llama-architecture GGUF (Llama, SmolLM, Mistral-without-sliding-window, TinyLlama), or --backend python on a GPU',
    })
  }
  const hidden = num(meta, 'llama.embedding_length')
  const heads = num(meta, 'llama.attention.head_count')
  const tokens = meta.get('tokenizer.ggml.tokens')
  return {
    hidden,
    layers: num(meta, 'llama.block_count'),
    heads,
    kvHeads: num(meta, 'llama.attention.head_count_kv', heads),
    headDim: num(meta, 'llama.rope.dimension_count', hidden / heads),
    ffn: num(meta, 'llama.feed_forward_length'),
    vocab: num(meta, 'llama.vocab_size', Array.isArray(tokens) ? tokens.length : undefined),
    eps: num(meta, 'llama.attention.layer_norm_rms_epsilon', 1e-5),
    ropeBase: num(meta, 'llama.rope.freq_base', 10000),
    contextLength: num(meta, 'llama.context_length', 2048),
    tied: !gguf.tensors.some((t) => t.name === 'output.weight'),
  }
}

/** Builds the trainer's view of a parsed GGUF; throws a clear error for a missing or odd tensor. */
export function llamaWeightsFrom(gguf: GgufContents): LlamaWeights {
  const config = llamaConfigFrom(gguf)
  if (config.headDim * config.heads !== config.hidden) {
    throw new RagtuneError('UNSUPPORTED_MODEL', `head size ${config.headDim} × ${config.heads} heads ≠ hidden size ${config.hidden}`, { details: { ...config } })
  }
  const byName = new Map<string, GgufTensorInfo>(gguf.tensors.map((t) => [t.name, t]))
  const tensor = (name: string): GgufTensorInfo => {
    const t = byName.get(name)
    if (!t) throw new RagtuneError('GGUF_INVALID', `the GGUF has no tensor ${name}`, { details: { tensor: name } })
    return t
  }
  const matrix = (name: string, rows: number, cols: number): WeightMatrix => {
    const t = tensor(name)
    if (t.dims[0] !== cols || (t.dims[1] ?? 1) !== rows) {
      throw new RagtuneError('GGUF_INVALID', `tensor ${name} has dims [${t.dims.join(', ')}], expected [${cols}, ${rows}]`, { details: { tensor: name, dims: t.dims } })
    }
    if (t.type !== 'f32' && t.type !== 'f16' && t.type !== 'q8_0') {
      throw new RagtuneError('GGUF_UNSUPPORTED_TYPE', `tensor ${name} is ${t.type}; the CPU trainer reads f32, f16 and q8_0`, {
        details: { tensor: name, type: t.type },
        hint: 'use the F16 or Q8_0 GGUF of this model as the training base (llama-quantize model-f16.gguf model-q8_0.gguf Q8_0)',
      })
    }
    return new WeightMatrix(name, rows, cols, t.type, t.data)
  }
  const vector = (name: string, length: number): Float32Array => {
    const t = tensor(name)
    if (t.type !== 'f32' || t.dims[0] !== length) {
      throw new RagtuneError('GGUF_INVALID', `tensor ${name} should be ${length} f32 values, found ${t.type} [${t.dims.join(', ')}]`, { details: { tensor: name } })
    }
    return asFloat32(t.data)
  }
  const c = config
  const kv = c.kvHeads * c.headDim
  const shapes: Record<LinearName, [number, number]> = {
    attn_q: [c.hidden, c.hidden], attn_k: [kv, c.hidden], attn_v: [kv, c.hidden], attn_output: [c.hidden, c.hidden],
    ffn_gate: [c.ffn, c.hidden], ffn_up: [c.ffn, c.hidden], ffn_down: [c.hidden, c.ffn],
  }
  const blocks: LlamaBlockWeights[] = []
  for (let l = 0; l < c.layers; l++) {
    const linear = {} as Record<LinearName, WeightMatrix>
    for (const name of LINEAR_NAMES) linear[name] = matrix(`blk.${l}.${name}.weight`, ...shapes[name])
    blocks.push({ attnNorm: vector(`blk.${l}.attn_norm.weight`, c.hidden), ffnNorm: vector(`blk.${l}.ffn_norm.weight`, c.hidden), linear })
  }
  const tokenEmbedding = matrix('token_embd.weight', c.vocab, c.hidden)
  const output = c.tied ? tokenEmbedding : matrix('output.weight', c.vocab, c.hidden)
  const all = [tokenEmbedding, ...(c.tied ? [] : [output]), ...blocks.flatMap((b) => Object.values(b.linear))]
  return {
    config,
    tokenEmbedding,
    output,
    outputNorm: vector('output_norm.weight', c.hidden),
    blocks,
    maxMatrixValues: Math.max(...all.map((m) => m.rows * m.cols)),
    residentBytes: all.reduce((s, m) => s + m.byteLength, 0) + (2 * c.layers + 1) * c.hidden * 4,
  }
}
