/**
 * Child process for the crash test: indexes a folder into a persisted store and prints one line
 * per document committed, so the parent can SIGKILL it mid-run.
 */
import { indexFolder } from '../../src/ingest/indexer.js'
import { TransformersEmbeddingModel } from '../../src/models/transformers/transformers-embedding-model.js'
import { PGliteStore } from '../../src/store/pglite-store.js'

const [root, dataDir, modelDir] = process.argv.slice(2) as [string, string, string]
const embedder = await TransformersEmbeddingModel.load({ model: modelDir, offline: true })
const store = await PGliteStore.open({ dataDir })
await store.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
process.stdout.write('ready\n')
let last = 0
await indexFolder({
  root,
  store,
  embedder,
  chunking: { chunkTokens: 48, overlapTokens: 8 },
  include: ['**/*'],
  exclude: [],
  maxFileBytes: 1 << 20,
  batchSize: 4,
  onProgress: (p) => {
    if (p.filesDone !== last) process.stdout.write(`done ${(last = p.filesDone)}\n`)
  },
})
await store.close()
process.stdout.write('finished\n')
