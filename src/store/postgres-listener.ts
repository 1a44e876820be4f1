import type pg from 'pg'

export interface PgListenerOptions {
  /** A new, unconnected client each time (the listener reconnects with a fresh one). */
  newClient: () => pg.Client
  /** Channel name; used as a quoted identifier. */
  channel: string
  /** A notification arrived on the channel. */
  onNotify: (payload: string) => void
  /**
   * The connection came back after a loss: notifications sent meanwhile are gone, so the owner
   * should re-read whatever they would have announced.
   */
  onReconnect: () => void
  /** A connection was lost or a reconnect failed; the listener keeps retrying. */
  onError?: (err: Error) => void
  /** First retry delay; doubles up to `maxRetryMs`. */
  retryMs?: number
  maxRetryMs?: number
}

/**
 * LISTEN on a dedicated connection that survives server restarts and dropped connections. NOTIFY is
 * fire-and-forget in Postgres: a listener that was away misses messages for good, which is why a
 * reconnect is reported to the owner (it refreshes) instead of being silent.
 */
export class PgListener {
  private client: pg.Client | null = null
  private closed = false
  private retryTimer: NodeJS.Timeout | null = null
  private delay: number

  private constructor(private readonly opts: PgListenerOptions) {
    this.delay = opts.retryMs ?? 250
  }

  /** Resolves once the first LISTEN is in place, so nothing committed after it is missed. */
  static async start(opts: PgListenerOptions): Promise<PgListener> {
    const listener = new PgListener(opts)
    await listener.connect()
    return listener
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    const client = this.client
    this.client = null
    await client?.end().catch(() => undefined)
  }

  private async connect(): Promise<void> {
    const client = this.opts.newClient()
    client.on('notification', (msg) => {
      if (msg.channel === this.opts.channel) this.opts.onNotify(msg.payload ?? '')
    })
    client.on('error', (err) => this.lost(client, err))
    client.on('end', () => this.lost(client, new Error('the LISTEN connection closed')))
    try {
      await client.connect()
      await client.query(`LISTEN "${this.opts.channel.replaceAll('"', '""')}"`)
    } catch (err) {
      client.removeAllListeners('end')
      await client.end().catch(() => undefined)
      throw err
    }
    if (this.closed) {
      await client.end().catch(() => undefined)
      return
    }
    this.client = client
    this.delay = this.opts.retryMs ?? 250
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.closed || this.client !== client) return
    this.client = null
    client.removeAllListeners('end')
    void client.end().catch(() => undefined)
    this.opts.onError?.(err)
    this.scheduleRetry()
  }

  private scheduleRetry(): void {
    if (this.closed) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.connect().then(
        () => {
          if (!this.closed) this.opts.onReconnect()
        },
        (err: Error) => {
          this.opts.onError?.(err)
          this.delay = Math.min(this.delay * 2, this.opts.maxRetryMs ?? 10_000)
          this.scheduleRetry()
        },
      )
    }, this.delay)
    // A listener alone must not keep a finished process alive.
    this.retryTimer.unref()
  }
}
