import { getApiKey } from './api-key'

/**
 * A failed request, with the server's own words: every route answers errors in OpenAI's shape
 * (`{error: {code, message}}`), and the message says what to fix, so the UI shows it as is.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export interface ApiInit {
  method?: 'GET' | 'POST'
  body?: unknown
  signal?: AbortSignal
}

/** JSON in, JSON out, with the stored key as `Authorization: Bearer` (what src/server/auth reads). */
export async function apiFetch<T>(path: string, init: ApiInit = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const key = getApiKey()
  if (key) headers.authorization = `Bearer ${key}`
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    })
  } catch (err) {
    if (init.signal?.aborted) throw err
    throw new ApiError(0, 'network', `the server did not answer (${(err as Error).message}); is \`ragtune serve\` running?`)
  }
  const text = await res.text()
  let body: unknown = null
  try {
    body = text ? JSON.parse(text) : null
  } catch {
    body = null
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } } | null)?.error
    throw new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? `${res.status} ${res.statusText}`)
  }
  return body as T
}

/** `?a=1&b=x` from the set values only, so an empty filter is simply left out. */
export function queryString(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}
