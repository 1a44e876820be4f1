import { availableParallelism } from 'node:os'
import { stat } from 'node:fs/promises'
import type { ChatWrapper, LlamaContext, LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp'
import { LlamaCompletion } from 'node-llama-cpp'
import { RagtuneError, throwIfAborted } from '../../errors.js'
import type { ChatMessage, GenerateOptions, GenerateResult, Generator } from '../../spec/generator.js'
import { checkAdapterFits } from './adapter-check.js'
import { chatWrapperFor, renderChat } from './chat-prompt.js'
import { jsonSchemaGrammar } from './json-grammar.js'
import type { LlamaGpuSetting } from './llama-runtime.js'
import { fileId, llamaRuntime } from './llama-runtime.js'

export interface LlamaAdapterOptions {
  /** A GGUF LoRA adapter trained on this base model. */
  path: string
  /** Multiplies the adapter's effect; default 1. */
  scale?: number
  /** Id for the query log (e.g. the registry's version); default `<file name>@<sha256 prefix>`. */
  id?: string
}

export interface LlamaCppGeneratorOptions {
  /** A GGUF model file. */
  modelPath: string
  adapter?: LlamaAdapterOptions | null
  /**
   * CPU threads. Default: 1 for models under 64 MB (on matmuls that small, waking threads costs more
   * than it saves, and on a busy machine much more), else one per core (os.availableParallelism()).
   */
  threads?: number
  /** Tokens of context (prompt + answer); default min(4096, the model's training context). */
  contextSize?: number
  /** Default false: CPU only, the same on every machine. */
  gpu?: LlamaGpuSetting
}

/** One context and one sequence per generator; calls queue up (see `doGenerate`). */
interface Backend {
  model: LlamaModel
  context: LlamaContext
  sequence: LlamaContextSequence
  wrapper: ChatWrapper
}

/** Below this size one thread is fastest: the tiny test models decode ~90x faster than on 2 threads of a busy 2-core box. */
const SMALL_MODEL_BYTES = 64 * 1024 * 1024

const FINISH: Record<string, GenerateResult['finishReason']> = {
  eogToken: 'stop', stopGenerationTrigger: 'stop', customStopTrigger: 'stop', maxTokens: 'length', abort: 'abort',
}

/**
 * A local GGUF model (plus an optional LoRA adapter) through node-llama-cpp's prebuilt llama.cpp
 * binaries. Calls are serialized on one context sequence: on a few CPU cores parallel sequences
 * would only split the same cores, and one sequence keeps memory at one KV cache. Every call starts
 * from an empty sequence, so an answer never depends on the previous question.
 */
export class LlamaCppGenerator implements Generator {
  private queue: Promise<unknown> = Promise.resolve()
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>()
  private disposed = false

  private constructor(
    readonly id: string,
    readonly adapter: string | null,
    private readonly backend: Backend,
  ) {}

  /**
   * Loads the model, checks and applies the adapter. Throws `MODEL_NOT_FOUND`, `ADAPTER_NOT_FOUND`,
   * `ADAPTER_MISMATCH` (adapter made for another base) or `MODEL_LOAD_FAILED`, each with a fix.
   */
  static async load(options: LlamaCppGeneratorOptions): Promise<LlamaCppGenerator> {
    const { modelPath, adapter = null, gpu = false } = options
    if (!(await isFile(modelPath))) {
      throw new RagtuneError('MODEL_NOT_FOUND', `generator model ${modelPath} not found: expected a GGUF file there`, {
        details: { modelPath },
        hint: 'set generator.model to a GGUF file (e.g. qwen2.5-0.5b-instruct-q8_0.gguf), or to "tiny" for the generated test model',
      })
    }
    if (adapter && !(await isFile(adapter.path))) {
      throw new RagtuneError('ADAPTER_NOT_FOUND', `LoRA adapter ${adapter.path} not found`, {
        details: { adapterPath: adapter.path },
        hint: 'check the adapter path (or the registry entry pointing to it), or run without an adapter',
      })
    }
    if (adapter?.scale !== undefined && !Number.isFinite(adapter.scale)) {
      throw new RagtuneError('INVALID_OPTIONS', `adapter scale must be a finite number, got ${adapter.scale}`, { details: { scale: adapter.scale } })
    }
    const llama = await llamaRuntime(gpu)
    // Hashing a multi-GB file takes seconds: overlap it with loading (which reads the same pages).
    const ids = Promise.all([fileId(modelPath), adapter ? (adapter.id ?? fileId(adapter.path)) : null])
    ids.catch(() => undefined)
    let model: LlamaModel
    try {
      model = await llama.loadModel({ modelPath, gpuLayers: gpu === false ? 0 : 'auto' })
    } catch (error) {
      throw new RagtuneError('MODEL_LOAD_FAILED', `could not load GGUF model ${modelPath}: ${String(error)}`, {
        details: { modelPath },
        hint: 'check that the file is a complete GGUF model of an architecture this llama.cpp build supports',
        cause: error,
      })
    }
    try {
      if (adapter) await checkAdapterFits(model.fileInfo, modelPath, adapter.path)
      const [id, adapterId] = await ids
      const context = await model
        .createContext({
          contextSize: options.contextSize ?? Math.min(4096, model.trainContextSize),
          sequences: 1,
          // node-llama-cpp's own default (its maxThreads: 4 on a 2-core box) oversubscribes the cores and
          // decodes ~170x slower (bench/serve); one thread per core is the default instead.
          threads: options.threads ?? (model.size < SMALL_MODEL_BYTES ? 1 : Math.max(1, availableParallelism())),
          ...(adapter ? { lora: { adapters: [{ filePath: adapter.path, scale: adapter.scale ?? 1 }] } } : {}),
        })
        .catch((error: unknown) => {
          throw new RagtuneError('MODEL_LOAD_FAILED', `could not create a context for ${modelPath}${adapter ? ` with adapter ${adapter.path}` : ''}: ${String(error)}`, {
            details: { modelPath, adapterPath: adapter?.path, contextSize: options.contextSize },
            hint: 'lower contextSize, or check the adapter file',
            cause: error,
          })
        })
      return new LlamaCppGenerator(id, adapterId, { model, context, sequence: context.getSequence(), wrapper: chatWrapperFor(model) })
    } catch (error) {
      await model.dispose()
      throw error
    }
  }

  /** Tokens of context this generator has room for (prompt and answer together). */
  get contextSize(): number {
    return this.backend.context.contextSize
  }

  /**
   * Renders the chat with the model's template and generates. Greedy when temperature is 0;
   * otherwise seeded (default seed 0), so the same prompt gives the same answer. No repeat penalty,
   * as on OpenAI-compatible servers. An abort before generation starts throws `ABORTED`; one during
   * generation returns the text so far with finishReason 'abort'.
   */
  async doGenerate(messages: ChatMessage[], opts: GenerateOptions = {}): Promise<GenerateResult> {
    const started = performance.now()
    throwIfAborted(opts.signal)
    const run = this.queue.then(() => this.generate(messages, opts, started))
    this.queue = run.catch(() => undefined)
    return run
  }

  private async generate(messages: ChatMessage[], opts: GenerateOptions, started: number): Promise<GenerateResult> {
    if (this.disposed) throw new RagtuneError('GENERATOR_DISPOSED', 'this generator was disposed', { hint: 'load a new LlamaCppGenerator' })
    throwIfAborted(opts.signal)
    const { model, sequence, wrapper } = this.backend
    const temperature = opts.temperature ?? 0.1
    const maxTokens = opts.maxTokens ?? 512
    if (!(temperature >= 0) || !Number.isInteger(maxTokens) || maxTokens < 1) {
      throw new RagtuneError('INVALID_OPTIONS', `temperature must be >= 0 and maxTokens a positive integer, got ${temperature} and ${maxTokens}`, {
        details: { temperature, maxTokens },
      })
    }
    let completion: LlamaCompletion | undefined
    let firstTokenMs: number | null = null
    let completionTokens = 0
    try {
      const rendered = renderChat(model, wrapper, messages)
      if (rendered.tokens.length >= this.contextSize) {
        throw new RagtuneError('PROMPT_TOO_LONG', `the prompt is ${rendered.tokens.length} tokens but the context holds ${this.contextSize}`, {
          details: { promptTokens: rendered.tokens.length, contextSize: this.contextSize },
          hint: 'retrieve fewer or shorter chunks, or load the generator with a larger contextSize',
        })
      }
      const grammar = opts.jsonSchema ? await this.grammarFor(opts.jsonSchema) : undefined
      // LlamaCompletion adds the BOS token itself when the model wants one.
      const input: Token[] = model.tokens.shouldPrependBosToken ? rendered.tokens.slice(1) : rendered.tokens
      await sequence.clearHistory()
      completion = new LlamaCompletion({ contextSequence: sequence })
      const { response, metadata } = await completion.generateCompletionWithMeta(input, {
        maxTokens,
        temperature,
        seed: opts.seed ?? 0,
        repeatPenalty: false,
        grammar,
        customStopTriggers: rendered.stopTriggers,
        disableContextShift: true,
        ...(opts.signal ? { signal: opts.signal, stopOnAbortSignal: true } : {}),
        // Counts the tokens whose text is returned; a token that ends inside a UTF-8 character is
        // held back until the next one, so a cut at maxTokens can count maxTokens + 1.
        onToken: (tokens) => {
          firstTokenMs ??= performance.now() - started
          completionTokens += tokens.length
        },
        ...(opts.onText ? { onTextChunk: opts.onText } : {}),
      })
      const finishReason = FINISH[metadata.stopReason] ?? 'stop'
      return {
        text: response,
        finishReason,
        usage: { promptTokens: rendered.tokens.length, completionTokens },
        timings: { firstTokenMs, totalMs: performance.now() - started },
        model: this.id,
        adapter: this.adapter,
        renderedPrompt: rendered.text,
        warnings: opts.jsonSchema && finishReason !== 'stop' ? [`generation ended (${finishReason}) before the JSON value was complete`] : [],
      }
    } catch (error) {
      if (error instanceof RagtuneError) throw error
      if (opts.signal?.aborted) throw new RagtuneError('ABORTED', 'the operation was aborted', { cause: error })
      throw new RagtuneError('GENERATOR_FAILED', `local generation with ${this.id} failed: ${String(error)}`, { cause: error })
    } finally {
      completion?.dispose()
    }
  }

  /** Grammars are compiled once per schema; compiling one takes milliseconds to seconds. */
  private grammarFor(schema: Record<string, unknown>): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema)
    let grammar = this.grammars.get(key)
    if (!grammar) {
      grammar = jsonSchemaGrammar(this.backend.model.llama, schema)
      grammar.catch(() => this.grammars.delete(key))
      this.grammars.set(key, grammar)
    }
    return grammar
  }

  /** Frees the context and the model; waits for a running call to finish first. */
  async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    await this.queue
    await this.backend.context.dispose()
    await this.backend.model.dispose()
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
