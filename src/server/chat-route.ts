import type { FastifyInstance } from 'fastify'
import type { ServerContext } from './context.js'
import { chatChunk, chatCompletion, chatUsage, completionId, finishReason, questionOf, ragtuneExtra, servedModel } from './chat-format.js'
import { toHttpError } from './http-error.js'
import { precompileSchema, runAnswer, type AnswerJob } from './run-answer.js'
import { chatRequest, parseBody, type ChatRequest } from './schemas.js'
import { SseStream, streamOnceReady } from './sse.js'

const PARAMS = { SCHEMA_INVALID: 'response_format', PROMPT_TOO_LONG: 'messages', QUERY_EMPTY: 'messages' }

/** What `response_format` asks for, as the JSON Schema answer() takes. */
function schemaOf(format: ChatRequest['response_format']): Record<string, unknown> | undefined {
  if (!format || format.type === 'text') return undefined
  if (format.type === 'json_object') return { type: 'object' }
  return format.json_schema.schema ?? { type: 'object' }
}

/**
 * POST /v1/chat/completions, compatible with OpenAI's API so existing clients and SDKs work with a
 * changed base URL: the last user message is the question (see questionOf), the answer comes from
 * answer() with retrieval, and the response adds `sources` and `ragtune` fields. Streaming sends
 * `data: {chat.completion.chunk}` lines ending with `data: [DONE]`; the first chunk carries the
 * sources, the one with the finish reason carries the `ragtune` fields, and a usage chunk follows
 * when `stream_options.include_usage` is set.
 */
export function registerChatRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/chat/completions', { config: { scope: 'query' } }, async (req, reply) => {
    const body = parseBody(chatRequest, req.body)
    const { question, ignored } = questionOf(body.messages)
    const warnings: string[] = []
    if (ignored > 0) warnings.push(`ragtune answers the last user message from its sources; ${ignored} other message(s) were ignored`)
    const served = servedModel({ model: ctx.generator.id, adapter: ctx.generator.adapter })
    if (body.model !== served && body.model !== ctx.generator.id) warnings.push(`model "${body.model}" is not served here; ${served} answered`)
    const jsonSchema = schemaOf(body.response_format)
    const maxTokens = body.max_completion_tokens ?? body.max_tokens
    const job: AnswerJob = {
      question,
      ...(jsonSchema ? { jsonSchema } : {}),
      ...(body.temperature != null ? { temperature: body.temperature } : {}),
      ...(maxTokens != null ? { maxTokens } : {}),
      ...(body.seed != null ? { seed: body.seed } : {}),
    }
    const created = Math.floor(Date.now() / 1000)
    try {
      if (jsonSchema) precompileSchema(jsonSchema)
      if (!body.stream) return chatCompletion(await runAnswer(ctx, req, reply, job), created, warnings)

      const sse = new SseStream()
      let head = { id: '', created, model: served }
      let ready!: () => void
      const sourcesKnown = new Promise<void>((resolve) => (ready = resolve))
      const withUsage = body.stream_options?.include_usage === true
      const usageNull = withUsage ? { usage: null } : {}
      const run = runAnswer(ctx, req, reply, {
        ...job,
        onSources: (sources) => {
          head = { ...head, id: completionId(req.queryId!) }
          sse.send(null, chatChunk(head, { role: 'assistant', content: '' }, null, { ...usageNull, sources }))
          ready()
        },
        onText: (text) => sse.send(null, chatChunk(head, { content: text }, null, usageNull)),
      })
      return await streamOnceReady(reply, sse, sourcesKnown, run, (outcome) => {
        if (!outcome.ok) return sse.send(null, toHttpError(outcome.error, PARAMS).body())
        const r = outcome.value
        sse.send(null, chatChunk(head, {}, finishReason(r), { ...usageNull, ragtune: ragtuneExtra(r, warnings) }))
        if (withUsage) sse.send(null, chatChunk(head, null, null, { usage: chatUsage(r.usage) }))
        sse.send(null, '[DONE]')
      })
    } catch (err) {
      throw toHttpError(err, PARAMS)
    }
  })
}
