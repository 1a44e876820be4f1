import type { FastifyInstance } from 'fastify'
import type { ServerContext } from './context.js'

/**
 * GET /v1/datasets: every stored dataset version, newest first, with its counts, lineage and build
 * report (leakage, coverage, warnings), so the dashboard can show what each adapter was trained on
 * without the CLI (which cannot open the store while the server holds it). Records stay out: they
 * are whole prompts, and `ragtune dataset export` is the way to read them.
 */
export function registerDatasetRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/datasets', { config: { scope: 'query' } }, async () => {
    return { object: 'list', data: await ctx.store.listDatasets() }
  })
}
