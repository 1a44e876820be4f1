import OpenAI from 'openai'
import type { ChatMessage, GenerateOptions, GenerateResult, Generator } from '../../spec/generator.js'
import { RagtuneError } from '../../errors.js'

export interface OpenAIGeneratorOptions {
  /** e.g. http://localhost:8000/v1 (vLLM), http://localhost:11434/v1 (Ollama), https://api.openai.com/v1. */
  baseURL: string
  apiKey?: string
  /** Base model name on the server. */
  model: string
  /** vLLM multi-LoRA: the adapter is served under its own model name; requests go to that name. */
  adapter?: string | null
  timeoutMs?: number
  maxRetries?: number
}

/**
 * Any OpenAI-compatible chat server through the official SDK. Always streams, so the first-token
 * time is measured the same way for streamed and plain answers.
 */
export class OpenAIGenerator implements Generator {
  readonly id: string
  readonly adapter: string | null
  private readonly client: OpenAI

  constructor(private readonly options: OpenAIGeneratorOptions) {
    this.id = options.model
    this.adapter = options.adapter ?? null
    this.client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey ?? process.env.OPENAI_API_KEY ?? 'not-needed',
      timeout: options.timeoutMs ?? 120_000,
      maxRetries: options.maxRetries ?? 2,
    })
  }

  async doGenerate(messages: ChatMessage[], opts: GenerateOptions = {}): Promise<GenerateResult> {
    const t0 = performance.now()
    let firstTokenMs: number | null = null
    let text = ''
    let finish: GenerateResult['finishReason'] = 'stop'
    let usage = { promptTokens: 0, completionTokens: 0 }
    try {
      const stream = await this.client.chat.completions.create(
        {
          model: this.adapter ?? this.options.model,
          messages,
          temperature: opts.temperature ?? 0.1,
          max_tokens: opts.maxTokens ?? 512,
          stream: true,
          stream_options: { include_usage: true },
          ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          ...(opts.jsonSchema ? { response_format: { type: 'json_schema' as const, json_schema: { name: 'answer', schema: opts.jsonSchema, strict: true } } } : {}),
        },
        { ...(opts.signal ? { signal: opts.signal } : {}) },
      )
      for await (const chunk of stream) {
        const choice = chunk.choices[0]
        const piece = choice?.delta?.content ?? ''
        if (piece) {
          firstTokenMs ??= performance.now() - t0
          text += piece
          opts.onText?.(piece)
        }
        if (choice?.finish_reason === 'length') finish = 'length'
        if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens }
      }
    } catch (err) {
      if (opts.signal?.aborted) finish = 'abort'
      else throw mapError(err, this.options)
    }
    return {
      text,
      finishReason: finish,
      usage,
      timings: { firstTokenMs, totalMs: performance.now() - t0 },
      model: this.options.model,
      adapter: this.adapter,
      renderedPrompt: null,
      warnings: usage.promptTokens === 0 && finish !== 'abort' ? ['the server reported no token usage'] : [],
    }
  }

  async dispose(): Promise<void> {}
}

function mapError(err: unknown, o: OpenAIGeneratorOptions): RagtuneError {
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? 0
    if (status === 401 || status === 403) return new RagtuneError('GENERATOR_AUTH', `${o.baseURL} refused the API key (HTTP ${status})`, { hint: 'set generator.apiKey or OPENAI_API_KEY', cause: err })
    if (status === 404) return new RagtuneError('GENERATOR_MODEL_NOT_FOUND', `${o.baseURL} has no model "${o.adapter ?? o.model}" (HTTP 404)`, { hint: 'check the model (or adapter) name served there: GET /v1/models', cause: err })
    if (err instanceof OpenAI.APIConnectionError) return new RagtuneError('GENERATOR_UNREACHABLE', `cannot reach ${o.baseURL}: ${err.message}`, { hint: 'is the server running, and is generator.baseURL right?', cause: err })
    return new RagtuneError('GENERATOR_FAILED', `${o.baseURL} answered HTTP ${status}: ${err.message}`, { cause: err })
  }
  return new RagtuneError('GENERATOR_FAILED', `generation failed: ${(err as Error)?.message ?? String(err)}`, { cause: err })
}
