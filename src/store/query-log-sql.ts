import { RagtuneError } from '../errors.js'
import type { Label, LabelFilter, QueryLogEntry, QueryLogFilter } from '../spec/query-log.js'
import type { SqlExecutor } from './migrations.js'

/*
 * The query log and labels over any SqlExecutor, so the embedded and the server store share one
 * implementation of them as they share one dialect. Every user value travels as a bind parameter.
 */

const LOG_COLUMNS = 'id, time, question, retrieval, prompt, answer, model, adapter, timings, usage, error, client, extra'
const LABEL_COLUMNS = 'id, query_id, time, rating, correction, category, source, author'

/** One statement, no read first: the log write sits on every query's path. */
const INSERT_LOG_SQL = `
INSERT INTO query_logs (${LOG_COLUMNS})
VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9::jsonb, $10::jsonb, $11::jsonb, $12, $13::jsonb)`

/** Inserts only when the query exists, so a missing one is told apart without a race-prone read. */
const INSERT_LABEL_SQL = `
INSERT INTO labels (${LABEL_COLUMNS})
SELECT $1, id, $3, $4, $5, $6, $7, $8 FROM query_logs WHERE id = $2
RETURNING id`

const PRUNE_SQL = 'WITH gone AS (DELETE FROM query_logs WHERE time < $1 RETURNING 1) SELECT count(*)::int AS n FROM gone'

/** Default page size of listQueryLogs. */
export const DEFAULT_LOG_PAGE = 100

interface LogRow {
  id: string
  time: Date | string
  question: string
  retrieval: QueryLogEntry['retrieval']
  prompt: QueryLogEntry['prompt']
  answer: string | null
  model: string | null
  adapter: string | null
  timings: QueryLogEntry['timings']
  usage: QueryLogEntry['usage']
  error: QueryLogEntry['error']
  client: string | null
  extra: Record<string, unknown> | null
}

interface LabelRow {
  id: string
  query_id: string
  time: Date | string
  rating: 'good' | 'bad' | null
  correction: string | null
  category: string | null
  source: string
  author: string | null
}

/** The query log tables of one database; the owning store checks it is open and migrated first. */
export class QueryLogTables {
  constructor(private readonly db: SqlExecutor) {}

  async append(entry: QueryLogEntry): Promise<void> {
    const time = isoTime(entry.time, 'time')
    requireId(entry.id, 'id')
    try {
      await this.db.query(INSERT_LOG_SQL, [
        entry.id, time, clean(entry.question), json(entry.retrieval), json(entry.prompt), clean(entry.answer), clean(entry.model),
        clean(entry.adapter), json(entry.timings), json(entry.usage), json(entry.error), clean(entry.client ?? null), json(entry.extra ?? null),
      ])
    } catch (err) {
      throw new RagtuneError('STORE_WRITE_FAILED', `could not append query log ${entry.id}: ${(err as Error).message}`, {
        details: { id: entry.id },
        hint: 'query ids must be unique: create them with newQueryId()',
        cause: err,
      })
    }
  }

  async get(id: string): Promise<QueryLogEntry | null> {
    const res = await this.db.query<LogRow>(`SELECT ${LOG_COLUMNS} FROM query_logs WHERE id = $1`, [id])
    return res.rows[0] ? toEntry(res.rows[0]) : null
  }

  async list(filter: QueryLogFilter = {}): Promise<QueryLogEntry[]> {
    const limit = filter.limit ?? DEFAULT_LOG_PAGE
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RagtuneError('STORE_BAD_ARGUMENT', `expected limit to be a positive integer, got ${limit}`, { details: { limit } })
    }
    const where: string[] = []
    const params: unknown[] = []
    const bind = (v: unknown): string => `$${params.push(v)}`
    if (filter.since) where.push(`time >= ${bind(dateParam(filter.since, 'since'))}`)
    if (filter.until) where.push(`time < ${bind(dateParam(filter.until, 'until'))}`)
    if (filter.adapter === null) where.push('adapter IS NULL')
    else if (filter.adapter !== undefined) where.push(`adapter = ${bind(filter.adapter)}`)
    if (filter.hasError !== undefined) where.push(filter.hasError ? 'error IS NOT NULL' : 'error IS NULL')
    if (filter.afterId !== undefined) {
      if (!(await this.exists(filter.afterId))) throw queryNotFound(filter.afterId, 'afterId')
      where.push(`(time, id) < (SELECT time, id FROM query_logs WHERE id = ${bind(filter.afterId)})`)
    }
    const sql = `SELECT ${LOG_COLUMNS} FROM query_logs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT ${bind(limit)}`
    const res = await this.db.query<LogRow>(sql, params)
    return res.rows.map(toEntry)
  }

  async addLabel(label: Label): Promise<void> {
    requireId(label.id, 'id')
    const time = isoTime(label.time, 'time')
    if (label.rating !== null && label.rating !== 'good' && label.rating !== 'bad') {
      throw new RagtuneError('STORE_BAD_ARGUMENT', `expected rating "good", "bad" or null, got ${JSON.stringify(label.rating)}`, { details: { rating: label.rating } })
    }
    const res = await this.db.query<{ id: string }>(INSERT_LABEL_SQL, [
      label.id, label.queryId, time, label.rating, clean(label.correction), clean(label.category), clean(label.source), clean(label.author ?? null),
    ])
    if (res.rows.length === 0) throw queryNotFound(label.queryId, 'queryId')
  }

  async listLabels(filter: LabelFilter = {}): Promise<Label[]> {
    const where: string[] = []
    const params: unknown[] = []
    if (filter.queryId !== undefined) where.push(`query_id = $${params.push(filter.queryId)}`)
    if (filter.since) where.push(`time >= $${params.push(dateParam(filter.since, 'since'))}`)
    const sql = `SELECT ${LABEL_COLUMNS} FROM labels${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY time, id`
    const res = await this.db.query<LabelRow>(sql, params)
    return res.rows.map(toLabel)
  }

  async prune(olderThan: Date): Promise<number> {
    const res = await this.db.query<{ n: number }>(PRUNE_SQL, [dateParam(olderThan, 'olderThan')])
    return res.rows[0]?.n ?? 0
  }

  private async exists(id: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM query_logs WHERE id = $1', [id])).rows.length > 0
  }
}

/** The error every caller (CLI, HTTP, library) shows for an id that is not in the log. */
export function queryNotFound(id: string, field = 'id'): RagtuneError {
  return new RagtuneError('QUERY_NOT_FOUND', `no logged query has id "${id}" (${field})`, {
    details: { id, field },
    hint: 'list logged queries with `ragtune logs`; ids of pruned queries are gone',
  })
}

function toEntry(r: LogRow): QueryLogEntry {
  const entry: QueryLogEntry = {
    id: r.id,
    time: new Date(r.time).toISOString(),
    question: r.question,
    retrieval: r.retrieval,
    prompt: r.prompt,
    answer: r.answer,
    model: r.model,
    adapter: r.adapter,
    timings: r.timings,
    usage: r.usage,
    error: r.error,
  }
  if (r.client !== null) entry.client = r.client
  if (r.extra !== null) entry.extra = r.extra
  return entry
}

function toLabel(r: LabelRow): Label {
  const label: Label = {
    id: r.id,
    queryId: r.query_id,
    time: new Date(r.time).toISOString(),
    rating: r.rating,
    correction: r.correction,
    category: r.category,
    source: r.source,
  }
  if (r.author !== null) label.author = r.author
  return label
}

/** Postgres text and jsonb cannot hold NUL; a log row with U+FFFD beats a lost row. */
function clean<T extends string | null>(s: T): T {
  return (s === null ? s : s.replaceAll('\u0000', '\uFFFD')) as T
}

function json(v: unknown): string | null {
  if (v === null || v === undefined) return null
  return JSON.stringify(v, (_key, x: unknown) => (typeof x === 'string' ? clean(x) : x))
}

function requireId(id: string, field: string): void {
  if (typeof id !== 'string' || id.trim() === '') {
    throw new RagtuneError('STORE_BAD_ARGUMENT', `expected a non-empty ${field}, got ${JSON.stringify(id)}`, { details: { field } })
  }
}

function isoTime(time: string, field: string): string {
  const ms = typeof time === 'string' ? Date.parse(time) : NaN
  if (Number.isNaN(ms)) {
    throw new RagtuneError('STORE_BAD_ARGUMENT', `expected ${field} to be an ISO 8601 date, got ${JSON.stringify(time)}`, {
      details: { field },
      hint: 'use new Date().toISOString()',
    })
  }
  return new Date(ms).toISOString()
}

function dateParam(d: Date, field: string): string {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw new RagtuneError('STORE_BAD_ARGUMENT', `expected ${field} to be a valid Date, got ${String(d)}`, { details: { field } })
  }
  return d.toISOString()
}
