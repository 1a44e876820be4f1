import { readFile } from 'node:fs/promises'
import { post } from '../helpers/serve.js'
import { seededRandom } from '../../src/models/seeded-random.js'

/**
 * `npm run test:stress` sets RAGTUNE_STRESS=1: the same reliability tests run longer (more
 * rounds, more clients' time, more fuzz cases). `npm test` runs the short versions.
 */
export const STRESS = process.env.RAGTUNE_STRESS === '1'

/** The short value under `npm test`, the long one under `npm run test:stress`. */
export function scaled<T>(short: T, stress: T): T {
  return STRESS ? stress : short
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (Linux); null when unreadable. */
export async function rssBytes(pid: number): Promise<number | null> {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : null
  } catch {
    return null
  }
}

/** Nearest-rank percentile of unsorted numbers (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

export function median(values: readonly number[]): number {
  return percentile(values, 50)
}

/** Seeded PRNG (the project's one mulberry32), so a failing fuzz case can be replayed from its seed. */
export const prng: (seed: number) => () => number = seededRandom

export function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256)
  return out
}

/** What one client request ended as: the status, and the query id when the answer was fully received. */
export interface Outcome {
  kind: 'answer' | 'answer-stream' | 'chat' | 'chat-stream'
  status: number
  /** Set only when the whole answer reached the client and it does not say the log write failed. */
  ackedQueryId: string | null
  /** An error event inside a 200 stream (the status was sent before the failure). */
  streamError: string | null
  ms: number
}

const KINDS: Outcome['kind'][] = ['answer', 'answer-stream', 'chat', 'chat-stream']

/**
 * One question through one of the four answer shapes (JSON and SSE on /v1/answer and
 * /v1/chat/completions), read to the end. An answer counts as acknowledged only when the client
 * has all of it: the JSON body, the SSE `done` event, or the chat stream's `[DONE]`.
 */
export async function ask(url: string, key: string, question: string, n: number, signal?: AbortSignal): Promise<Outcome> {
  const kind = KINDS[n % KINDS.length]!
  const t0 = performance.now()
  const stream = kind.endsWith('-stream')
  const res = kind.startsWith('answer')
    ? await post(`${url}/v1/answer`, { question, stream, maxTokens: 8 }, key, signal ? { signal } : {})
    : await post(`${url}/v1/chat/completions`, { model: 'ragtune', messages: [{ role: 'user', content: question }], stream, max_tokens: 8 }, key, signal ? { signal } : {})
  const text = await res.text()
  const ms = performance.now() - t0
  if (res.status !== 200) return { kind, status: res.status, ackedQueryId: null, streamError: null, ms }
  const streamError = stream ? (/^data: (\{"error".*)$/m.exec(text)?.[1] ?? null) : null
  const headerId = res.headers.get('x-ragtune-query-id')
  let acked: string | null = null
  if (kind === 'answer') {
    const body = JSON.parse(text) as { queryId: string; warnings: string[] }
    if (!body.warnings.some((w) => w.includes('not logged'))) acked = body.queryId
  } else if (kind === 'chat') {
    const body = JSON.parse(text) as { id: string; ragtune: { queryId: string; warnings: string[] } }
    if (!body.ragtune.warnings.some((w) => w.includes('not logged'))) acked = body.ragtune.queryId
  } else if (kind === 'answer-stream') {
    const done = /event: done\ndata: (.*)\n/.exec(text)
    if (done) {
      const body = JSON.parse(done[1]!) as { queryId: string; warnings: string[] }
      if (!body.warnings.some((w) => w.includes('not logged'))) acked = body.queryId
    }
  } else if (text.includes('data: [DONE]') && !text.includes('not logged')) {
    acked = headerId
  }
  return { kind, status: res.status, ackedQueryId: acked, streamError, ms }
}
