import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { RagtuneError } from '../errors.js'

export { isLoopbackHost }
import type { ServerContext, ServerDeps } from './context.js'
import { HttpError } from './http-error.js'
import { createServer, isLoopbackHost, type CreateServerOptions } from './server.js'

export interface StartServerOptions extends CreateServerOptions {
  host: string
  /** 0 picks a free port; `url` tells which. */
  port: number
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8787 (OpenAI clients use `${url}/v1` as their base URL). */
  url: string
  ctx: ServerContext
  /**
   * Graceful stop: refuse new connections, let requests in flight finish (their connections close
   * after the response), and at `deadlineMs` abort what is still running and drop the connections.
   * Resolves when every answer has returned, so its log row is written before the store closes.
   */
  close(opts: { deadlineMs: number }): Promise<void>
}

/** Builds the server over `deps` and starts listening. */
export async function startServer(deps: ServerDeps, opts: StartServerOptions): Promise<RunningServer> {
  const { app, ctx } = createServer(deps, opts)
  try {
    await app.listen({ host: opts.host, port: opts.port })
  } catch (err) {
    await app.close()
    throw new RagtuneError('SERVER_LISTEN_FAILED', `cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`, {
      details: { host: opts.host, port: opts.port },
      hint: 'pick another --port (0 picks a free one) or --host',
      cause: err,
    })
  }
  const addr = app.server.address() as AddressInfo
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
  return {
    url,
    ctx,
    async close({ deadlineMs }) {
      ctx.closing = true
      const closed = app.close()
      let abortedAt: number | null = null
      const deadline = setTimeout(() => {
        abortedAt = performance.now()
        for (const job of ctx.jobs) job.abort(new HttpError(503, 'shutting_down', 'the server is shutting down'))
        app.server.closeAllConnections()
      }, deadlineMs)
      await closed
      // A job aborted at the deadline still writes its log row; give it a moment to do so.
      while (ctx.jobs.size > 0 && (abortedAt === null || performance.now() - abortedAt < 5000)) await sleep(20)
      clearTimeout(deadline)
    },
  }
}
