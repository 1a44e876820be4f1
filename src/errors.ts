/**
 * The one error type ragtune throws on purpose. `code` is stable for scripts and tests; the message
 * says what was expected, what arrived and how to fix it, so a CLI can print it as is.
 */
export class RagtuneError extends Error {
  readonly code: string
  readonly details: Record<string, unknown>
  readonly hint: string | undefined

  constructor(code: string, message: string, opts: { details?: Record<string, unknown>; hint?: string; cause?: unknown } = {}) {
    super(opts.hint ? `${message}\n  fix: ${opts.hint}` : message, { cause: opts.cause })
    this.name = 'RagtuneError'
    this.code = code
    this.details = opts.details ?? {}
    this.hint = opts.hint
  }
}

/** Throws the signal's reason as an AbortError-coded RagtuneError when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RagtuneError('ABORTED', 'the operation was aborted', { cause: signal.reason })
}
