import type { FastifyInstance } from 'fastify'
import type { ServerContext } from './context.js'

/**
 * GET /v1/models (OpenAI's list format: the base model, and the active adapter as a second id, the
 * way vLLM lists LoRA models), GET /health (open, for load balancers) and GET /metrics (Prometheus
 * text, admin scope: it reveals traffic).
 */
export function registerInfoRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const created = Math.floor(ctx.startedAt.getTime() / 1000)

  app.get('/v1/models', { config: { scope: 'query' } }, async () => {
    const { id, adapter } = ctx.generator
    const data: Array<Record<string, unknown>> = [{ id, object: 'model', created, owned_by: 'ragtune' }]
    if (adapter) data.push({ id: adapter, object: 'model', created, owned_by: 'ragtune', parent: id })
    return { object: 'list', data }
  })

  app.get('/health', async (_req, reply) => {
    const models = { embedder: ctx.embedder?.id ?? null, reranker: ctx.reranker?.id ?? null, generator: ctx.generator.id, adapter: ctx.generator.adapter }
    try {
      const chunks = await ctx.store.chunkCount()
      return { status: 'ok', store: { ok: true, chunks }, models, queue: { inFlight: ctx.limiter.active, queued: ctx.limiter.queued } }
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'INTERNAL'
      return reply.code(503).send({ status: 'unavailable', store: { ok: false, error: code }, models })
    }
  })

  app.get('/metrics', { config: { scope: 'admin' } }, async (_req, reply) => {
    const text = ctx.metrics.render({ queueDepth: ctx.limiter.queued, inFlight: ctx.limiter.active })
    return reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(text)
  })
}
