import { afterAll } from 'vitest'
import type { Store } from '../spec/store.js'
import { servePGliteOverWire, type WirePGlite } from '../../test/helpers/pglite-wire.js'
import { describeAdapterRegistryContract } from './adapter-registry.contract.js'
import { describeDatasetContract } from './dataset.contract.js'
import { describeJobRunContract } from './job-run.contract.js'
import { PostgresStore, type PostgresStoreOptions } from './postgres-store.js'
import { describeStoreContract } from './store.contract.js'

// The whole Store contract, vectors included, through `pg` and the Postgres wire protocol. Debian
// ships no pgvector for its PostgreSQL, so the server here is PGlite (pgvector and pg_textsearch
// compiled in) behind pglite-socket; postgres-server.test.ts covers a real PostgreSQL server.
const servers = new Set<WirePGlite>()
afterAll(async () => {
  for (const s of servers) await s.close()
})

/** A store on a PGlite server of its own; closing the store stops that server (each holds a few hundred MB). */
async function open(opts: Omit<PostgresStoreOptions, 'url'> = {}): Promise<PostgresStore> {
  const server = await servePGliteOverWire()
  servers.add(server)
  const store = await PostgresStore.open({ url: server.url, poolSize: 4, ...opts })
  const close = store.close.bind(store)
  store.close = async () => {
    await close()
    servers.delete(server)
    await server.close()
  }
  return store
}

async function initialised(): Promise<Store> {
  const store = await open({ lexical: 'tsvector' })
  await store.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
  return store
}

describeStoreContract('Postgres over the wire (PGlite server), BM25', () => open({ lexical: 'bm25' }))
describeStoreContract('Postgres over the wire (PGlite server), tsvector', () => open({ lexical: 'tsvector' }))
describeDatasetContract('Postgres over the wire (PGlite server)', () => open({ lexical: 'tsvector' }))
describeAdapterRegistryContract('Postgres over the wire (PGlite server)', initialised)
describeJobRunContract('Postgres over the wire (PGlite server)', initialised)
