import type { PreTrainedTokenizer } from '@huggingface/transformers'
import { Tensor } from '@huggingface/transformers'

/**
 * Tokenization with truncation that keeps the special tokens. transformers.js truncates by cutting
 * the id array, which drops the final [SEP]; sentence-transformers and the Python tokenizers
 * truncate the text tokens and then add the specials, and models were trained on that form.
 */

export interface EncodedInput {
  ids: number[]
  typeIds: number[]
}

/** The input tensors of a BERT-style ONNX model for one padded batch. */
export interface BatchTensors {
  input_ids: Tensor
  attention_mask: Tensor
  token_type_ids: Tensor
}

/** Wraps a loaded tokenizer with the model's length limit; shared by the embedder and the reranker. */
export class TokenEncoder {
  /** Most tokens one model input may hold, special tokens included. */
  readonly maxLength: number
  /** Special tokens the template adds around one text, and around a text pair. */
  readonly singleOverhead: number
  readonly pairOverhead: number
  private readonly unkId: number
  private readonly padId: number

  constructor(
    private readonly tokenizer: PreTrainedTokenizer,
    maxPositions: number | undefined,
  ) {
    const declared = Number(tokenizer.model_max_length)
    const limits = [declared, maxPositions ?? Infinity].filter((n) => Number.isFinite(n) && n > 0)
    // Tokenizers without a usable limit: BERT's 512 is the safe common value.
    this.maxLength = limits.length > 0 ? Math.min(...limits) : 512
    this.singleOverhead = this.applyTemplate([], null).ids.length
    this.pairOverhead = this.applyTemplate([], []).ids.length
    this.unkId = tokenizer.unk_token_id ?? 0
    this.padId = tokenizer.pad_token_id ?? 0
  }

  /** Text tokens without special tokens, exactly as the model's tokenizer splits them. */
  tokenize(text: string): string[] {
    return this.tokenizer.tokenize(text)
  }

  /** One text, truncated to fit with its special tokens. */
  encode(text: string): EncodedInput {
    return this.applyTemplate(this.tokenize(text).slice(0, Math.max(0, this.maxLength - this.singleOverhead)), null)
  }

  /**
   * A (query, passage) pair for a cross-encoder, truncated "longest first" like the Python
   * tokenizers: one token at a time from the longer side, so a long passage cannot crowd out the query.
   */
  encodePair(text: string, pair: string): EncodedInput {
    const a = this.tokenize(text)
    const b = this.tokenize(pair)
    const budget = Math.max(0, this.maxLength - this.pairOverhead)
    while (a.length + b.length > budget) {
      if (a.length > b.length) a.pop()
      else b.pop()
    }
    return this.applyTemplate(a, b)
  }

  /** Pads a batch on the right; padded positions get attention 0. */
  toTensors(inputs: readonly EncodedInput[]): BatchTensors {
    const length = Math.max(...inputs.map((x) => x.ids.length))
    const ids = new BigInt64Array(inputs.length * length).fill(BigInt(this.padId))
    const mask = new BigInt64Array(inputs.length * length)
    const types = new BigInt64Array(inputs.length * length)
    inputs.forEach((input, row) => {
      input.ids.forEach((id, col) => {
        ids[row * length + col] = BigInt(id)
        mask[row * length + col] = 1n
        types[row * length + col] = BigInt(input.typeIds[col] ?? 0)
      })
    })
    const dims = [inputs.length, length]
    return {
      input_ids: new Tensor('int64', ids, dims),
      attention_mask: new Tensor('int64', mask, dims),
      token_type_ids: new Tensor('int64', types, dims),
    }
  }

  /** Adds special tokens with the tokenizer's own post-processor (template), then maps to ids. */
  private applyTemplate(tokens: string[], pair: string[] | null): EncodedInput {
    const processor = this.tokenizer._tokenizer.post_processor
    let out: { tokens: string[]; token_type_ids?: number[] }
    if (processor) {
      out = processor.post_process(tokens, pair, true)
    } else {
      out = { tokens: [...tokens, ...(pair ?? [])], token_type_ids: [...tokens.map(() => 0), ...(pair ?? []).map(() => 1)] }
    }
    return {
      ids: out.tokens.map((t) => this.tokenizer._tokenizer.token_to_id(t) ?? this.unkId),
      typeIds: out.token_type_ids ?? out.tokens.map(() => 0),
    }
  }
}
