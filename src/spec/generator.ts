/** One chat turn. Retrieved sources travel inside the user turn, never as their own role. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface GenerateOptions {
  /** Default 0.1 (the guide's setting for grounded answers). */
  temperature?: number
  /** Most new tokens; default 512. */
  maxTokens?: number
  /** JSON Schema the output must satisfy: grammar-constrained locally, validated (+1 repair) remotely. */
  jsonSchema?: Record<string, unknown>
  /** Seed for sampling, where the backend supports it. */
  seed?: number
  signal?: AbortSignal
  /** Called with each piece of text as it is produced (streaming). */
  onText?: (text: string) => void
}

export interface GenerateResult {
  text: string
  finishReason: 'stop' | 'length' | 'abort'
  usage: { promptTokens: number; completionTokens: number }
  timings: { firstTokenMs: number | null; totalMs: number }
  /** Provenance for the query log. */
  model: string
  adapter: string | null
  /** The exact prompt text the model saw, after its chat template, when the backend can tell. */
  renderedPrompt: string | null
  warnings: string[]
}

/**
 * A text generator: a local GGUF model through node-llama-cpp (with the active LoRA adapter) or any
 * OpenAI-compatible server. Providers stay thin; answer() adds prompting, logging and retries.
 */
export interface Generator {
  readonly id: string
  /** Active LoRA adapter id, or null for the base model. */
  readonly adapter: string | null
  doGenerate(messages: ChatMessage[], opts?: GenerateOptions): Promise<GenerateResult>
  dispose(): Promise<void>
}
