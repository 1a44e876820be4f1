import type { PreTrainedModel, Tensor } from '@huggingface/transformers'
import { AutoModelForSequenceClassification } from '@huggingface/transformers'
import { RagtuneError, throwIfAborted } from '../../errors.js'
import type { Reranker } from '../../spec/reranker.js'
import { TokenEncoder } from './token-encoding.js'
import type { TransformersLoadOptions } from './transformers-loader.js'
import { loadTransformers } from './transformers-loader.js'

/** How to load and run the reranker; every field but `model` and `offline` has a default. */
export interface TransformersRerankerOptions extends TransformersLoadOptions {
  /** (query, passage) pairs per forward pass (default 16): pairs are long, so batches stay small. */
  batchSize?: number
}

/**
 * A cross-encoder (ms-marco MiniLM, bge-reranker, the tiny generated one) through transformers.js.
 * It reads query and passage together, which is why it ranks better than comparing two vectors,
 * and why it only runs on the few fused candidates. Scores are raw logits: comparable within one
 * model, not probabilities.
 */
export class TransformersReranker implements Reranker {
  readonly id: string
  private readonly batchSize: number

  private constructor(
    options: TransformersRerankerOptions,
    private readonly model: PreTrainedModel,
    private readonly encoder: TokenEncoder,
  ) {
    this.id = options.model
    this.batchSize = options.batchSize ?? 16
  }

  /** Loads tokenizer and ONNX session; throws `MODEL_NOT_FOUND` with a fix when files are missing. */
  static async load(options: TransformersRerankerOptions): Promise<TransformersReranker> {
    if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1)) {
      throw new RagtuneError('INVALID_OPTIONS', `batchSize must be a positive integer, got ${options.batchSize}`)
    }
    const { tokenizer, model } = await loadTransformers('reranker', options, (source, o) =>
      AutoModelForSequenceClassification.from_pretrained(source, o),
    )
    const config = model.config as unknown as { max_position_embeddings?: number }
    return new TransformersReranker(options, model, new TokenEncoder(tokenizer, config.max_position_embeddings))
  }

  async doRerank(query: string, passages: string[], opts: { signal?: AbortSignal } = {}): Promise<number[]> {
    const scores: number[] = []
    for (let start = 0; start < passages.length; start += this.batchSize) {
      throwIfAborted(opts.signal)
      const batch = passages.slice(start, start + this.batchSize).map((p) => this.encoder.encodePair(query, p))
      const output = (await this.model(this.encoder.toTensors(batch))) as { logits?: Tensor }
      const logits = output.logits
      if (!logits) {
        throw new RagtuneError('UNSUPPORTED_MODEL', `reranker '${this.id}' has no logits output: it is not a cross-encoder`, {
          details: { model: this.id, outputs: Object.keys(output) },
          hint: 'use a sequence-classification ONNX export such as Xenova/ms-marco-MiniLM-L-6-v2',
        })
      }
      const [, width = 1] = logits.dims
      if (width > 2) {
        throw new RagtuneError('UNSUPPORTED_MODEL', `reranker '${this.id}' outputs ${width} logits; a cross-encoder has 1 (a score) or 2 (irrelevant, relevant)`, {
          details: { model: this.id, labels: width },
          hint: 'use a cross-encoder such as Xenova/ms-marco-MiniLM-L-6-v2 or a bge-reranker export',
        })
      }
      // One logit is the score; with two, the second (positive class) is.
      const index = width - 1
      const data = logits.data as Float32Array
      for (let row = 0; row < batch.length; row++) scores.push(data[row * width + index] as number)
    }
    throwIfAborted(opts.signal)
    return scores
  }

  async dispose(): Promise<void> {
    await this.model.dispose()
  }
}
