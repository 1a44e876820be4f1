import { createServer, type Server, type Socket } from 'node:net'
import { PGlite } from '@electric-sql/pglite'
import { pg_textsearch } from '@electric-sql/pglite-pg_textsearch'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket'

/**
 * PGlite (real Postgres with pgvector and pg_textsearch, in WebAssembly) as a Postgres server on a
 * loopback port, through pglite-socket's protocol handler: the `pg`-based store runs its vector SQL
 * against it where no native pgvector is installed. One backend serves every connection, so this
 * shows protocol and SQL behaviour, not a real server's concurrency or LISTEN/NOTIFY.
 */
export interface WirePGlite {
  url: string
  close(): Promise<void>
}

interface Pending {
  handlerId: number
  message: Uint8Array
  onData: (data: Uint8Array) => void
  resolve: (bytes: number) => void
  reject: (err: unknown) => void
}

/**
 * pglite-socket's own queue interleaves connections message by message, so a Parse from one
 * connection can land between another's Parse and Bind ("unnamed prepared statement does not
 * exist" under a pool). This queue hands the single backend to one connection from its first
 * message until a Sync or simple Query ends its batch outside a transaction, as real backends
 * (one per connection) behave.
 */
class BatchQueue {
  private queue: Pending[] = []
  private owner: number | null = null
  private running = false

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject })
      void this.pump()
    })
  }

  clearQueueForHandler(handlerId: number): void {
    for (const p of this.queue.filter((q) => q.handlerId === handlerId)) p.reject(new Error('handler disconnected'))
    this.queue = this.queue.filter((q) => q.handlerId !== handlerId)
  }

  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK')
    this.owner = null
    void this.pump()
  }

  private async pump(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      for (;;) {
        const i = this.owner === null ? 0 : this.queue.findIndex((q) => q.handlerId === this.owner)
        const next = i >= 0 ? this.queue.splice(i, 1)[0] : undefined
        if (!next) return
        let bytes = 0
        try {
          await this.db.runExclusive(() => this.db.execProtocolRawStream(next.message, { onRawData: (d) => ((bytes += d.length), next.onData(d)) }))
        } catch (err) {
          next.reject(err)
          continue
        }
        const type = String.fromCharCode(next.message[0] ?? 0)
        const batchOver = type === 'S' || type === 'Q' || type === 'X' || next.message[0] === 0
        this.owner = batchOver && !this.db.isInTransaction() ? null : next.handlerId
        next.resolve(bytes)
      }
    } finally {
      this.running = false
    }
  }
}

export async function servePGliteOverWire(): Promise<WirePGlite> {
  const db = await PGlite.create({ extensions: { vector, pg_textsearch } })
  // The handler's option type names pglite-socket's private queue class; ours has the same methods.
  const queryQueue = new BatchQueue(db) as unknown as PGLiteSocketHandlerOptions['queryQueue']
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    new PGLiteSocketHandler({ queryQueue, closeOnDetach: true }).attach(socket).catch(() => socket.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as { port: number }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await db.close()
    },
  }
}
