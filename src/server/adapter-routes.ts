import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { RagtuneError } from '../errors.js'
import { gateSettings } from '../eval/eval-config.js'
import { requireAdapter } from '../registry/adapter-registry.js'
import { LiveGenerator } from '../registry/live-generator.js'
import { promoteAdapter, rollbackAdapter } from '../registry/promote.js'
import type { AdapterRecord } from '../spec/adapter-registry.js'
import type { ServerContext } from './context.js'
import { HttpError, toHttpError } from './http-error.js'
import { parseBody } from './schemas.js'

const promoteBody = z.strictObject({
  /** Override the gate; needs a reason, recorded in the history. */
  force: z.boolean().optional(),
  reason: z.string().max(2000).optional(),
  /** Compare on this eval set (sha256 of the JSONL file); default: the newest both sides ran on. */
  setSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  primaryMetric: z.string().min(1).optional(),
})
const rollbackBody = z.strictObject({ reason: z.string().max(2000).optional() })

/** Registry errors and the HTTP status that tells a client what to do. */
const STATUS: Record<string, number> = {
  USAGE: 400, EVAL_METRIC_MISSING: 400, ADAPTER_UNKNOWN: 404,
  GATE_REJECTED: 409, EVAL_MISSING: 409, ADAPTER_ALREADY_ACTIVE: 409, ADAPTER_CONFLICT: 409, ADAPTER_NO_HISTORY: 409,
  ADAPTER_CHANGED: 409, ADAPTER_FILE_NOT_FOUND: 409,
}

/**
 * The adapter registry over HTTP, for the dashboard and for `ragtune adapter promote --server` while
 * the server holds the store: list and show for any API key (no file paths: they describe the
 * server's disk), promote and rollback for admin keys only. A promotion or rollback swaps the
 * served generator before the response returns: requests already running finish on the old
 * adapter, every request after the response uses the new one.
 */
export function registerAdapterRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/adapters', { config: { scope: 'query' } }, async () => {
    const adapters = await ctx.store.listAdapters()
    return { object: 'list', active: adapters.find((a) => a.status === 'active')?.name ?? null, serving: serving(ctx), data: adapters.map(publicRecord) }
  })

  app.get<{ Params: { name: string } }>('/v1/adapters/:name', { config: { scope: 'query' } }, async (req) => {
    try {
      const record = await requireAdapter(ctx.store, req.params.name)
      const [runs, history] = await Promise.all([ctx.store.listEvalRuns({ adapter: record.name, limit: 20 }), ctx.store.listAdapterEvents({ adapter: record.name })])
      return { adapter: publicRecord(record), evalRuns: runs, history }
    } catch (err) {
      throw httpError(err)
    }
  })

  app.post<{ Params: { name: string } }>('/v1/adapters/:name/promote', { config: { scope: 'admin' } }, async (req) => {
    const body = parseBody(promoteBody, req.body ?? {})
    try {
      const settings = gateSettings(ctx.config.eval, body.primaryMetric ? { primaryMetric: body.primaryMetric } : {})
      const result = await promoteAdapter(ctx.store, req.params.name, {
        ...settings, force: body.force ?? false, reason: body.reason ?? null, ...(body.setSha256 ? { setSha256: body.setSha256 } : {}),
      })
      ctx.log({ level: 'info', msg: 'adapter promoted', adapter: result.active.name, previous: result.previous, forced: result.forced, client: req.principal?.name ?? null })
      await swap(ctx, result.active.name)
      return { active: publicRecord(result.active), previous: result.previous, forced: result.forced, decision: result.decision, runs: result.runs, serving: serving(ctx) }
    } catch (err) {
      throw httpError(err)
    }
  })

  app.post('/v1/adapters/rollback', { config: { scope: 'admin' } }, async (req) => {
    const body = parseBody(rollbackBody, req.body ?? {})
    try {
      const result = await rollbackAdapter(ctx.store, { reason: body.reason ?? null })
      ctx.log({ level: 'info', msg: 'adapter rolled back', adapter: result.active.name, previous: result.previous, client: req.principal?.name ?? null })
      await swap(ctx, result.active.name)
      return { active: publicRecord(result.active), previous: result.previous, serving: serving(ctx) }
    } catch (err) {
      throw httpError(err)
    }
  })
}

/** Loads the newly active adapter and swaps it in; on failure the old one keeps serving and the client is told. */
async function swap(ctx: ServerContext, name: string): Promise<void> {
  if (!(ctx.generator instanceof LiveGenerator)) return
  try {
    await ctx.generator.refresh()
  } catch (err) {
    ctx.log({ level: 'error', msg: 'adapter swap failed', adapter: name, error: (err as Error).message })
    throw new HttpError(500, 'swap_failed', `"${name}" is active in the registry, but this server could not load it and still serves ${ctx.generator.adapter ?? 'the base model'}: ${(err as Error).message.split('\n')[0]}; restart the server or roll back`)
  }
}

function serving(ctx: ServerContext): { model: string; adapter: string | null } {
  return { model: ctx.generator.id, adapter: ctx.generator.adapter }
}

function publicRecord(r: AdapterRecord): Omit<AdapterRecord, 'filePath'> {
  const { filePath: _filePath, ...rest } = r
  return rest
}

function httpError(err: unknown): HttpError {
  if (err instanceof RagtuneError && STATUS[err.code]) return new HttpError(STATUS[err.code]!, err.code.toLowerCase(), err.message.split('\n  fix:')[0]!)
  return toHttpError(err)
}
