import { RagtuneError } from '../errors.js'
import { hostedError, isRetryable, retryAfterMs, serviceMessage, type AttemptFailure, type ServiceInfo } from './hosted-errors.js'
import { runAttempt, type AttemptContext } from './hosted-fetch.js'

/** How hard to try. The defaults suit interactive calls; long jobs pass their own. */
export interface RetryPolicy {
  /** Tries after the first one (default 4: five attempts in all). */
  retries: number
  /** First backoff (default 500 ms); doubles each retry, with jitter, up to `maxDelayMs`. */
  baseDelayMs: number
  maxDelayMs: number
  /** A Retry-After longer than this (default 60 s) ends the call with the rate-limit error instead of blocking. */
  maxRetryAfterMs: number
  /** Deadline of one attempt (default 60 s); a timed-out attempt is retried. */
  timeoutMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 4, baseDelayMs: 500, maxDelayMs: 20_000, maxRetryAfterMs: 60_000, timeoutMs: 60_000 }

export interface HostedCallOptions {
  service: ServiceInfo
  /** What is being done, for messages: "query", "rerank", "upload training file". */
  operation: string
  signal?: AbortSignal
  policy?: Partial<RetryPolicy>
  /** What to do about a 404 on this operation (e.g. "create the index first"). */
  notFoundHint?: string
  /** Waits between attempts; tests pass one that records the delays instead of sleeping. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Called before each retry, e.g. to log "rate-limited, retrying in 2 s". */
  onRetry?: (info: { attempt: number; delayMs: number; failure: AttemptFailure }) => void
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number
}

/**
 * The one retry policy of every hosted service ragtune talks to (Pinecone, Cohere, OpenAI): their
 * clients' own retries are switched off and their requests routed through `hostedFetch`, so a rate
 * limit, a flaky 503 or a hung connection is handled the same way everywhere: Retry-After is honoured,
 * otherwise exponential backoff with jitter; keys and bad requests fail at once with a message
 * that says what to fix; the caller's signal stops it between and during attempts.
 * `fn` must be safe to run again (each attempt gets a fresh request body).
 */
export async function callHosted<T>(opts: HostedCallOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...opts.policy }
  const sleep = opts.sleep ?? abortableSleep
  const random = opts.random ?? Math.random
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw hostedError(opts.service, opts.operation, { kind: 'aborted' }, attempt, { cause: opts.signal.reason })
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(new RagtuneError('HOSTED_TIMEOUT', 'attempt deadline passed')), policy.timeoutMs)
    const ctx: AttemptContext = { signal: opts.signal ? AbortSignal.any([opts.signal, deadline.signal]) : deadline.signal, failed: null }
    let failure: AttemptFailure
    let cause: unknown
    try {
      return await runAttempt(ctx, () => fn(ctx.signal))
    } catch (err) {
      cause = err
      failure = classify(err, ctx, opts.signal, deadline.signal, policy.timeoutMs)
      // Our own errors (argument checks inside fn) are already what the user should see.
      if (failure.kind === 'other' && err instanceof RagtuneError) throw err
    } finally {
      clearTimeout(timer)
    }
    const attempts = attempt + 1
    if (failure.kind === 'aborted' || !isRetryable(failure) || attempt >= policy.retries) {
      throw hostedError(opts.service, opts.operation, failure, attempts, { cause, ...(opts.notFoundHint ? { notFoundHint: opts.notFoundHint } : {}) })
    }
    const asked = failure.kind === 'status' ? failure.retryAfterMs : null
    if (asked !== null && asked > policy.maxRetryAfterMs) {
      const err = hostedError(opts.service, opts.operation, failure, attempts, { cause })
      throw new RagtuneError(err.code, `${err.message.split('\n')[0]}; the service asked to wait ${Math.ceil(asked / 1000)} s`, { details: { ...err.details, retryAfterMs: asked }, hint: err.hint ?? '', cause })
    }
    const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt) * (0.5 + 0.5 * random())
    const delayMs = Math.round(asked ?? backoff)
    opts.onRetry?.({ attempt: attempts, delayMs, failure })
    try {
      await sleep(delayMs, opts.signal)
    } catch (err) {
      throw hostedError(opts.service, opts.operation, { kind: 'aborted' }, attempts, { cause: err })
    }
  }
}

function classify(err: unknown, ctx: AttemptContext, caller: AbortSignal | undefined, deadline: AbortSignal, timeoutMs: number): AttemptFailure {
  if (caller?.aborted) return { kind: 'aborted' }
  if (deadline.aborted) return { kind: 'timeout', afterMs: timeoutMs }
  if (ctx.failed) return { kind: 'status', status: ctx.failed.status, retryAfterMs: retryAfterMs(ctx.failed.headers), message: serviceMessage(ctx.failed.body) }
  const e = err as { status?: unknown; message?: unknown; name?: unknown; cause?: unknown }
  const message = typeof e?.message === 'string' ? e.message : String(err)
  if (typeof e?.status === 'number' && e.status >= 400) return { kind: 'status', status: e.status, retryAfterMs: null, message }
  if (isNetworkError(err)) return { kind: 'network', message: networkMessage(err) }
  return { kind: 'other', message }
}

/** fetch's "fetch failed" (undici), connection resets and the clients' wrappers around them. */
function isNetworkError(err: unknown): boolean {
  for (let e = err as { message?: unknown; name?: unknown; code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    const text = `${String(e.name ?? '')} ${String(e.code ?? '')} ${String(e.message ?? '')}`
    if (/fetch failed|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EPIPE|socket hang up|other side closed|UND_ERR|Connection error|ConnectionError/i.test(text)) return true
  }
  return false
}

/** The innermost cause says what happened ("connect ECONNREFUSED 127.0.0.1:9"); the wrappers only say "fetch failed". */
function networkMessage(err: unknown): string {
  let e = err as { message?: unknown; cause?: unknown }
  for (let depth = 0; e?.cause && depth < 5; depth++) e = e.cause as typeof e
  return typeof e?.message === 'string' ? e.message : String(err)
}

/** Resolves after `ms`; rejects with the signal's reason as soon as it is aborted (at once if it already is). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
