import { z } from 'zod'

/**
 * `models.embedder.openai`: an OpenAI-compatible embeddings server (TEI, vLLM, Ollama, OpenAI).
 * The model name is `models.embedder.model`, the batch size `models.embedder.batchSize`.
 */
export const openaiEmbedderSchema = z.strictObject({
  /** e.g. http://localhost:8080/v1 (TEI), http://localhost:11434/v1 (Ollama), https://api.openai.com/v1. */
  baseURL: z.string().url().optional(),
  /** Environment variable holding the API key (keys never go in the config file); unset is fine for local servers. */
  apiKeyEnv: z.string().min(1).default('OPENAI_API_KEY'),
  /** Retries of a batch on 429, 5xx and connection errors, with exponential backoff (Retry-After honoured). */
  maxRetries: z.number().int().min(0).default(3),
  timeoutMs: z.number().int().positive().default(60_000),
  /**
   * A tokenizer.json folder or hub id matching the served model, so chunks are counted in its own
   * tokens; without it tokens are estimated (4 characters each) and chunks stay well under maxInputTokens.
   */
  tokenizer: z.string().optional(),
  /** Most tokens the served model takes per input (512 for BERT-style models such as bge). */
  maxInputTokens: z.number().int().positive().default(512),
})

export type OpenAIEmbedderConfig = z.output<typeof openaiEmbedderSchema>
