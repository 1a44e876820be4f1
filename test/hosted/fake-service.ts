import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request as the fake service saw it. */
export interface RecordedRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingMessage['headers']
  /** Raw body (multipart uploads stay as sent). */
  body: string
  /** The body parsed as JSON, or undefined. */
  json: unknown
}

/** What a handler answers; `body` objects are sent as JSON. */
export interface FakeResponse {
  status?: number
  headers?: Record<string, string>
  body?: unknown
}

/** A scripted failure served instead of the handler's answer. */
export type Fault = FakeResponse | { hang: true } | { reset: true }

type Handler = (req: RecordedRequest) => FakeResponse | Promise<FakeResponse>

/**
 * A local HTTP server the official clients are pointed at (base URL / host overrides), standing in
 * for a hosted API that cannot be reached from here. Handlers answer with the services' recorded
 * response shapes (test/hosted/recorded); `fail()` queues rate limits, 5xx, hung and reset
 * connections for the next matching requests, so retry and error paths run through the real clients.
 */
export class FakeService {
  readonly requests: RecordedRequest[] = []
  private readonly faults: Array<{ match: RegExp; fault: Fault }> = []

  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(handler: Handler): Promise<FakeService> {
    let self: FakeService | null = null
    const server = createServer((req, res) => {
      void self!.handle(req, res, handler)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    self = new FakeService(server, `http://127.0.0.1:${port}`)
    return self
  }

  /** Serves these faults, in order, to the next requests whose path matches. */
  fail(match: string | RegExp, ...faults: Fault[]): void {
    const re = typeof match === 'string' ? new RegExp(`^${match.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : match
    for (const fault of faults) this.faults.push({ match: re, fault })
  }

  /** Requests to one path (and method, when given). */
  calls(path: string | RegExp, method?: string): RecordedRequest[] {
    return this.requests.filter((r) => (typeof path === 'string' ? r.path === path : path.test(r.path)) && (!method || r.method === method))
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse, handler: Handler): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const url = new URL(req.url ?? '/', 'http://fake')
    let json: unknown
    try {
      json = body ? JSON.parse(body) : undefined
    } catch {
      json = undefined
    }
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, json }
    this.requests.push(recorded)
    const at = this.faults.findIndex((f) => f.match.test(recorded.path))
    const fault = at >= 0 ? this.faults.splice(at, 1)[0]!.fault : null
    if (fault && 'hang' in fault) return // never answer: the client's deadline must fire
    if (fault && 'reset' in fault) {
      req.socket.destroy()
      return
    }
    let out: FakeResponse
    try {
      out = fault ?? (await handler(recorded))
    } catch (err) {
      out = { status: 500, body: { message: `fake service bug: ${(err as Error).message}` } }
    }
    const isText = typeof out.body === 'string'
    res.writeHead(out.status ?? 200, { 'content-type': isText ? 'text/plain' : 'application/json', ...out.headers })
    res.end(out.body === undefined ? '' : isText ? (out.body as string) : JSON.stringify(out.body))
  }
}

/** Reads a recorded response body (test/hosted/recorded/<service>/<name>.json). */
export async function recorded<T = Record<string, unknown>>(service: string, name: string): Promise<T> {
  const { readFile } = await import('node:fs/promises')
  return JSON.parse(await readFile(new URL(`./recorded/${service}/${name}.json`, import.meta.url), 'utf8')) as T
}
