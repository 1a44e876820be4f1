import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { queryNotFound } from '../store/query-log-sql.js'
import type { Label, QueryLogEntry, QueryLogFilter } from '../spec/query-log.js'
import type { Store } from '../spec/store.js'
import type { ServerContext } from './context.js'
import { toHttpError } from './http-error.js'
import { queryInt, queryTime } from './query-params.js'
import { parseBody } from './schemas.js'

const listQuery = z.strictObject({
  since: z.string().optional(),
  until: z.string().optional(),
  /** An adapter id as logged (`name@sha`), or `base` for answers without an adapter. */
  adapter: z.string().min(1).optional(),
  status: z.enum(['ok', 'error']).optional(),
  /** The current (newest) label's rating; `unlabeled`: no label yet. */
  rating: z.enum(['good', 'bad', 'unlabeled']).optional(),
  /** Case-insensitive substring of the question. */
  q: z.string().optional(),
  limit: queryInt(1, 200).optional(),
  /** The `next` cursor of the previous page. */
  after: z.string().min(1).optional(),
})
type ListQuery = z.output<typeof listQuery>

/** Entries read per store page, and at most per request, when filters the store cannot apply drop rows. */
const PAGE = 200
const SCAN_LIMIT = 5000

/** A log row as the listing shows it: everything but the prompt (it holds whole documents), with its labels. */
export type LogListEntry = Omit<QueryLogEntry, 'prompt'> & { labels: Label[] }

/**
 * The query log over HTTP, for the dashboard while the server holds the store: GET /v1/logs lists
 * newest first with the filters of `ragtune logs` plus the label's rating and a question search,
 * paged by a `next` cursor; GET /v1/logs/:id is one entry in full (prompt included) with its labels.
 * Any API key may read: the log is what feedback is given on.
 */
export function registerLogRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/logs', { config: { scope: 'query' } }, async (req) => {
    const query = parseBody(listQuery, req.query)
    try {
      return { object: 'list', ...(await listLogs(ctx.store, query)) }
    } catch (err) {
      throw toHttpError(err, { QUERY_NOT_FOUND: 'after' })
    }
  })

  app.get<{ Params: { id: string } }>('/v1/logs/:id', { config: { scope: 'query' } }, async (req) => {
    const entry = await ctx.store.getQueryLog(req.params.id)
    if (!entry) throw toHttpError(queryNotFound(req.params.id, 'id'), { QUERY_NOT_FOUND: 'id' })
    return { ...entry, labels: await ctx.store.listLabels({ queryId: entry.id }) }
  })
}

/**
 * Pages through the store until `limit` entries pass the filters the store cannot apply (rating,
 * question text) or SCAN_LIMIT rows were read; `next` continues after the last row read, so no row
 * is skipped or shown twice across pages.
 */
async function listLogs(store: Store, q: ListQuery): Promise<{ data: LogListEntry[]; next: string | null }> {
  const limit = q.limit ?? 50
  const since = queryTime(q.since, 'since')
  const until = queryTime(q.until, 'until')
  const filter: QueryLogFilter = {
    limit: PAGE,
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(q.adapter ? { adapter: q.adapter === 'base' ? null : q.adapter } : {}),
    ...(q.status ? { hasError: q.status === 'error' } : {}),
  }
  const needle = q.q?.trim().toLowerCase() ?? ''
  const data: LogListEntry[] = []
  let after = q.after
  let scanned = 0
  for (;;) {
    const page = await store.listQueryLogs({ ...filter, ...(after ? { afterId: after } : {}) })
    const labels = page.length ? groupLabels(await store.listLabels({ since: new Date(page[page.length - 1]!.time) })) : new Map<string, Label[]>()
    for (const [i, entry] of page.entries()) {
      scanned++
      after = entry.id
      const entryLabels = labels.get(entry.id) ?? []
      if (matches(entry, entryLabels, q.rating, needle)) data.push({ ...withoutPrompt(entry), labels: entryLabels })
      if (data.length === limit) return { data, next: i < page.length - 1 || page.length === PAGE ? entry.id : null }
    }
    if (page.length < PAGE) return { data, next: null }
    if (scanned >= SCAN_LIMIT) return { data, next: after ?? null }
  }
}

function matches(entry: QueryLogEntry, labels: Label[], rating: ListQuery['rating'], needle: string): boolean {
  if (needle && !entry.question.toLowerCase().includes(needle)) return false
  if (!rating) return true
  const current = labels[labels.length - 1]
  if (rating === 'unlabeled') return current === undefined
  return current?.rating === rating
}

function withoutPrompt(entry: QueryLogEntry): Omit<QueryLogEntry, 'prompt'> {
  const { prompt: _prompt, ...rest } = entry
  return rest
}

/** Labels by query id, oldest first (so the last one is the current judgement). */
function groupLabels(labels: Label[]): Map<string, Label[]> {
  const out = new Map<string, Label[]>()
  for (const l of labels) out.set(l.queryId, [...(out.get(l.queryId) ?? []), l])
  return out
}
