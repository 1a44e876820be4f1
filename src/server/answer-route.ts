import type { FastifyInstance } from 'fastify'
import type { ServerContext } from './context.js'
import { toHttpError } from './http-error.js'
import { answerBody, precompileSchema, runAnswer, type AnswerJob } from './run-answer.js'
import { answerRequest, parseBody } from './schemas.js'
import { SseStream, streamOnceReady } from './sse.js'

/** Library error codes and the body field they concern, so a 400 names it. */
const PARAMS = { SCHEMA_INVALID: 'schema', PROMPT_TOO_LONG: 'question', QUERY_EMPTY: 'question', RETRIEVE_NO_EMBEDDER: 'mode' }

/**
 * POST /v1/answer: ragtune's own route, the whole AnswerResult a client may see (sources with every
 * stage's score, citations, provenance, timings, usage, warnings). With `stream: true` it sends SSE:
 * one `source` event per source, `delta` events with text, then `done` with the full result (or
 * `error`).
 */
export function registerAnswerRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/answer', { config: { scope: 'query' } }, async (req, reply) => {
    const body = parseBody(answerRequest, req.body)
    const job: AnswerJob = {
      question: body.question,
      ...(body.mode ? { mode: body.mode } : {}),
      ...(body.topK !== undefined ? { topK: body.topK } : {}),
      ...(body.rerank !== undefined ? { rerank: body.rerank } : {}),
      ...(body.schema ? { jsonSchema: body.schema } : {}),
      ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
      ...(body.maxTokens !== undefined ? { maxTokens: body.maxTokens } : {}),
    }
    try {
      if (body.schema) precompileSchema(body.schema)
      if (!body.stream) return answerBody(await runAnswer(ctx, req, reply, job))
      const sse = new SseStream()
      let ready!: () => void
      const sourcesKnown = new Promise<void>((resolve) => (ready = resolve))
      const run = runAnswer(ctx, req, reply, {
        ...job,
        onSources: (sources) => {
          for (const s of sources) sse.send('source', s)
          ready()
        },
        onText: (text) => sse.send('delta', { text }),
      })
      return await streamOnceReady(reply, sse, sourcesKnown, run, (outcome) => {
        if (outcome.ok) sse.send('done', answerBody(outcome.value))
        else sse.send('error', toHttpError(outcome.error, PARAMS).body())
      })
    } catch (err) {
      throw toHttpError(err, PARAMS)
    }
  })
}
