import { setTimeout as sleep } from 'node:timers/promises'
import { RagtuneError, throwIfAborted } from '../../errors.js'
import type { EmbedKind, EmbeddingModel } from '../../spec/embedding-model.js'
import type { TokenCounter } from '../../spec/tokenizer.js'
import { BGE_QUERY_INSTRUCTION } from '../transformers/transformers-embedding-model.js'

export interface OpenAIEmbeddingOptions {
  /** e.g. http://localhost:8080/v1; `/embeddings` is appended. */
  baseURL: string
  /** Model name on the server. */
  model: string
  apiKey?: string
  /** Texts per request (default 32): bounds request size and the server's batch memory. */
  batchSize?: number
  /** Retries of one request on 429, 5xx and connection errors (default 3). */
  maxRetries?: number
  timeoutMs?: number
  /** Counts chunk tokens in the served model's own tokenizer; default: an estimate (ESTIMATED_CHARS_PER_TOKEN). */
  tokenCounter?: TokenCounter
  /** Most tokens per input for the estimate (default 512); ignored when `tokenCounter` is given. */
  maxInputTokens?: number
  /** Prepended to queries only. Default: the bge instruction for model names containing "bge", else none. */
  queryInstruction?: string | null
}

/**
 * Characters per token of the estimate: low on purpose (English runs ~4 with WordPiece or BPE), so
 * chunks sized with it stay under the server's limit instead of being cut or refused there.
 */
export const ESTIMATED_CHARS_PER_TOKEN = 3

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504])

interface EmbeddingResponse {
  data?: Array<{ index?: number; embedding?: unknown }>
}

/**
 * Embeddings from any OpenAI-compatible `/v1/embeddings` server (TEI, vLLM, Ollama, OpenAI), so a
 * team's GPU embedding service replaces the in-process ONNX model. Requests are batched, retried
 * with backoff on transient failures, and answered vectors are checked (count, order, width).
 */
export class OpenAIEmbeddingModel implements EmbeddingModel {
  readonly id: string
  readonly maxInputTokens: number
  readonly queryInstruction: string | null
  private readonly url: string
  private readonly counter: TokenCounter | null

  private constructor(
    private readonly options: OpenAIEmbeddingOptions,
    readonly dimensions: number,
  ) {
    this.id = options.model
    this.url = `${options.baseURL.replace(/\/+$/, '')}/embeddings`
    this.counter = options.tokenCounter ?? null
    this.maxInputTokens = this.counter?.maxInputTokens ?? options.maxInputTokens ?? 512
    this.queryInstruction = options.queryInstruction === undefined ? (options.model.toLowerCase().includes('bge') ? BGE_QUERY_INSTRUCTION : null) : options.queryInstruction
  }

  /** Asks the server once, so the vector width is known (and the server proven reachable) before indexing starts. */
  static async load(options: OpenAIEmbeddingOptions & { signal?: AbortSignal }): Promise<OpenAIEmbeddingModel> {
    const batchSize = options.batchSize ?? 32
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RagtuneError('INVALID_OPTIONS', `batchSize must be a positive integer, got ${batchSize}`)
    const probe = new OpenAIEmbeddingModel(options, 0)
    const [vector] = await probe.request(['dimension probe'], options.signal)
    return new OpenAIEmbeddingModel(options, vector!.length)
  }

  countTokens(text: string): number {
    return this.counter ? this.counter.countTokens(text) : Math.ceil(text.length / ESTIMATED_CHARS_PER_TOKEN)
  }

  async doEmbed(texts: string[], opts: { kind: EmbedKind; signal?: AbortSignal }): Promise<Float32Array[]> {
    const prefix = opts.kind === 'query' && this.queryInstruction ? this.queryInstruction : ''
    const size = this.options.batchSize ?? 32
    const out: Float32Array[] = []
    for (let i = 0; i < texts.length; i += size) {
      throwIfAborted(opts.signal)
      out.push(...(await this.request(texts.slice(i, i + size).map((t) => prefix + t), opts.signal)))
    }
    return out
  }

  async dispose(): Promise<void> {}

  /** One batch, retried on transient failures; throws a RagtuneError naming the server and the fix. */
  private async request(input: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    const retries = this.options.maxRetries ?? 3
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal)
      let res: Response
      try {
        res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
          body: JSON.stringify({ model: this.options.model, input, encoding_format: 'float' }),
          signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs ?? 60_000)]) : AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
        })
      } catch (err) {
        throwIfAborted(signal)
        if (attempt < retries) {
          await backoff(attempt, null, signal)
          continue
        }
        throw new RagtuneError('EMBEDDER_UNREACHABLE', `cannot reach the embeddings server ${this.url} after ${attempt + 1} tries: ${(err as Error).message}`, {
          details: { url: this.url },
          hint: 'is the server running, and is models.embedder.openai.baseURL right (it ends in /v1)?',
          cause: err,
        })
      }
      if (res.ok) return this.parse(await res.json().catch(() => null), input.length)
      const body = (await res.text().catch(() => '')).slice(0, 300)
      if (RETRY_STATUS.has(res.status) && attempt < retries) {
        await backoff(attempt, res.headers.get('retry-after'), signal)
        continue
      }
      throw this.httpError(res.status, body)
    }
  }

  private parse(json: unknown, expected: number): Float32Array[] {
    const data = (json as EmbeddingResponse | null)?.data
    if (!Array.isArray(data) || data.length !== expected) {
      throw new RagtuneError('EMBEDDER_BAD_RESPONSE', `expected ${expected} embeddings from ${this.url}, got ${Array.isArray(data) ? data.length : 'no data array'}`, {
        details: { url: this.url },
        hint: 'the server must answer the OpenAI embeddings shape: {"data": [{"index", "embedding": [numbers]}]}',
      })
    }
    const ordered = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
    return ordered.map((d, i) => {
      const e = d.embedding
      const width = this.dimensions || (Array.isArray(e) ? e.length : 0)
      if (!Array.isArray(e) || e.length === 0 || e.length !== width || !e.every((x) => typeof x === 'number')) {
        throw new RagtuneError('EMBEDDER_BAD_RESPONSE', `expected embedding ${i} from ${this.url} to be ${width || 'a non-empty list of'} numbers, got ${Array.isArray(e) ? `${e.length} items` : typeof e}`, {
          details: { url: this.url, index: i },
          hint: 'request floats (encoding_format "float"), and keep one model per index: a different width means a different model',
        })
      }
      return Float32Array.from(e as number[])
    })
  }

  private httpError(status: number, body: string): RagtuneError {
    const where = `${this.url} answered HTTP ${status}${body ? `: ${body}` : ''}`
    if (status === 401 || status === 403) return new RagtuneError('EMBEDDER_AUTH', where, { details: { status }, hint: 'set the environment variable named by models.embedder.openai.apiKeyEnv to a valid key' })
    if (status === 404) return new RagtuneError('EMBEDDER_MODEL_NOT_FOUND', `${where} (model "${this.options.model}")`, { details: { status }, hint: 'check models.embedder.model against the names the server lists at GET /v1/models, and that baseURL ends in /v1' })
    if (status === 400 || status === 413 || status === 422) {
      return new RagtuneError('EMBEDDER_REJECTED', where, { details: { status }, hint: 'inputs may be longer than the model takes: lower models.embedder.openai.maxInputTokens or set its tokenizer, or models.embedder.batchSize' })
    }
    return new RagtuneError('EMBEDDER_FAILED', where, { details: { status }, hint: 'see the embeddings server\'s log' })
  }
}

/** Exponential backoff from 0.5 s (capped at 8 s), or the server's Retry-After when it gives seconds. */
async function backoff(attempt: number, retryAfter: string | null, signal: AbortSignal | undefined): Promise<void> {
  const told = retryAfter !== null && /^\d+(\.\d+)?$/.test(retryAfter) ? Number(retryAfter) * 1000 : null
  const ms = Math.min(told ?? 500 * 2 ** attempt, 30_000)
  await sleep(ms, undefined, signal ? { signal } : {}).catch(() => throwIfAborted(signal))
}
