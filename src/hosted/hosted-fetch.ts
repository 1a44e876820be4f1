import { AsyncLocalStorage } from 'node:async_hooks'

/** The failed response an attempt saw, read by callHosted to classify the failure. */
export interface FailedResponse {
  status: number
  headers: Headers
  body: string
}

/** One attempt of a hosted call: its deadline-and-cancel signal and the last failed response. */
export interface AttemptContext {
  signal: AbortSignal
  failed: FailedResponse | null
}

const current = new AsyncLocalStorage<AttemptContext>()

/** Runs `fn` as one attempt: every request the official clients make inside it goes through `hostedFetch` with this context. */
export function runAttempt<T>(ctx: AttemptContext, fn: () => Promise<T>): Promise<T> {
  return current.run(ctx, fn)
}

/**
 * The fetch handed to the official clients (Pinecone's `fetchApi`, Cohere's and OpenAI's `fetch`).
 * Each client maps errors its own way and some drop the response headers, and Pinecone's client
 * takes no AbortSignal at all; routing their requests through here gives one view of every service:
 * the attempt's signal (caller's cancel + per-attempt deadline) is joined to each request, and a
 * failed response's status, headers (Retry-After) and body are recorded for the retry policy.
 * Outside an attempt it is plain fetch.
 */
export const hostedFetch: typeof fetch = async (input, init) => {
  const ctx = current.getStore()
  if (!ctx) return fetch(input, init)
  const signal = init?.signal ? AbortSignal.any([init.signal, ctx.signal]) : ctx.signal
  const res = await fetch(input, { ...init, signal })
  if (!res.ok) ctx.failed = { status: res.status, headers: res.headers, body: await res.clone().text().catch(() => '') }
  return res
}
