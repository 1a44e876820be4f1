/** Counts tokens exactly as the embedding model will see them, so chunk sizes are true sizes. */
export interface TokenCounter {
  /** Number of tokens of `text`, without the model's special tokens ([CLS], [SEP]). */
  countTokens(text: string): number
  /** Most content tokens one input may hold (model max length minus special tokens). */
  readonly maxInputTokens: number
}
