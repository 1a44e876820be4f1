import path from 'node:path'
import type { RagtuneConfig } from '../config/schema.js'
import type { Store } from '../spec/store.js'
import { PGliteStore } from './pglite-store.js'

/**
 * The store a config names: a PostgreSQL server when `store.url` is set, else the embedded store
 * under `<dataDir>/db`. Scratch stores (`inMemory`, e.g. eval) are always embedded and in memory:
 * they must never write into a shared server.
 */
export async function openStore(config: RagtuneConfig, dataDir: string, opts: { inMemory?: boolean } = {}): Promise<Store> {
  const { lexical, url, schema, poolSize } = config.store
  if (opts.inMemory) return PGliteStore.open({ lexical })
  if (url) {
    const { PostgresStore } = await import('./postgres-store.js')
    return PostgresStore.open({ url, schema, poolSize, lexical })
  }
  return PGliteStore.open({ dataDir: path.join(dataDir, 'db'), lexical })
}
