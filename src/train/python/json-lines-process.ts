import { spawn } from 'node:child_process'
import { RagtuneError } from '../../errors.js'

/**
 * Runs a child process that reports progress as JSON lines on stdout (one object with an `event`
 * field per line) and treats every other stdout line as log text. Kept apart from the Python job so
 * the protocol, the stderr tail and the abort path (SIGTERM, then SIGKILL after a grace period) are
 * testable with any small script.
 */

/** One protocol line: an object with a string `event`. */
export type JsonLineMessage = { event: string } & Record<string, unknown>

export interface JsonLinesProcessOptions {
  command: string
  args: readonly string[]
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
  onMessage?: (message: JsonLineMessage) => void
  /** Stdout lines that are not protocol messages (library prints, warnings). */
  onLog?: (line: string) => void
  /** How long SIGTERM gets before SIGKILL; default 10 s (long enough for a checkpoint write to finish). */
  killGraceMs?: number
}

export interface JsonLinesProcessResult {
  code: number | null
  /** The signal that ended the process, if one did. */
  signal: NodeJS.Signals | null
  /** Last ~8 KB of stderr, where Python tracebacks land. */
  stderrTail: string
  /** Last 50 non-protocol stdout lines. */
  logTail: string[]
}

const STDERR_TAIL_BYTES = 8192
const LOG_TAIL_LINES = 50

/** Parses one stdout line: a protocol message, or null for log text. */
export function parseJsonLine(line: string): JsonLineMessage | null {
  const text = line.trim()
  if (!text.startsWith('{')) return null
  try {
    const value = JSON.parse(text) as unknown
    if (value && typeof value === 'object' && !Array.isArray(value) && typeof (value as { event?: unknown }).event === 'string') return value as JsonLineMessage
  } catch {
    // not JSON: log text that happens to start with a brace
  }
  return null
}

/**
 * Spawns the process and resolves when it exits, whatever its exit code (callers decide what a
 * failure means). Rejects with PROCESS_START_FAILED when it cannot start, and with ABORTED once the
 * process is gone after `signal` fired. A throwing `onMessage` kills the process and rejects with that error.
 */
export function runJsonLinesProcess(options: JsonLinesProcessOptions): Promise<JsonLinesProcessResult> {
  const { signal, killGraceMs = 10_000 } = options
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new RagtuneError('ABORTED', 'the operation was aborted', { cause: signal.reason }))
    const child = spawn(options.command, options.args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env })
    let stdoutRest = ''
    let stderrTail = ''
    const logTail: string[] = []
    let failure: unknown = null
    let killTimer: NodeJS.Timeout | undefined

    const stop = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      killTimer = setTimeout(() => child.kill('SIGKILL'), killGraceMs)
    }
    const onAbort = (): void => stop()
    signal?.addEventListener('abort', onAbort, { once: true })

    const handleLine = (line: string): void => {
      if (failure) return
      const message = parseJsonLine(line)
      try {
        if (message) options.onMessage?.(message)
        else if (line.trim() !== '') {
          logTail.push(line)
          if (logTail.length > LOG_TAIL_LINES) logTail.shift()
          options.onLog?.(line)
        }
      } catch (error) {
        failure = error
        stop()
      }
    }
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (stdoutRest + chunk).split(/\r?\n/)
      stdoutRest = lines.pop() ?? ''
      for (const line of lines) handleLine(line)
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES)
    })
    child.on('error', (error: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort)
      reject(
        new RagtuneError('PROCESS_START_FAILED', `could not start ${options.command}: ${error.message}`, {
          details: { command: options.command, errno: error.code },
          cause: error,
        }),
      )
    })
    child.on('close', (code, exitSignal) => {
      clearTimeout(killTimer)
      signal?.removeEventListener('abort', onAbort)
      if (stdoutRest !== '') handleLine(stdoutRest)
      if (failure) return reject(failure)
      if (signal?.aborted) return reject(new RagtuneError('ABORTED', 'the operation was aborted', { cause: signal.reason, details: { signal: exitSignal, stderrTail } }))
      resolve({ code, signal: exitSignal, stderrTail, logTail })
    })
  })
}
