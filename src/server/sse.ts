import { PassThrough } from 'node:stream'
import type { FastifyReply } from 'fastify'

/**
 * A server-sent-events body that fastify sends like any stream, so its hooks (request log, metrics,
 * CORS headers) see streamed responses too. Writes after the client left are dropped.
 */
export class SseStream {
  readonly stream = new PassThrough()

  /** `event: <name>` (omitted when null, as OpenAI streams do) and one `data:` line of JSON or text. */
  send(event: string | null, data: unknown): void {
    if (this.stream.destroyed || this.stream.writableEnded) return
    const payload = typeof data === 'string' ? data : JSON.stringify(data)
    this.stream.write(`${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`)
  }

  end(): void {
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end()
  }
}

/**
 * Streams an answer once it has something to say. Until `ready` (the sources are known) nothing is
 * sent, so a failure before that (bad schema, busy server, empty index) is a plain JSON error with
 * its status code; afterwards `finish` writes the closing events and ends the stream.
 */
export async function streamOnceReady<T>(
  reply: FastifyReply,
  sse: SseStream,
  ready: Promise<void>,
  run: Promise<T>,
  finish: (outcome: { ok: true; value: T } | { ok: false; error: unknown }) => void,
): Promise<FastifyReply> {
  await Promise.race([ready, run])
  void reply
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('x-accel-buffering', 'no')
    .send(sse.stream)
  void run
    .then(
      (value) => finish({ ok: true, value }),
      (error: unknown) => finish({ ok: false, error }),
    )
    .catch(() => undefined)
    .finally(() => sse.end())
  return reply
}
