import type { FastifyReply, FastifyRequest } from 'fastify'
import { answer, type AnswerResult, type AnswerSource } from '../answer/answer.js'
import { checkStructured } from '../answer/structured.js'
import type { RetrievalMode } from '../config/schema.js'
import { newQueryId } from '../observe/query-log.js'
import { leaseGenerator, type GeneratorLease } from '../registry/live-generator.js'
import type { ServerContext } from './context.js'
import { HttpError } from './http-error.js'

/** What one HTTP request asks of answer(); unset fields take the config's values. */
export interface AnswerJob {
  question: string
  mode?: RetrievalMode
  topK?: number
  rerank?: boolean
  jsonSchema?: Record<string, unknown>
  temperature?: number
  maxTokens?: number
  seed?: number
  onSources?: (sources: AnswerSource[]) => void
  onText?: (text: string) => void
}

/** The warning logQuery gives when the log row could not be written (observe/query-log.ts). */
const LOG_FAILED = 'the query was not logged'

/**
 * Checks a JSON Schema before any work is queued: an invalid one would otherwise surface only after
 * retrieval and generation. checkStructured caches the compiled validator per schema object, so
 * answer() reuses this compilation.
 */
export function precompileSchema(schema: Record<string, unknown>): void {
  checkStructured('null', schema)
}

/**
 * Runs one answer for an HTTP request: waits for a generation slot (503 when the queue is full),
 * aborts on client disconnect, on the request deadline and at the shutdown deadline, and counts
 * tokens and log-write failures. An answer cut short by an abort is still logged by answer(); the
 * caller gets the abort's reason (504 deadline, 503 shutdown) instead of the partial text.
 */
export async function runAnswer(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, job: AnswerJob): Promise<AnswerResult> {
  const ctrl = new AbortController()
  const onClose = (): void => {
    if (!reply.raw.writableFinished) ctrl.abort(new HttpError(499, 'client_closed', 'the client closed the connection'))
  }
  reply.raw.on('close', onClose)
  const timeoutMs = ctx.config.server.requestTimeoutMs
  const timer = setTimeout(() => ctrl.abort(new HttpError(504, 'timeout', `no answer within server.requestTimeoutMs (${timeoutMs} ms)`)), timeoutMs)
  ctx.jobs.add(ctrl)
  let release: (() => void) | undefined
  let lease: GeneratorLease | undefined
  try {
    release = await ctx.limiter.acquire(ctrl.signal)
    // One generator for the whole answer: a hot swap (adapter promotion) never splits a request.
    lease = leaseGenerator(ctx.generator)
    const queryId = newQueryId()
    req.queryId = queryId
    reply.header('x-ragtune-query-id', queryId)
    const { config } = ctx
    const result = await answer({ store: ctx.store, embedder: ctx.embedder, reranker: ctx.reranker, generator: lease.generator }, job.question, {
      retrieval: {
        ...config.retrieval,
        ...(job.mode ? { mode: job.mode } : {}),
        ...(job.topK !== undefined ? { topK: job.topK } : {}),
        ...(job.rerank !== undefined ? { rerank: job.rerank } : {}),
        signal: ctrl.signal,
      },
      temperature: job.temperature ?? config.generator.temperature,
      maxTokens: job.maxTokens ?? config.generator.maxTokens,
      ...(job.jsonSchema ? { jsonSchema: job.jsonSchema } : {}),
      ...(job.seed !== undefined ? { seed: job.seed } : {}),
      signal: ctrl.signal,
      queryId,
      log: { logPrompts: config.observe.logPrompts, client: req.principal?.name ? `http:${req.principal.name}` : 'http' },
      ...(job.onSources ? { onSources: job.onSources } : {}),
      ...(job.onText ? { onText: job.onText } : {}),
    })
    ctx.metrics.addUsage(result.usage)
    if (result.warnings.some((w) => w.startsWith(LOG_FAILED))) ctx.metrics.addLogWriteFailure()
    if (ctrl.signal.aborted) throw ctrl.signal.reason
    return result
  } catch (err) {
    // answer() reports an abort as ABORTED (or a partial answer); the signal knows why it fired.
    throw ctrl.signal.aborted ? ctrl.signal.reason : err
  } finally {
    lease?.release()
    release?.()
    clearTimeout(timer)
    ctx.jobs.delete(ctrl)
    reply.raw.off('close', onClose)
  }
}

/** The fields of an AnswerResult a client gets: no prompt, no chunk text (those stay in the log). */
export function answerBody(r: AnswerResult): Record<string, unknown> {
  return {
    queryId: r.queryId,
    answer: r.answer,
    ...(r.structured !== undefined ? { structured: r.structured } : {}),
    sources: r.sources,
    citations: r.citations,
    model: r.model,
    adapter: r.adapter,
    finishReason: r.finishReason,
    timings: r.timings,
    usage: r.usage,
    warnings: r.warnings,
  }
}
