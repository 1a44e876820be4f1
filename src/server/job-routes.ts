import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { JobRunRecord } from '../spec/job-run.js'
import type { ServerContext } from './context.js'
import { queryInt } from './query-params.js'
import { parseBody } from './schemas.js'

const jobsQuery = z.strictObject({
  job: z.string().min(1).optional(),
  outcome: z.enum(['running', 'ok', 'failed', 'skipped']).optional(),
  limit: queryInt(1, 500).optional(),
})

/**
 * GET /v1/jobs: the scheduler's runs (re-index, retrain), newest first, for the dashboard's jobs
 * page. The owner's token is left out: it only tells processes apart, and a client has no use for it.
 */
export function registerJobRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/jobs', { config: { scope: 'query' } }, async (req) => {
    const q = parseBody(jobsQuery, req.query)
    const runs = await ctx.store.listJobRuns({ ...(q.job ? { job: q.job } : {}), ...(q.outcome ? { outcome: q.outcome } : {}), limit: q.limit ?? 100 })
    return { object: 'list', data: runs.map(publicRun) }
  })
}

function publicRun(run: JobRunRecord): Omit<JobRunRecord, 'owner'> & { owner: { pid: number; hostname: string } } {
  return { ...run, owner: { pid: run.owner.pid, hostname: run.owner.hostname } }
}
