import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { analyzeLogs } from '../analyze/failure-report.js'
import type { ServerContext } from './context.js'
import { HttpError, toHttpError } from './http-error.js'
import { queryInt, queryTime } from './query-params.js'
import { parseBody } from './schemas.js'

const analyzeQuery = z.strictObject({
  since: z.string().optional(),
  until: z.string().optional(),
  bucket: z.enum(['day', 'week', 'auto']).optional(),
  examples: queryInt(0, 50).optional(),
})

/**
 * GET /v1/analyze: the failure report of `ragtune analyze` (rule-based detectors and labels; the
 * model judge stays a CLI option, it would hold the generator for minutes) over a window of the
 * log, for the dashboard's charts. Stops when the client goes away: the report reads every row of
 * the window.
 */
export function registerAnalyzeRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/analyze', { config: { scope: 'query' } }, async (req, reply) => {
    const q = parseBody(analyzeQuery, req.query)
    const since = queryTime(q.since, 'since')
    const until = queryTime(q.until, 'until')
    const ctrl = new AbortController()
    const onClose = (): void => {
      if (!reply.raw.writableFinished) ctrl.abort(new HttpError(499, 'client_closed', 'the client closed the connection'))
    }
    reply.raw.on('close', onClose)
    try {
      return await analyzeLogs(ctx.store, {
        ...(since ? { since } : {}), ...(until ? { until } : {}),
        rules: ctx.config.analyze, bucket: q.bucket ?? 'auto', examplesPerCategory: q.examples ?? 5, signal: ctrl.signal,
      })
    } catch (err) {
      throw ctrl.signal.aborted ? ctrl.signal.reason : toHttpError(err)
    } finally {
      reply.raw.off('close', onClose)
    }
  })
}
