import type { Store } from './store.js'

/**
 * A store several processes share (the Postgres server store) can tell each of them when another
 * one changed the active adapter, so every `ragtune serve` swaps within moments of a promotion made
 * anywhere. The embedded store has one process by construction and does not need it.
 */
export interface ActiveAdapterEvents {
  /**
   * Calls `listener` after the active adapter changed (in any process, this one included) and after
   * a lost connection came back, when a change may have been missed: the listener re-reads the
   * registry rather than trusting a message. Lasts until the returned stop function or `close()`.
   */
  watchActiveAdapter(listener: () => void, opts?: { onError?: (err: Error) => void }): Promise<() => Promise<void>>
}

export function watchesActiveAdapter(store: Store): store is Store & ActiveAdapterEvents {
  return typeof (store as Partial<ActiveAdapterEvents>).watchActiveAdapter === 'function'
}
