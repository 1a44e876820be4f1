import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RagtuneError } from '../../src/errors.js'
import type { GgufContents } from '../../src/models/gguf/gguf-reader.js'
import { readGguf } from '../../src/models/gguf/gguf-reader.js'
import { HF_MODULE_OF } from '../../src/train/adapter-io/peft.js'
import { permuteRowsGgufToHf } from '../../src/train/adapter-io/rope-permute.js'
import type { SafetensorsTensor } from '../../src/train/adapter-io/safetensors.js'
import { writeSafetensors } from '../../src/train/adapter-io/safetensors.js'
import type { LlamaConfig, WeightMatrix } from '../../src/train/engine/llama-weights.js'
import { LINEAR_NAMES, llamaWeightsFrom } from '../../src/train/engine/llama-weights.js'

/**
 * Exports a Llama GGUF (f32, as ragtune's tiny models are) as the Hugging Face folder the GPU job
 * trains on: config.json, model.safetensors (q/k rows permuted back from llama.cpp's interleaved
 * rope layout to HF's rotate-half one, as the PEFT export does for LoRA B), tokenizer.json (byte-level
 * BPE with llama.cpp's qwen2 pre-tokenizer regex) and tokenizer_config.json with the ChatML template.
 * The reverse of what llama.cpp's convert_hf_to_gguf.py does for a Llama with a GPT-2-style vocabulary.
 */

/**
 * llama.cpp's `qwen2` pre-tokenizer (src/llama-vocab.cpp): Qwen2's tokenizer.json regex with the
 * `(?i:…)` group spelled out, which both the Rust tokenizers (Oniguruma) and transformers.js accept.
 */
export const QWEN2_SPLIT_REGEX =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/** llama.cpp token type of control tokens (tokenizer.ggml.token_type). */
const CONTROL = 3

function meta<T>(g: GgufContents, key: string, check: (v: unknown) => boolean, what: string): T {
  const v = g.metadata.get(key)
  if (!check(v)) throw new RagtuneError('GGUF_INVALID', `expected ${key} (${what}) in the base GGUF, got ${JSON.stringify(v)?.slice(0, 80)}`, { details: { key } })
  return v as T
}

const isNum = (v: unknown): boolean => typeof v === 'number'
const isStr = (v: unknown): boolean => typeof v === 'string'
const isStrArr = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string')

/** The tokenizer's special ids and strings, from the GGUF metadata. */
export interface SpecialTokens {
  bos: { id: number; content: string }
  eos: { id: number; content: string }
  pad: { id: number; content: string }
  /** Every control token (type 3): ChatML's <|endoftext|>, <|im_start|>, <|im_end|>. */
  control: Array<{ id: number; content: string }>
}

export function specialTokensOf(g: GgufContents): SpecialTokens {
  const tokens = meta<string[]>(g, 'tokenizer.ggml.tokens', isStrArr, 'token strings')
  const types = g.metadata.get('tokenizer.ggml.token_type') as ArrayLike<number> | undefined
  const at = (key: string): { id: number; content: string } => {
    const id = meta<number>(g, key, isNum, 'a token id')
    return { id, content: tokens[id] as string }
  }
  const control = types ? tokens.flatMap((content, id) => (types[id] === CONTROL ? [{ id, content }] : [])) : []
  return { bos: at('tokenizer.ggml.bos_token_id'), eos: at('tokenizer.ggml.eos_token_id'), pad: at('tokenizer.ggml.padding_token_id'), control }
}

/** config.json of a LlamaForCausalLM with the GGUF's hyperparameters (both the v4 rope_theta and v5 rope_parameters spelling). */
export function hfConfig(c: LlamaConfig, special: SpecialTokens): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: c.vocab,
    hidden_size: c.hidden,
    intermediate_size: c.ffn,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: c.kvHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    max_position_embeddings: c.contextLength,
    rms_norm_eps: c.eps,
    rope_theta: c.ropeBase,
    rope_scaling: null,
    rope_parameters: { rope_type: 'default', rope_theta: c.ropeBase },
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    pretraining_tp: 1,
    initializer_range: 0.02,
    tie_word_embeddings: c.tied,
    bos_token_id: special.bos.id,
    eos_token_id: special.eos.id,
    pad_token_id: special.pad.id,
    use_cache: true,
    torch_dtype: 'float32',
    dtype: 'float32',
  }
}

function f32Of(m: WeightMatrix): Float32Array {
  if (!m.f32) {
    throw new RagtuneError('UNSUPPORTED_MODEL', `tensor ${m.name} is ${m.type}; the HF export reads an f32 GGUF`, { hint: 'export the f32 GGUF of the model (tiny-llama-rag-f32.gguf)' })
  }
  return m.f32
}

/** HF tensor names → values, float32, row-major [out, in] as torch's nn.Linear keeps them. */
export function hfTensors(g: GgufContents): Map<string, SafetensorsTensor> {
  const w = llamaWeightsFrom(g)
  const c = w.config
  const out = new Map<string, SafetensorsTensor>()
  const put = (name: string, shape: number[], values: Float32Array): void => {
    out.set(name, { dtype: 'F32', shape, values })
  }
  put('model.embed_tokens.weight', [c.vocab, c.hidden], f32Of(w.tokenEmbedding))
  w.blocks.forEach((b, l) => {
    put(`model.layers.${l}.input_layernorm.weight`, [c.hidden], b.attnNorm)
    for (const name of LINEAR_NAMES) {
      const m = b.linear[name]
      let values = f32Of(m)
      // llama.cpp's converter permuted q/k rows for its interleaved ("NORM") rope; HF rotates halves.
      if (name === 'attn_q') values = permuteRowsGgufToHf(values, m.rows, m.cols, c.heads)
      if (name === 'attn_k') values = permuteRowsGgufToHf(values, m.rows, m.cols, c.kvHeads)
      put(`model.layers.${l}.${HF_MODULE_OF[name]}.weight`, [m.rows, m.cols], values)
    }
    put(`model.layers.${l}.post_attention_layernorm.weight`, [c.hidden], b.ffnNorm)
  })
  put('model.norm.weight', [c.hidden], w.outputNorm)
  if (!c.tied) put('lm_head.weight', [c.vocab, c.hidden], f32Of(w.output))
  return out
}

/** tokenizer.json (the `tokenizers` library's format) equivalent to the GGUF's gpt2/qwen2 tokenizer. */
export function hfTokenizerJson(g: GgufContents): Record<string, unknown> {
  const model = meta<string>(g, 'tokenizer.ggml.model', isStr, 'tokenizer model')
  const pre = g.metadata.get('tokenizer.ggml.pre')
  if (model !== 'gpt2' || pre !== 'qwen2') {
    throw new RagtuneError('UNSUPPORTED_MODEL', `the HF export knows the gpt2 tokenizer with the qwen2 pre-tokenizer; this GGUF has ${model}/${String(pre)}`)
  }
  const tokens = meta<string[]>(g, 'tokenizer.ggml.tokens', isStrArr, 'token strings')
  const merges = meta<string[]>(g, 'tokenizer.ggml.merges', isStrArr, 'BPE merges')
  const special = specialTokensOf(g)
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.control.map(({ id, content }) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    // llama.cpp applies no normalizer (Qwen2's own tokenizer.json has NFC; the texts here are ASCII anyway).
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Split', pattern: { Regex: QWEN2_SPLIT_REGEX }, behavior: 'Isolated', invert: false }, byteLevel],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(tokens.map((t, id) => [t, id])),
      merges,
    },
  }
}

/**
 * tokenizer_config.json. `tokenizer_class: PreTrainedTokenizerFast` on purpose: transformers 5 then
 * loads tokenizer.json as it is (TokenizersBackend); a model-specific class (LlamaTokenizer, the
 * default for model_type llama) would rebuild the pre-tokenizer as SentencePiece's Metaspace.
 */
export function hfTokenizerConfig(g: GgufContents, contextLength: number): Record<string, unknown> {
  const special = specialTokensOf(g)
  const template = meta<string>(g, 'tokenizer.chat_template', isStr, 'chat template')
  const addBos = g.metadata.get('tokenizer.ggml.add_bos_token') === true
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: addBos ? special.bos.content : null,
    eos_token: special.eos.content,
    pad_token: special.pad.content,
    unk_token: null,
    add_bos_token: addBos,
    add_eos_token: false,
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
    model_max_length: contextLength,
    chat_template: template,
    added_tokens_decoder: Object.fromEntries(special.control.map(({ id, content }) => [String(id), { content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }])),
  }
}

export interface HfExport {
  dir: string
  files: string[]
  config: LlamaConfig
  special: SpecialTokens
  chatTemplate: string
}

/** Writes the HF folder for a Llama GGUF (f32) into `dir`. */
export async function exportGgufAsHf(ggufPath: string, dir: string): Promise<HfExport> {
  const g = await readGguf(ggufPath)
  const { config } = llamaWeightsFrom(g)
  const special = specialTokensOf(g)
  const chatTemplate = meta<string>(g, 'tokenizer.chat_template', isStr, 'chat template')
  await mkdir(dir, { recursive: true })
  const json = async (name: string, value: unknown): Promise<string> => {
    await writeFile(join(dir, name), `${JSON.stringify(value, null, 2)}\n`)
    return name
  }
  const files = [
    await json('config.json', hfConfig(config, special)),
    await json('generation_config.json', { bos_token_id: special.bos.id, eos_token_id: special.eos.id, pad_token_id: special.pad.id }),
    await json('tokenizer.json', hfTokenizerJson(g)),
    await json('tokenizer_config.json', hfTokenizerConfig(g, config.contextLength)),
    await json('special_tokens_map.json', { eos_token: special.eos.content, pad_token: special.pad.content }),
  ]
  // transformers >= 4.43 also reads the template from this file (the form 5.x saves); same text as in tokenizer_config.json.
  await writeFile(join(dir, 'chat_template.jinja'), chatTemplate)
  files.push('chat_template.jinja')
  await writeSafetensors(join(dir, 'model.safetensors'), hfTensors(g), { format: 'pt' })
  files.push('model.safetensors')
  return { dir, files, config, special, chatTemplate }
}
