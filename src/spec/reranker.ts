export interface Reranker {
  readonly id: string
  /** Relevance score of each passage for the query, aligned with `passages`; higher is better. */
  doRerank(query: string, passages: string[], opts?: { signal?: AbortSignal }): Promise<number[]>
  dispose(): Promise<void>
}
