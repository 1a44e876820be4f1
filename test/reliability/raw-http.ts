import net from 'node:net'

export interface RawResponse {
  /** The status code, or null when the server closed the connection without answering. */
  status: number | null
  headers: string
  body: string
}

/**
 * Sends bytes as they are over a TCP socket: fetch refuses (or repairs) malformed requests, and
 * those are exactly what a hostile client sends. Reads until the server closes or `timeoutMs`.
 */
export function rawRequest(baseUrl: string, raw: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  const u = new URL(baseUrl)
  return new Promise((resolve) => {
    const socket = net.connect(Number(u.port), u.hostname)
    const parts: Buffer[] = []
    const done = (): void => {
      const text = Buffer.concat(parts).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      const head = split < 0 ? text : text.slice(0, split)
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]
      resolve({ status: status ? Number(status) : null, headers: head, body: split < 0 ? '' : text.slice(split + 4) })
    }
    socket.on('data', (d: Buffer) => parts.push(d))
    socket.on('close', done)
    socket.on('error', () => socket.destroy())
    socket.setTimeout(timeoutMs, () => socket.destroy())
    socket.write(raw)
  })
}

/** A request line and headers with `Connection: close`, so the server ends the exchange. */
export function rawGet(path: string, headers: Record<string, string> = {}): string {
  const lines = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
  return lines.join('\r\n') + '\r\n\r\n'
}
