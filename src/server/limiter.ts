import { HttpError } from './http-error.js'

export interface LimiterOptions {
  maxConcurrent: number
  maxQueue: number
}

type Waiter = (release: () => void) => void

/**
 * Admission control for generation: at most `maxConcurrent` answers run, at most `maxQueue` wait,
 * and the rest are refused at once (503 + Retry-After) instead of piling up until every request
 * times out. On a few CPU cores a short queue and a fast refusal serve clients better than a long
 * wait. Waiting requests leave the queue when their signal fires (client gone, deadline).
 */
export class ConcurrencyLimiter {
  private running = 0
  private readonly waiting: Waiter[] = []
  /** Moving average of how long a slot is held, for Retry-After. */
  private avgHoldMs = 1000

  constructor(private readonly opts: LimiterOptions) {}

  /** Answers being generated now. */
  get active(): number {
    return this.running
  }

  /** Answers waiting for a slot. */
  get queued(): number {
    return this.waiting.length
  }

  /** Resolves with the slot's release function; throws a 503 HttpError when the queue is full. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.running < this.opts.maxConcurrent) return Promise.resolve(this.grant())
    if (this.waiting.length >= this.opts.maxQueue) {
      const retryAfter = this.retryAfterSeconds()
      return Promise.reject(
        new HttpError(503, 'server_busy', `the server is busy: ${this.running} answer(s) running and ${this.waiting.length} waiting; retry in ${retryAfter}s`, null, {
          'retry-after': String(retryAfter),
        }),
      )
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiting.indexOf(waiter)
        if (i >= 0) this.waiting.splice(i, 1)
        reject(signal!.reason)
      }
      const waiter: Waiter = (release) => {
        signal?.removeEventListener('abort', onAbort)
        resolve(release)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(waiter)
    })
  }

  /** Seconds until a slot is likely free: the queue ahead times the average answer, spread over the slots. */
  retryAfterSeconds(): number {
    const ahead = this.running + this.waiting.length
    return Math.min(60, Math.max(1, Math.ceil((this.avgHoldMs * ahead) / this.opts.maxConcurrent / 1000)))
  }

  private grant(): () => void {
    this.running++
    const started = performance.now()
    let released = false
    return () => {
      if (released) return
      released = true
      this.avgHoldMs = 0.8 * this.avgHoldMs + 0.2 * (performance.now() - started)
      this.running--
      this.waiting.shift()?.(this.grant())
    }
  }
}
