import type { PreTrainedModel } from '@huggingface/transformers'
import { RagtuneError } from '../../errors.js'
import type { TokenCounter } from '../../spec/tokenizer.js'
import { TokenEncoder } from '../transformers/token-encoding.js'
import { loadTransformers } from '../transformers/transformers-loader.js'
import type { OpenAIEmbedderConfig } from './openai-embedding-config.js'
import { OpenAIEmbeddingModel } from './openai-embedding-model.js'

export interface LoadOpenAIEmbedderOptions {
  model: string
  batchSize: number
  queryInstruction?: string | null
  config: OpenAIEmbedderConfig
  /** The tokenizer (a hub id) is never downloaded when set. */
  offline: boolean
  cacheDir?: string
  signal?: AbortSignal
}

/**
 * The `openai` embedder of the config: the key read from the environment variable the config names,
 * and chunk tokens counted by the served model's tokenizer when one is configured.
 */
export async function loadOpenAIEmbedder(opts: LoadOpenAIEmbedderOptions): Promise<OpenAIEmbeddingModel> {
  const { config } = opts
  if (!config.baseURL) {
    throw new RagtuneError('CONFIG_INVALID', 'models.embedder.provider "openai" needs models.embedder.openai.baseURL', {
      hint: 'set models.embedder.openai.baseURL, e.g. http://localhost:8080/v1 (TEI) or https://api.openai.com/v1',
    })
  }
  const apiKey = process.env[config.apiKeyEnv]
  const tokenCounter = config.tokenizer ? await loadTokenCounter(config.tokenizer, opts) : undefined
  return OpenAIEmbeddingModel.load({
    baseURL: config.baseURL,
    model: opts.model,
    batchSize: opts.batchSize,
    maxRetries: config.maxRetries,
    timeoutMs: config.timeoutMs,
    maxInputTokens: config.maxInputTokens,
    ...(apiKey ? { apiKey } : {}),
    ...(tokenCounter ? { tokenCounter } : {}),
    ...(opts.queryInstruction !== undefined ? { queryInstruction: opts.queryInstruction } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  })
}

/**
 * A tokenizer.json through the same loader as the local models (offline rules, cache, clear
 * errors). Only the tokenizer is needed, so the model step loads nothing.
 */
async function loadTokenCounter(tokenizer: string, opts: LoadOpenAIEmbedderOptions): Promise<TokenCounter> {
  const loaded = await loadTransformers('embedder', { model: tokenizer, offline: opts.offline, ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}) }, async () => null as unknown as PreTrainedModel)
  const encoder = new TokenEncoder(loaded.tokenizer, opts.config.maxInputTokens)
  return { countTokens: (text) => encoder.tokenize(text).length, maxInputTokens: encoder.maxLength - encoder.singleOverhead }
}
