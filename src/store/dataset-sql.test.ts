import { describeDatasetContract } from './dataset.contract.js'
import { PGliteStore } from './pglite-store.js'

describeDatasetContract('PGlite in memory', () => PGliteStore.open({ lexical: 'tsvector' }))
