import { afterAll } from 'vitest'
import type { Store } from '../spec/store.js'
import { describeJobRunContract } from './job-run.contract.js'
import { PGliteStore } from './pglite-store.js'

const opened: Store[] = []
afterAll(async () => Promise.all(opened.map((s) => s.close())))

describeJobRunContract('PGlite in memory', async () => {
  const store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
  opened.push(store)
  return store
})
