import { RagtuneError } from '../errors.js'

/** Where CLI commands that talk to a running server find its admin key (never a flag: shells keep history). */
export const SERVER_KEY_ENV = 'RAGTUNE_API_KEY'

/**
 * POSTs to a running `ragtune serve`. PGlite lets one process open a data folder, so while the
 * server runs, registry writes must go through it; this is how the CLI does that. Server errors
 * come back as RagtuneErrors with the server's code and message.
 */
export async function callServer<T>(baseUrl: string, route: string, body: Record<string, unknown>, opts: { signal?: AbortSignal } = {}): Promise<T> {
  const key = process.env[SERVER_KEY_ENV]
  let res: Response
  try {
    res = await fetch(new URL(route, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
      ...(opts.signal ? { signal: opts.signal } : {}),
    })
  } catch (err) {
    throw new RagtuneError('SERVER_UNREACHABLE', `cannot reach ${baseUrl}: ${(err as Error).message}`, {
      details: { url: baseUrl },
      hint: 'check --server (the URL `ragtune serve` printed) and that the server is running',
    })
  }
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = null
  }
  if (res.ok) return parsed as T
  const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error
  const code = error?.code ? error.code.toUpperCase() : `HTTP_${res.status}`
  throw new RagtuneError(code, `${baseUrl} answered ${res.status}: ${error?.message ?? text.slice(0, 200)}`, {
    details: { status: res.status },
    ...(res.status === 401 || res.status === 403 ? { hint: `put an admin key in ${SERVER_KEY_ENV} (ragtune keys create <name> --scope admin)` } : {}),
  })
}
