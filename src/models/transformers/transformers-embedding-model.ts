import type { PreTrainedModel, Tensor } from '@huggingface/transformers'
import { AutoModel } from '@huggingface/transformers'
import { RagtuneError, throwIfAborted } from '../../errors.js'
import type { EmbedKind, EmbeddingModel } from '../../spec/embedding-model.js'
import type { Pooling, PoolingConfig } from './sentence-transformers-config.js'
import { readSentenceTransformersConfig } from './sentence-transformers-config.js'
import type { EncodedInput } from './token-encoding.js'
import { TokenEncoder } from './token-encoding.js'
import type { TransformersLoadOptions } from './transformers-loader.js'
import { loadTransformers } from './transformers-loader.js'

/** The instruction bge models were trained with for short retrieval queries. */
export const BGE_QUERY_INSTRUCTION = 'Represent this sentence for searching relevant passages: '

/** How to load and run the embedder; every field but `model` and `offline` has a default. */
export interface TransformersEmbeddingOptions extends TransformersLoadOptions {
  /** Texts per forward pass (default 32): bounds memory, and padding waste within a batch. */
  batchSize?: number
  /** Prepended to queries only. Default: BGE_QUERY_INSTRUCTION for ids containing "bge", else none; null turns it off. */
  queryInstruction?: string | null
  /** Overrides the model folder's sentence-transformers pooling. Default when neither says: 'cls' for bge, else 'mean'. */
  pooling?: Pooling
  /** Overrides the folder's Normalize module. Default when neither says: true (cosine = dot product). */
  normalize?: boolean
}

/**
 * Embeddings from an ONNX BERT-family model through transformers.js: hub models (bge-small) and the
 * generated tiny models go through the same code. Tokenization, truncation and pooling follow the
 * model's own files so vectors match what sentence-transformers would produce.
 */
export class TransformersEmbeddingModel implements EmbeddingModel {
  readonly id: string
  readonly dimensions: number
  readonly maxInputTokens: number
  readonly pooling: Pooling
  readonly normalize: boolean
  readonly queryInstruction: string | null
  private readonly batchSize: number

  private constructor(
    options: TransformersEmbeddingOptions,
    private readonly model: PreTrainedModel,
    private readonly encoder: TokenEncoder,
    dimensions: number,
    pooling: PoolingConfig,
  ) {
    this.id = options.model
    this.dimensions = dimensions
    this.maxInputTokens = encoder.maxLength - encoder.singleOverhead
    this.pooling = pooling.pooling
    this.normalize = pooling.normalize
    const isBge = options.model.toLowerCase().includes('bge')
    this.queryInstruction = options.queryInstruction === undefined ? (isBge ? BGE_QUERY_INSTRUCTION : null) : options.queryInstruction
    this.batchSize = options.batchSize ?? 32
  }

  /** Loads tokenizer and ONNX session; throws `MODEL_NOT_FOUND` with a fix when files are missing. */
  static async load(options: TransformersEmbeddingOptions): Promise<TransformersEmbeddingModel> {
    if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1)) {
      throw new RagtuneError('INVALID_OPTIONS', `batchSize must be a positive integer, got ${options.batchSize}`)
    }
    const { tokenizer, model, localDir } = await loadTransformers('embedder', options, (source, o) => AutoModel.from_pretrained(source, o))
    try {
      const config = model.config as unknown as { hidden_size?: number; max_position_embeddings?: number }
      const pooling = await resolvePooling(options, localDir)
      const encoder = new TokenEncoder(tokenizer, config.max_position_embeddings)
      if (config.hidden_size !== undefined) return new TransformersEmbeddingModel(options, model, encoder, config.hidden_size, pooling)
      // config.json without hidden_size (DistilBERT says `dim`): ask the model itself.
      const probe = new TransformersEmbeddingModel(options, model, encoder, 0, pooling)
      const [vector] = await probe.doEmbed(['probe'], { kind: 'document' })
      return new TransformersEmbeddingModel(options, model, encoder, vector?.length ?? 0, pooling)
    } catch (error) {
      await model.dispose()
      throw error
    }
  }

  countTokens(text: string): number {
    return this.encoder.tokenize(text).length
  }

  async doEmbed(texts: string[], opts: { kind: EmbedKind; signal?: AbortSignal }): Promise<Float32Array[]> {
    const prefix = opts.kind === 'query' && this.queryInstruction ? this.queryInstruction : ''
    const vectors: Float32Array[] = []
    for (let start = 0; start < texts.length; start += this.batchSize) {
      throwIfAborted(opts.signal)
      const batch = texts.slice(start, start + this.batchSize).map((t) => this.encoder.encode(prefix + t))
      const output = (await this.model(this.encoder.toTensors(batch))) as { last_hidden_state?: Tensor }
      if (!output.last_hidden_state) {
        throw new RagtuneError('UNSUPPORTED_MODEL', `embedder '${this.id}' has no last_hidden_state output`, {
          details: { model: this.id, outputs: Object.keys(output) },
          hint: 'use a feature-extraction ONNX export (BertModel-style) of the model',
        })
      }
      vectors.push(...this.pool(output.last_hidden_state, batch))
    }
    throwIfAborted(opts.signal)
    return vectors
  }

  async dispose(): Promise<void> {
    await this.model.dispose()
  }

  private pool(hidden: Tensor, batch: readonly EncodedInput[]): Float32Array[] {
    const [, seqLen = 0, size = 0] = hidden.dims
    const data = hidden.data as Float32Array
    return batch.map((input, row) => {
      const vector = new Float32Array(size)
      const tokens = this.pooling === 'cls' ? 1 : input.ids.length
      for (let t = 0; t < tokens; t++) {
        const offset = (row * seqLen + t) * size
        for (let i = 0; i < size; i++) vector[i] = (vector[i] as number) + (data[offset + i] as number) / tokens
      }
      return this.normalize ? l2Normalize(vector) : vector
    })
  }
}

/** Explicit options win over the model folder's sentence-transformers files, which win over defaults. */
async function resolvePooling(options: TransformersEmbeddingOptions, localDir: string | undefined): Promise<PoolingConfig> {
  const stored = localDir ? await readSentenceTransformersConfig(localDir) : {}
  if (options.pooling === undefined && stored.unsupportedPooling) {
    throw new RagtuneError('UNSUPPORTED_MODEL', `${stored.unsupportedPooling} asks for a pooling mode ragtune does not implement (only CLS and mean)`, {
      details: { model: options.model, file: stored.unsupportedPooling },
      hint: "set the embedder's pooling option to 'cls' or 'mean' if you know which one the model needs",
    })
  }
  return {
    pooling: options.pooling ?? stored.pooling ?? (options.model.toLowerCase().includes('bge') ? 'cls' : 'mean'),
    normalize: options.normalize ?? stored.normalize ?? true,
  }
}

/** Unit length; an all-zero vector stays zero rather than becoming NaN. */
function l2Normalize(vector: Float32Array): Float32Array {
  let sum = 0
  for (const v of vector) sum += v * v
  const norm = Math.sqrt(sum)
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) / norm
  return vector
}
