import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { endianness } from 'node:os'
import { dirname, join } from 'node:path'
import { RagtuneError } from '../../errors.js'
import { buildBertGraph } from './bert-graph.js'
import type { BertShape, WeightScheme } from './bert-weights.js'
import { bagOfWordsBertWeights, randomBertWeights } from './bert-weights.js'
import { encodeOnnxModel } from './onnx-proto.js'
import { buildTokenizerFiles } from './tokenizer-files.js'
import type { VocabOption } from './wordpiece-vocab.js'
import { SPECIAL_TOKENS, buildVocab } from './wordpiece-vocab.js'

/**
 * Generates BERT-style model folders (config, WordPiece tokenizer, ONNX graph) that transformers.js
 * loads from a local path exactly like a hub model. This machine has no network and no pretrained
 * weights, so tests, the offline demo and the speed benchmarks run on these. Never report quality
 * numbers from them.
 */

export type { ModelKind, WeightScheme } from './bert-weights.js'
export type { VocabOption } from './wordpiece-vocab.js'

/** Shape and weights of a generated model; defaults in `resolveTinyModelOptions`. */
export interface TinyModelOptions extends Omit<BertShape, 'vocabSize' | 'typeVocabSize'> {
  vocab: VocabOption
  seed: number
  /** `bag-of-words` (encoder default) makes cosine similarity track shared words; `random` suits speed tests. */
  weights: WeightScheme
}

/** Small enough to generate in milliseconds and run in tests; same architecture as bge-small. */
export const TINY_SHAPE = { hiddenSize: 64, layers: 2, heads: 4, intermediateSize: 128, maxPositions: 512, vocab: 'tiny' } as const

/** The exact tensor shapes of bge-small-en-v1.5, with random weights: for speed benchmarks only. */
export const BGE_SMALL_SHAPE = {
  hiddenSize: 384,
  layers: 12,
  heads: 12,
  intermediateSize: 1536,
  maxPositions: 512,
  vocab: { size: 30522 },
  weights: 'random',
} as const satisfies Partial<TinyModelOptions>

export interface TinyModelFile {
  /** Path relative to the model folder, with `/` separators. */
  path: string
  /** Contents as chunks, written in order (the ONNX file is not concatenated in memory). */
  chunks: Uint8Array[]
}

/** What was generated, for logs and provenance. */
export interface TinyModelInfo {
  dir: string
  options: TinyModelOptions
  files: string[]
  bytes: number
  /** Hash over every file's path and contents: equal options give equal hashes. */
  sha256: string
}

/** Fills defaults (tiny shape, seed 42, bag-of-words for encoders) and rejects impossible shapes early. */
export function resolveTinyModelOptions(options: Partial<TinyModelOptions> = {}): TinyModelOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<TinyModelOptions>
  const kind = given.kind ?? 'encoder'
  const resolved: TinyModelOptions = {
    ...TINY_SHAPE,
    seed: 42,
    weights: kind === 'encoder' ? 'bag-of-words' : 'random',
    ...given,
    kind,
  }
  for (const key of ['hiddenSize', 'layers', 'heads', 'intermediateSize', 'maxPositions'] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1) {
      throw new RagtuneError('INVALID_OPTIONS', `tiny model option ${key} must be a positive integer, got ${resolved[key]}`, {
        details: { [key]: resolved[key] },
      })
    }
  }
  if (resolved.hiddenSize % resolved.heads !== 0) {
    throw new RagtuneError('INVALID_OPTIONS', `hiddenSize (${resolved.hiddenSize}) must be a multiple of heads (${resolved.heads})`, {
      details: { hiddenSize: resolved.hiddenSize, heads: resolved.heads },
      hint: 'pick heads that divide hiddenSize, e.g. hiddenSize 64 with 4 heads',
    })
  }
  return resolved
}

const json = (value: unknown): Uint8Array[] => [new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`)]

/** Builds every file of the model folder in memory; pure and deterministic. */
export function buildTinyModelFiles(options: Partial<TinyModelOptions> = {}): TinyModelFile[] {
  if (endianness() !== 'LE') {
    throw new RagtuneError('UNSUPPORTED_PLATFORM', 'tiny model generation writes ONNX raw_data from typed arrays and needs a little-endian CPU')
  }
  const o = resolveTinyModelOptions(options)
  const vocab = buildVocab(o.vocab)
  const shape: BertShape = { ...o, vocabSize: vocab.length, typeVocabSize: 2 }
  const zeroIds = [SPECIAL_TOKENS.pad, SPECIAL_TOKENS.cls, SPECIAL_TOKENS.sep, SPECIAL_TOKENS.mask].map((t) => vocab.indexOf(t))
  const weights = o.weights === 'bag-of-words' ? bagOfWordsBertWeights(shape, o.seed, zeroIds) : randomBertWeights(shape, o.seed)
  const onnx = encodeOnnxModel({
    graph: buildBertGraph(shape, weights),
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'ragtune-tiny',
    producerVersion: '1',
  })
  const tokenizer = buildTokenizerFiles(vocab, o.maxPositions)
  const files: TinyModelFile[] = [
    { path: 'config.json', chunks: json(modelConfig(o, shape)) },
    { path: 'tokenizer.json', chunks: json(tokenizer['tokenizer.json']) },
    { path: 'tokenizer_config.json', chunks: json(tokenizer['tokenizer_config.json']) },
    { path: 'special_tokens_map.json', chunks: json(tokenizer['special_tokens_map.json']) },
    { path: 'onnx/model.onnx', chunks: onnx },
    { path: 'README.md', chunks: [new TextEncoder().encode(readme(o))] },
  ]
  if (o.kind === 'encoder') files.push(...sentenceTransformersFiles(o))
  return files
}

function modelConfig(o: TinyModelOptions, shape: BertShape): Record<string, unknown> {
  return {
    architectures: [o.kind === 'encoder' ? 'BertModel' : 'BertForSequenceClassification'],
    attention_probs_dropout_prob: 0.1,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: o.hiddenSize,
    initializer_range: 0.02,
    intermediate_size: o.intermediateSize,
    layer_norm_eps: 1e-12,
    max_position_embeddings: o.maxPositions,
    model_type: 'bert',
    num_attention_heads: o.heads,
    num_hidden_layers: o.layers,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    type_vocab_size: shape.typeVocabSize,
    vocab_size: shape.vocabSize,
    ...(o.kind === 'cross-encoder' ? { id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 } } : {}),
    ragtune_tiny: o,
  }
}

/** CLS pooling + Normalize, as bge ships them, so the embedder reads its pooling from these files. */
function sentenceTransformersFiles(o: TinyModelOptions): TinyModelFile[] {
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
  ]
  const pooling = {
    word_embedding_dimension: o.hiddenSize,
    pooling_mode_cls_token: true,
    pooling_mode_mean_tokens: false,
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
  }
  return [
    { path: 'modules.json', chunks: json(modules) },
    { path: '1_Pooling/config.json', chunks: json(pooling) },
    { path: 'sentence_bert_config.json', chunks: json({ max_seq_length: o.maxPositions, do_lower_case: true }) },
  ]
}

function readme(o: TinyModelOptions): string {
  return [
    `# ragtune tiny ${o.kind}`,
    '',
    'Generated by ragtune (src/models/tiny) for offline tests and speed benchmarks.',
    `Weights are ${o.weights === 'random' ? 'random' : 'constructed (bag-of-words), not trained'}: say nothing about quality.`,
    '',
  ].join('\n')
}

/** SHA-256 over each file's path and bytes, in the given order. */
export function hashTinyModelFiles(files: readonly TinyModelFile[]): string {
  const hash = createHash('sha256')
  for (const file of files) {
    hash.update(`${file.path}\0`)
    for (const chunk of file.chunks) hash.update(chunk)
  }
  return hash.digest('hex')
}

/** Writes the files under `dir` (created if needed), chunk by chunk; returns the bytes written. */
export async function writeTinyModelFiles(dir: string, files: readonly TinyModelFile[]): Promise<number> {
  let bytes = 0
  for (const file of files) {
    const target = join(dir, ...file.path.split('/'))
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, file.chunks)
    bytes += file.chunks.reduce((n, c) => n + c.byteLength, 0)
  }
  return bytes
}

/** Generates one model folder at `dir`; same options give byte-identical files. */
export async function generateTinyModel(dir: string, options: Partial<TinyModelOptions> = {}): Promise<TinyModelInfo> {
  const files = buildTinyModelFiles(options)
  const bytes = await writeTinyModelFiles(dir, files)
  return { dir, options: resolveTinyModelOptions(options), files: files.map((f) => f.path), bytes, sha256: hashTinyModelFiles(files) }
}
