import type { ChatMessage, GenerateResult, Generator } from '../spec/generator.js'
import { RagtuneError } from '../errors.js'
import { retrieve, type HitScores, type RetrieveDeps, type RetrieveOptions, type RetrievalResult } from '../retrieve/retrieve.js'
import { buildMessages, parseCitations, toPromptSources } from './prompt.js'
import { checkStructured, repairMessage } from './structured.js'

export interface AnswerSource {
  n: number
  path: string
  heading: string[]
  chunkId: string
  scores: HitScores
}

export interface AnswerOptions {
  retrieval: RetrieveOptions
  instruction?: string
  /** JSON Schema for structured answers (grammar-constrained locally; validated + one repair remotely). */
  jsonSchema?: Record<string, unknown>
  temperature?: number
  maxTokens?: number
  seed?: number
  signal?: AbortSignal
  /** Streaming: answer text as it is produced. */
  onText?: (text: string) => void
}

export interface AnswerResult {
  question: string
  answer: string
  /** Parsed JSON when a schema was given and the answer satisfies it. */
  structured?: unknown
  sources: AnswerSource[]
  /** Source numbers cited as [n], in order of first use; only numbers that were given. */
  citations: number[]
  model: string
  adapter: string | null
  messages: ChatMessage[]
  renderedPrompt: string | null
  retrieval: RetrievalResult
  timings: { retrieveMs: number; rerankMs: number; firstTokenMs: number | null; totalMs: number }
  usage: { promptTokens: number; completionTokens: number }
  warnings: string[]
}

export interface AnswerDeps extends RetrieveDeps {
  generator: Generator
}

/** Defaults from the guide: low temperature for grounded answers, 512 new tokens. */
export const DEFAULT_TEMPERATURE = 0.1
export const DEFAULT_MAX_TOKENS = 512

/**
 * retrieve → rerank → prompt with numbered sources → generate. Returns the answer with everything the
 * query log and the dataset builder need to rebuild this exact call.
 */
export async function answer(deps: AnswerDeps, question: string, opts: AnswerOptions): Promise<AnswerResult> {
  const t0 = performance.now()
  const retrieval = await retrieve(deps, question, opts.retrieval)
  const sources: AnswerSource[] = retrieval.hits.map((h, i) => ({ n: i + 1, path: h.documentPath, heading: h.headingPath, chunkId: h.chunkId, scores: h.scores }))
  const messages = buildMessages({ question, sources: toPromptSources(retrieval.hits), ...(opts.instruction ? { instruction: opts.instruction } : {}), ...(opts.jsonSchema ? { jsonSchema: opts.jsonSchema } : {}) })
  const warnings = [...retrieval.warnings]
  if (sources.length === 0) warnings.push('retrieval found no sources; the model was told so')

  const genOpts = {
    temperature: opts.temperature ?? DEFAULT_TEMPERATURE,
    maxTokens: opts.maxTokens ?? DEFAULT_MAX_TOKENS,
    ...(opts.jsonSchema ? { jsonSchema: opts.jsonSchema } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onText ? { onText: opts.onText } : {}),
  }
  const tGen = performance.now()
  let gen: GenerateResult = await deps.generator.doGenerate(messages, genOpts)
  const firstTokenMs = gen.timings.firstTokenMs === null ? null : tGen - t0 + gen.timings.firstTokenMs
  const usage = { ...gen.usage }
  warnings.push(...gen.warnings)
  if (gen.finishReason === 'length') warnings.push(`the answer was cut at ${genOpts.maxTokens} tokens`)

  let structured: unknown
  if (opts.jsonSchema) {
    let check = checkStructured(gen.text, opts.jsonSchema)
    if (!check.ok) {
      warnings.push(`structured answer invalid (${check.errors.join('; ')}); retried once`)
      const retry = [...messages, { role: 'assistant' as const, content: gen.text }, { role: 'user' as const, content: repairMessage(check.errors) }]
      gen = await deps.generator.doGenerate(retry, { ...genOpts, onText: undefined })
      usage.promptTokens += gen.usage.promptTokens
      usage.completionTokens += gen.usage.completionTokens
      check = checkStructured(gen.text, opts.jsonSchema)
      if (!check.ok) warnings.push(`structured answer still invalid after the repair retry: ${check.errors.join('; ')}`)
    }
    if (check.ok) structured = check.value
  }

  const cited = parseCitations(gen.text)
  const citations = cited.filter((n) => n >= 1 && n <= sources.length)
  const bogus = cited.filter((n) => !citations.includes(n))
  if (bogus.length) warnings.push(`the answer cites source(s) ${bogus.map((n) => `[${n}]`).join(', ')} that were not given (${sources.length} sources)`)

  return {
    question: question.trim(),
    answer: gen.text,
    ...(structured !== undefined ? { structured } : {}),
    sources,
    citations,
    model: gen.model,
    adapter: gen.adapter,
    messages,
    renderedPrompt: gen.renderedPrompt,
    retrieval,
    timings: { retrieveMs: retrieval.timings.totalMs - retrieval.timings.rerankMs, rerankMs: retrieval.timings.rerankMs, firstTokenMs, totalMs: performance.now() - t0 },
    usage,
    warnings,
  }
}

/** Maps any failure of answer() to a loggable error (code + message). */
export function errorInfo(err: unknown): { code: string; message: string } {
  if (err instanceof RagtuneError) return { code: err.code, message: err.message }
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) }
}
