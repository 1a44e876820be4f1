import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { RagtuneError, throwIfAborted } from '../errors.js'
import type { RetrievalResult } from '../retrieve/retrieve.js'
import type { LoggedRetrieval, QueryLogEntry } from '../spec/query-log.js'
import type { Store } from '../spec/store.js'
import { ulid } from './ulid.js'

/** A query id: a ULID, so the log sorts by time and pages by id without a second counter. */
export function newQueryId(): string {
  return ulid()
}

/** What a caller knows about a query; the id and the time are filled in when missing. */
export type QueryLogInput = Omit<QueryLogEntry, 'id' | 'time'> & { id?: string; time?: string }

export interface LogQueryOptions {
  /** `observe.logPrompts`: false stores `prompt: null` (prompts hold whole retrieved chunks). Default true. */
  logPrompts?: boolean
}

export interface LogQueryResult {
  /** The id written, or null when the write failed (see warnings). */
  id: string | null
  warnings: string[]
}

/**
 * Writes one query to the log for answer() and the server. A failed log write never fails the
 * answer the user already has: it comes back as a warning. Pass an `id` made with newQueryId() up
 * front when the caller must hand it out before the answer is complete (streaming).
 */
export async function logQuery(store: Store, input: QueryLogInput, opts: LogQueryOptions = {}): Promise<LogQueryResult> {
  const entry: QueryLogEntry = {
    ...input,
    id: input.id ?? newQueryId(),
    time: input.time ?? new Date().toISOString(),
    prompt: opts.logPrompts === false ? null : input.prompt,
  }
  try {
    await store.appendQueryLog(entry)
    return { id: entry.id, warnings: [] }
  } catch (err) {
    return { id: null, warnings: [`the query was not logged: ${(err as Error).message}`] }
  }
}

/** The log's view of a retrieval: ids, places and every stage's score, without the chunk texts. */
export function retrievalForLog(result: RetrievalResult): LoggedRetrieval {
  return {
    mode: result.mode,
    hits: result.hits.map((h) => ({ rank: h.rank, chunkId: h.chunkId, documentPath: h.documentPath, headingPath: h.headingPath, scores: h.scores })),
    embeddingModel: result.embeddingModel,
    rerankerModel: result.rerankerModel,
    timings: result.timings,
  }
}

/** A thrown value as the log's `error`: a RagtuneError keeps its code, anything else is INTERNAL. */
export function errorForLog(err: unknown): { code: string; message: string } {
  if (err instanceof RagtuneError) return { code: err.code, message: err.message }
  if (err instanceof Error) return { code: err.name === 'AbortError' ? 'ABORTED' : 'INTERNAL', message: err.message }
  return { code: 'INTERNAL', message: String(err) }
}

export interface ExportLogsOptions {
  out: Writable
  /** Only queries logged at or after this time. */
  since?: Date
  /** Rows read per store call; default 500. */
  pageSize?: number
  signal?: AbortSignal
}

/**
 * Streams the log as JSON Lines, one QueryLogEntry per line, newest first, page by page so memory
 * stays flat however long the log is; the writer's backpressure is respected. Each line is exactly
 * what appendQueryLog takes, so an export can be loaded into another store. Returns the line count.
 */
export async function exportLogsJsonl(store: Store, opts: ExportLogsOptions): Promise<number> {
  const limit = opts.pageSize ?? 500
  let afterId: string | undefined
  let count = 0
  for (;;) {
    throwIfAborted(opts.signal)
    const page = await store.listQueryLogs({ limit, ...(opts.since ? { since: opts.since } : {}), ...(afterId ? { afterId } : {}) })
    if (page.length === 0) break
    const chunk = page.map((e) => JSON.stringify(e)).join('\n') + '\n'
    if (!opts.out.write(chunk)) await once(opts.out, 'drain', opts.signal ? { signal: opts.signal } : {})
    count += page.length
    if (page.length < limit) break
    afterId = page[page.length - 1]!.id
  }
  return count
}

export interface RetentionResult {
  /** Queries deleted (their labels went with them). */
  deleted: number
  /** Queries logged before this were deleted; null when retention is off. */
  cutoff: string | null
}

/**
 * Applies `observe.retentionDays`: deletes queries (and their labels) older than that many days.
 * null keeps everything, the default, since the log is what future training data is made of.
 */
export async function applyRetention(store: Store, opts: { days: number | null; now?: Date }): Promise<RetentionResult> {
  if (opts.days === null) return { deleted: 0, cutoff: null }
  if (!(opts.days > 0)) {
    throw new RagtuneError('USAGE', `expected retention days to be a positive number, got ${opts.days}`, { hint: 'set observe.retentionDays to null to keep everything' })
  }
  const cutoff = new Date((opts.now ?? new Date()).getTime() - opts.days * 86_400_000)
  return { deleted: await store.pruneQueryLogs(cutoff), cutoff: cutoff.toISOString() }
}
