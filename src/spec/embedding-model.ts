import type { TokenCounter } from './tokenizer.js'

export type EmbedKind = 'query' | 'document'

export interface EmbeddingModel extends TokenCounter {
  /** Model id as configured (hub id or local path); recorded as provenance. */
  readonly id: string
  readonly dimensions: number
  /**
   * One vector per text, L2-normalised when the model's config says so. Queries get the model's
   * query instruction (bge) prepended; documents never do.
   */
  doEmbed(texts: string[], opts: { kind: EmbedKind; signal?: AbortSignal }): Promise<Float32Array[]>
  /** Frees native sessions. */
  dispose(): Promise<void>
}
