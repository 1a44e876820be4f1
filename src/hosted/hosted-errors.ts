import { RagtuneError } from '../errors.js'

/** Names a hosted service in messages: which service, which key, where. */
export interface ServiceInfo {
  /** "Pinecone", "Cohere", "OpenAI". */
  service: string
  /** Environment variable the key was read from, so a refused key says which variable to fix. */
  keyEnv?: string
  /** Base URL or index host, for "cannot reach" messages. */
  endpoint?: string
}

/** What one failed attempt looked like: enough to decide whether to try again and what to tell the user. */
export type AttemptFailure =
  | { kind: 'status'; status: number; retryAfterMs: number | null; message: string }
  | { kind: 'timeout'; afterMs: number }
  | { kind: 'network'; message: string }
  | { kind: 'aborted' }
  | { kind: 'other'; message: string }

/**
 * Rate limits, server errors, timeouts and dropped connections pass with time; a refused key or a
 * bad request never does, so retrying those only delays the error. 408 and 409 are what the
 * services send for "try again" (request timeout, lock contention).
 */
export function isRetryable(f: AttemptFailure): boolean {
  if (f.kind === 'timeout' || f.kind === 'network') return true
  if (f.kind !== 'status') return false
  return f.status === 408 || f.status === 409 || f.status === 429 || f.status >= 500
}

/**
 * Milliseconds the service asked us to wait: `retry-after-ms` (OpenAI), else `retry-after` in
 * seconds or as an HTTP date (RFC 9110). Null when absent or unreadable.
 */
export function retryAfterMs(headers: Headers, now = Date.now()): number | null {
  const ms = Number(headers.get('retry-after-ms'))
  if (headers.has('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms
  const value = headers.get('retry-after')
  if (value === null || value.trim() === '') return null
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : null
  const date = Date.parse(value)
  return Number.isNaN(date) ? null : Math.max(0, date - now)
}

/** The service's own words from an error body (OpenAI `error.message`, Cohere/Pinecone `message`), else the text. */
export function serviceMessage(body: string): string {
  let text = body.trim()
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: { message?: unknown } | string }
    const inner = typeof parsed.error === 'object' && parsed.error !== null ? parsed.error.message : parsed.error
    const picked = typeof inner === 'string' ? inner : typeof parsed.message === 'string' ? parsed.message : null
    if (picked !== null) text = picked
    else if (typeof parsed === 'string') text = parsed
  } catch {
    // not JSON: keep the text
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

/** Turns the last failure of a call into the error the user sees: what was expected, what came, how to fix it. */
export function hostedError(info: ServiceInfo, operation: string, f: AttemptFailure, attempts: number, opts: { cause?: unknown; notFoundHint?: string } = {}): RagtuneError {
  const where = `${info.service} ${operation}`
  const tries = attempts > 1 ? ` after ${attempts} attempts` : ''
  const details = { service: info.service, operation, attempts, ...(f.kind === 'status' ? { status: f.status } : {}), ...(info.endpoint ? { endpoint: info.endpoint } : {}) }
  const make = (code: string, message: string, hint: string): RagtuneError => new RagtuneError(code, message, { details, hint, cause: opts.cause })
  switch (f.kind) {
    case 'aborted':
      return new RagtuneError('ABORTED', `${where} was aborted`, { details, cause: opts.cause })
    case 'timeout':
      return make('HOSTED_TIMEOUT', `${where}: expected an answer within ${Math.round(f.afterMs / 1000)} s, got none${tries}`, `check ${info.service}'s status page and your network; raise the timeout if the requests are large`)
    case 'network':
      return make('HOSTED_UNREACHABLE', `${where}: cannot reach ${info.endpoint ?? info.service}${tries}: ${f.message}`, 'check the URL or host in the config and the network (proxy, DNS, firewall)')
    case 'other':
      return make('HOSTED_REQUEST_FAILED', `${where} failed: ${f.message}`, `this is likely a bug in how ragtune called ${info.service}; report it with this message`)
    case 'status':
      break
  }
  const said = f.message ? `: ${f.message}` : ''
  if (f.status === 401 || f.status === 403) {
    const key = info.keyEnv ? `the API key in ${info.keyEnv}` : 'the API key'
    return make('HOSTED_AUTH', `${where}: ${info.service} refused ${key} (HTTP ${f.status})${said}`, `set ${info.keyEnv ?? 'the key variable'} to a valid ${info.service} API key with access to this resource`)
  }
  if (f.status === 429) {
    return make('HOSTED_RATE_LIMITED', `${where}: still rate-limited${tries} (HTTP 429)${said}`, `wait and run again, send less at once, or raise your ${info.service} plan's limits`)
  }
  if (f.status === 404) return make('HOSTED_NOT_FOUND', `${where}: not found (HTTP 404)${said}`, opts.notFoundHint ?? 'check the names in the config')
  if (f.status >= 500) return make('HOSTED_UNAVAILABLE', `${where}: ${info.service} failed${tries} (HTTP ${f.status})${said}`, `${info.service} is having trouble; check its status page and run again later`)
  return make('HOSTED_REQUEST_FAILED', `${where}: ${info.service} rejected the request (HTTP ${f.status})${said}`, 'read the message above; the config or the input is likely wrong')
}

/**
 * The key of a hosted service, read from the environment variable the config names (keys never go
 * in config files). Missing is an error before any request, so nothing half-happens.
 */
export function requireApiKey(info: ServiceInfo & { keyEnv: string }, env: NodeJS.ProcessEnv = process.env): string {
  const key = env[info.keyEnv]?.trim()
  if (key) return key
  throw new RagtuneError('HOSTED_NO_KEY', `expected a ${info.service} API key in the environment variable ${info.keyEnv}, got nothing`, {
    details: { service: info.service, keyEnv: info.keyEnv },
    hint: `export ${info.keyEnv}=... (or name another variable with apiKeyEnv in ragtune.config.json)`,
  })
}
