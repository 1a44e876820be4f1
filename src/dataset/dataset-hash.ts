import { createHash } from 'node:crypto'
import type { Store } from '../spec/store.js'
import type { DatasetRecord } from './dataset-record.js'

/**
 * The content hash of a dataset: sha256 over its records as JSON lines, train then eval. The same
 * labels, index, settings and seed give the same bytes and so the same hash, which is how a second
 * identical build is recognised and how an adapter names the exact data it learned from.
 */
export function datasetHash(train: DatasetRecord[], evalRecords: DatasetRecord[]): string {
  const h = createHash('sha256')
  for (const r of train) h.update(JSON.stringify(r) + '\n')
  h.update('--eval--\n')
  for (const r of evalRecords) h.update(JSON.stringify(r) + '\n')
  return h.digest('hex')
}

/**
 * The index version: sha256 over every indexed document's path, content hash and chunk count. It
 * changes exactly when the index's content does, so a dataset's lineage says which state of the
 * documents its contexts came from.
 */
export async function indexFingerprint(store: Store): Promise<{ fingerprint: string; documents: number; chunks: number }> {
  const docs = (await store.listDocuments()).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const h = createHash('sha256')
  let chunks = 0
  for (const d of docs) {
    h.update(`${d.path}\u0000${d.contentHash}\u0000${d.chunkCount}\n`)
    chunks += d.chunkCount
  }
  return { fingerprint: h.digest('hex'), documents: docs.length, chunks }
}
