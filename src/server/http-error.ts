import type { z } from 'zod'
import { RagtuneError } from '../errors.js'

/** OpenAI's error body, used on every route so one client-side error path handles them all. */
export interface ErrorBody {
  error: { type: string; code: string; message: string; param: string | null }
}

/**
 * An error that knows its HTTP answer. Handlers throw it; the server's error handler renders it.
 * `headers` carries things like Retry-After (503) or Allow (405).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'HttpError'
  }

  body(): ErrorBody {
    return { error: { type: errorType(this.status), code: this.code, message: this.message, param: this.param } }
  }
}

/** OpenAI's `type` values where one exists; clients branch on the status, people read the type. */
function errorType(status: number): string {
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 503) return 'overloaded_error'
  if (status === 504) return 'timeout_error'
  return status < 500 ? 'invalid_request_error' : 'server_error'
}

/** A zod failure as a 400 naming the first bad field, e.g. `messages.0.content`. */
export function invalidBody(error: z.ZodError): HttpError {
  const issue = error.issues[0]!
  const path = issue.path.map(String)
  if (issue.code === 'unrecognized_keys') {
    const param = [...path, issue.keys[0]!].join('.')
    return new HttpError(400, 'unknown_parameter', `unknown parameter "${param}"`, param)
  }
  const param = path.length ? path.join('.') : null
  return new HttpError(400, issue.code === 'invalid_type' ? 'invalid_type' : 'invalid_value', `${param ?? 'the body'}: ${issue.message}`, param)
}

/** Library error codes that are the caller's fault, with the status and the body field they concern. */
const CLIENT_ERRORS: Record<string, { status: number; code?: string }> = {
  QUERY_EMPTY: { status: 400 },
  SCHEMA_INVALID: { status: 400 },
  INVALID_OPTIONS: { status: 400 },
  RETRIEVE_NO_EMBEDDER: { status: 400 },
  FEEDBACK_EMPTY: { status: 400 },
  PROMPT_TOO_LONG: { status: 400, code: 'context_length_exceeded' },
  QUERY_NOT_FOUND: { status: 404 },
}

/**
 * Anything a handler threw, as an HttpError: fastify's own errors (bad JSON, body too large, wrong
 * content type) keep their status; RagtuneErrors map by code; the rest is a 500 that says only what
 * the library said (never a request body or document text).
 */
export function toHttpError(err: unknown, params: Record<string, string> = {}): HttpError {
  if (err instanceof HttpError) return err
  if (err instanceof RagtuneError) {
    const known = CLIENT_ERRORS[err.code]
    const message = err.hint ? err.message.split('\n  fix:')[0]! : err.message
    if (known) return new HttpError(known.status, known.code ?? err.code.toLowerCase(), message, params[err.code] ?? null)
    return new HttpError(500, err.code.toLowerCase(), message)
  }
  const e = err as { statusCode?: number; code?: string; message?: string }
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new HttpError(413, 'request_too_large', `the request body is larger than the server accepts (server.bodyLimitBytes)`)
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new HttpError(415, 'unsupported_media_type', 'expected Content-Type: application/json')
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const json = e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError
    return new HttpError(e.statusCode, json ? 'invalid_json' : 'invalid_request', json ? `the body is not valid JSON: ${e.message ?? ''}`.trim() : (e.message ?? 'invalid request'))
  }
  return new HttpError(500, 'internal', `internal error: ${e?.message ?? String(err)}`)
}
