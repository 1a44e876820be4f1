import type { FastifyInstance } from 'fastify'
import { recordFeedback } from '../observe/feedback.js'
import type { ServerContext } from './context.js'
import { toHttpError } from './http-error.js'
import { feedbackRequest, parseBody } from './schemas.js'

/**
 * POST /v1/feedback: labels a logged answer while the server holds the store (PGlite lets one
 * process open it, so `ragtune feedback` cannot run beside the server). The label's source is
 * `http` and its author the API key's name. 201 with the stored label; an unknown queryId is 404.
 */
export function registerFeedbackRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/feedback', { config: { scope: 'query' } }, async (req, reply) => {
    const body = parseBody(feedbackRequest, req.body)
    try {
      const label = await recordFeedback(ctx.store, {
        queryId: body.queryId,
        rating: body.rating ?? null,
        correction: body.correction ?? null,
        category: body.category ?? null,
        source: 'http',
        ...(req.principal?.name ? { author: req.principal.name } : {}),
      })
      req.queryId = body.queryId
      return reply.code(201).send(label)
    } catch (err) {
      throw toHttpError(err, { QUERY_NOT_FOUND: 'queryId', FEEDBACK_EMPTY: 'rating' })
    }
  })
}
