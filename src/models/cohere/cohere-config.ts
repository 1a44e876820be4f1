import { z } from 'zod'

/** The guide's reranker: Cohere's English v3 model. */
export const DEFAULT_COHERE_RERANKER = 'rerank-english-v3.0'

/**
 * `models.reranker.cohere`: settings used when `models.reranker.provider` is `cohere`. The model is
 * `models.reranker.model` (left at the local default, it becomes rerank-english-v3.0).
 */
export const cohereRerankerSchema = z.strictObject({
  /** Environment variable holding the API key (the Cohere SDK's own name by default). */
  apiKeyEnv: z.string().min(1).default('CO_API_KEY'),
  /** Default https://api.cohere.com; a proxy or a private deployment elsewhere. */
  baseURL: z.string().min(1).optional(),
  /** Results Cohere returns per query: the guide keeps the top 4 (retrieval.topK). */
  topN: z.number().int().positive().default(4),
})

export type CohereRerankerConfig = z.output<typeof cohereRerankerSchema>
