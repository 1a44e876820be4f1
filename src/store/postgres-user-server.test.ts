import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, describe } from 'vitest'
import type { Store } from '../spec/store.js'
import { describeAdapterRegistryContract } from './adapter-registry.contract.js'
import { describeDatasetContract } from './dataset.contract.js'
import { describeJobRunContract } from './job-run.contract.js'
import { PostgresStore } from './postgres-store.js'
import { describeStoreContract } from './store.contract.js'

// The whole Store contract, dense search included, against YOUR PostgreSQL + pgvector server:
//   npm run test:store -- --url postgres://user@host:5432/db
// Each suite works in a schema of its own (ragtune_contract_<random>_<n>), dropped afterwards; the
// pgvector extension is created in public if it is missing. Skipped unless the URL is given.
const url = process.env.RAGTUNE_TEST_STORE_URL
const run = randomBytes(4).toString('hex')
const schemas: string[] = []
const opened: Store[] = []

async function open(init: boolean): Promise<Store> {
  const schema = `ragtune_contract_${run}_${schemas.length + 1}`
  schemas.push(schema)
  const store = await PostgresStore.open({ url: url!, schema, poolSize: 4 })
  opened.push(store)
  if (init) await store.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
  return store
}

describe.skipIf(!url)(`Postgres store contract against ${url ? new URL(url).host : 'a server given with --url'}`, () => {
  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()))
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`)
    } finally {
      await client.end()
    }
  })
  describeStoreContract('your server, lexical auto', () => open(false))
  describeDatasetContract('your server', () => open(false))
  describeAdapterRegistryContract('your server', () => open(true))
  describeJobRunContract('your server', () => open(true))
})
