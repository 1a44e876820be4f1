import type { ChatMessage, GenerateResult, Generator } from '../spec/generator.js'
import { errorForLog, logQuery, newQueryId, retrievalForLog } from '../observe/query-log.js'
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
  /** Streaming: the numbered sources, once retrieval is done and before any text (servers send them first). */
  onSources?: (sources: AnswerSource[]) => void
  /**
   * Query-log settings; every call is logged, failures included, unless `enabled` is false (eval
   * runs: a held-out question in the log could leak into the training data).
   */
  log?: { logPrompts?: boolean; client?: string; enabled?: boolean }
  /** Use this query id (made with newQueryId()) when the caller hands it out before the answer ends. */
  queryId?: string
}

export interface AnswerResult {
  /** Query-log id (ULID); quote it in `ragtune feedback`. */
  queryId: string
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
  /** Why generation stopped: 'length' when cut at maxTokens, 'abort' when the signal fired mid-answer. */
  finishReason: GenerateResult['finishReason']
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

/** The template name recorded with logged prompts (see buildMessages). */
export const PROMPT_TEMPLATE = 'ragtune-sources-v1'

/**
 * retrieve → rerank → prompt with numbered sources → generate, then one row in the query log (a
 * failed call is logged with its error and rethrown) unless `log.enabled` is false. Returns the
 * answer with everything the log and the dataset builder need to rebuild this exact call.
 */
export async function answer(deps: AnswerDeps, question: string, opts: AnswerOptions): Promise<AnswerResult> {
  const queryId = opts.queryId ?? newQueryId()
  const t0 = performance.now()
  const log = opts.log?.enabled === false ? null : { logPrompts: opts.log?.logPrompts ?? true, ...(opts.log?.client ? { client: opts.log.client } : {}) }
  let retrieval: RetrievalResult | null = null
  let messages: ChatMessage[] | null = null
  try {
    const result = await run(deps, question, opts, queryId, t0, (r, m) => ((retrieval = r), (messages = m)))
    if (!log) return result
    const logged = await logQuery(deps.store, {
      id: queryId,
      question: result.question,
      retrieval: retrievalForLog(result.retrieval),
      prompt: { messages: result.messages, rendered: result.renderedPrompt, template: PROMPT_TEMPLATE },
      answer: result.answer,
      model: result.model,
      adapter: result.adapter,
      timings: result.timings,
      usage: result.usage,
      // A partial answer (client gone, Ctrl-C) must never pass for a complete one in analysis or training.
      error: result.finishReason === 'abort' ? { code: 'ABORTED', message: 'generation was aborted; the answer is incomplete' } : null,
      ...(log.client ? { client: log.client } : {}),
      ...(result.warnings.length ? { extra: { warnings: result.warnings, citations: result.citations } } : { extra: { citations: result.citations } }),
    }, { logPrompts: log.logPrompts })
    result.warnings.push(...logged.warnings)
    return result
  } catch (err) {
    if (!log) throw err
    const r = retrieval as RetrievalResult | null
    await logQuery(deps.store, {
      id: queryId,
      question: question.trim(),
      retrieval: r ? retrievalForLog(r) : null,
      prompt: messages ? { messages, rendered: null, template: PROMPT_TEMPLATE } : null,
      answer: null,
      model: deps.generator.id,
      adapter: deps.generator.adapter,
      timings: { retrieveMs: r ? r.timings.totalMs : null, rerankMs: r ? r.timings.rerankMs : null, firstTokenMs: null, totalMs: performance.now() - t0 },
      usage: null,
      error: errorForLog(err),
      ...(log.client ? { client: log.client } : {}),
    }, { logPrompts: log.logPrompts })
    throw err
  }
}

async function run(
  deps: AnswerDeps,
  question: string,
  opts: AnswerOptions,
  queryId: string,
  t0: number,
  progress: (r: RetrievalResult, m: ChatMessage[]) => void,
): Promise<AnswerResult> {
  const retrieval = await retrieve(deps, question, opts.retrieval)
  const sources: AnswerSource[] = retrieval.hits.map((h, i) => ({ n: i + 1, path: h.documentPath, heading: h.headingPath, chunkId: h.chunkId, scores: h.scores }))
  const messages = buildMessages({ question, sources: toPromptSources(retrieval.hits), ...(opts.instruction ? { instruction: opts.instruction } : {}), ...(opts.jsonSchema ? { jsonSchema: opts.jsonSchema } : {}) })
  progress(retrieval, messages)
  opts.onSources?.(sources)
  const warnings = [...retrieval.warnings]
  if (sources.length === 0) warnings.push('retrieval found no sources; the model was told so')

  const genOpts = {
    temperature: opts.temperature ?? DEFAULT_TEMPERATURE,
    maxTokens: opts.maxTokens ?? DEFAULT_MAX_TOKENS,
    ...(opts.jsonSchema ? { jsonSchema: opts.jsonSchema } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    // With a schema the text may be repaired after the fact: it is sent once, validated, at the end.
    ...(opts.onText && !opts.jsonSchema ? { onText: opts.onText } : {}),
  }
  const tGen = performance.now()
  let gen: GenerateResult = await deps.generator.doGenerate(messages, genOpts)
  const firstTokenMs = gen.timings.firstTokenMs === null ? null : tGen - t0 + gen.timings.firstTokenMs
  const usage = { ...gen.usage }
  warnings.push(...gen.warnings)
  if (gen.finishReason === 'length') warnings.push(`the answer was cut at ${genOpts.maxTokens} tokens`)
  if (gen.finishReason === 'abort') warnings.push('generation was aborted; the answer is incomplete')

  let structured: unknown
  if (opts.jsonSchema) {
    let check = checkStructured(gen.text, opts.jsonSchema)
    if (!check.ok) {
      warnings.push(`structured answer invalid (${check.errors.join('; ')}); retried once`)
      const retry = [...messages, { role: 'assistant' as const, content: gen.text }, { role: 'user' as const, content: repairMessage(check.errors) }]
      gen = await deps.generator.doGenerate(retry, genOpts)
      usage.promptTokens += gen.usage.promptTokens
      usage.completionTokens += gen.usage.completionTokens
      check = checkStructured(gen.text, opts.jsonSchema)
      if (!check.ok) warnings.push(`structured answer still invalid after the repair retry: ${check.errors.join('; ')}`)
    }
    if (check.ok) structured = check.value
    opts.onText?.(gen.text)
  }

  const cited = parseCitations(gen.text)
  const citations = cited.filter((n) => n >= 1 && n <= sources.length)
  const bogus = cited.filter((n) => !citations.includes(n))
  if (bogus.length) warnings.push(`the answer cites source(s) ${bogus.map((n) => `[${n}]`).join(', ')} that were not given (${sources.length} sources)`)

  return {
    queryId,
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
    finishReason: gen.finishReason,
    timings: { retrieveMs: retrieval.timings.totalMs - retrieval.timings.rerankMs, rerankMs: retrieval.timings.rerankMs, firstTokenMs, totalMs: performance.now() - t0 },
    usage,
    warnings,
  }
}
