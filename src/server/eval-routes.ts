import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { RagtuneError } from '../errors.js'
import { gateSettings } from '../eval/eval-config.js'
import { gateDecision, type GateDecision } from '../eval/gate.js'
import { compareStoredRuns, findRun } from '../eval/run-lookup.js'
import type { ServerContext } from './context.js'
import { HttpError, toHttpError } from './http-error.js'
import { queryInt } from './query-params.js'
import { parseBody } from './schemas.js'

const runsQuery = z.strictObject({ adapter: z.string().min(1).optional(), limit: queryInt(1, 500).optional() })

const compareQuery = z.strictObject({
  /** Baseline: a run id or an adapter name (its newest run on the candidate's set), e.g. the active adapter or `base`. */
  a: z.string().min(1, 'expected a run id or adapter name'),
  /** Candidate: a run id or an adapter name (its newest run). */
  b: z.string().min(1, 'expected a run id or adapter name'),
  /** Compare on this eval set (sha256 of its content) instead of the candidate's newest. */
  set: z.string().regex(/^[0-9a-f]{64}$/, 'expected the sha256 of an eval set').optional(),
  /** Primary metric of the gate verdict (default: eval.primaryMetric). */
  metric: z.string().min(1).optional(),
})

/** Eval errors and the status that tells the dashboard what to do. */
const STATUS: Record<string, number> = { EVAL_RUN_NOT_FOUND: 404, EVAL_SET_MISMATCH: 409, EVAL_NO_PAIRS: 409, EVAL_METRIC_MISSING: 400 }

/**
 * Stored eval runs and their paired A/B comparison over HTTP, for the dashboard's adapter charts:
 * GET /v1/eval/runs (newest first) and GET /v1/eval/compare?a=&b= (what `ragtune eval compare a b
 * --json` prints: per-metric and per-category intervals, regressions, and the gate's verdict with
 * the server's eval settings). Read-only; promotion stays on the admin routes.
 */
export function registerEvalRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/eval/runs', { config: { scope: 'query' } }, async (req) => {
    const q = parseBody(runsQuery, req.query)
    return { object: 'list', data: await ctx.store.listEvalRuns({ ...(q.adapter ? { adapter: q.adapter } : {}), limit: q.limit ?? 100 }) }
  })

  app.get('/v1/eval/compare', { config: { scope: 'query' } }, async (req) => {
    const q = parseBody(compareQuery, req.query)
    try {
      // The candidate's newest set decides: a baseline evaluated on an older set cannot pair with it.
      const b = await findRun(ctx.store, q.b, q.set ? { setSha256: q.set } : {})
      const a = await findRun(ctx.store, q.a, { setSha256: b.setSha256 })
      const settings = gateSettings(ctx.config.eval, q.metric ? { primaryMetric: q.metric } : {})
      const comparison = await compareStoredRuns(ctx.store, a, b, settings.compare)
      let decision: GateDecision | null = null
      try {
        decision = gateDecision(comparison, settings.gate)
      } catch (err) {
        // No gated metric in common: the comparison still shows, only the verdict is missing.
        if (!(err instanceof RagtuneError && err.code === 'EVAL_METRIC_MISSING') || q.metric) throw err
      }
      return { comparison, decision }
    } catch (err) {
      if (err instanceof RagtuneError && STATUS[err.code]) throw new HttpError(STATUS[err.code]!, err.code.toLowerCase(), err.message.split('\n  fix:')[0]!)
      throw toHttpError(err)
    }
  })
}
