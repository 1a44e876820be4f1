import { RagtuneError } from '../errors.js'
import type { ChunkRecord, DocumentRecord } from '../spec/store.js'

/** k is a count of results; a fraction or a negative is a caller bug worth a clear error. */
export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 0) {
    throw new RagtuneError('STORE_BAD_ARGUMENT', `expected k to be a non-negative integer, got ${k}`, { details: { k } })
  }
}

/** Cheap checks that turn caller bugs into clear errors before anything is written. */
export function validateChunks(doc: DocumentRecord, chunks: readonly ChunkRecord[], dimensions: number): void {
  const bad = (message: string, details: Record<string, unknown>, hint: string): never => {
    throw new RagtuneError('STORE_BAD_CHUNK', `${message} (document ${doc.path})`, { details: { path: doc.path, ...details }, hint })
  }
  if (doc.chunkCount !== chunks.length) {
    bad(`the manifest row says ${doc.chunkCount} chunks but ${chunks.length} were given`, { chunkCount: doc.chunkCount, given: chunks.length }, 'set chunkCount to chunks.length')
  }
  for (const c of chunks) {
    if (c.documentPath !== doc.path) bad(`chunk ${c.id} belongs to ${c.documentPath}`, { chunkId: c.id }, 'pass only the chunks of this document')
    if (c.embedding.length !== dimensions) {
      bad(`chunk ${c.id} has a ${c.embedding.length}-d embedding, the store holds ${dimensions}-d vectors`, { chunkId: c.id }, 'embed with the model the store was initialised with')
    }
    if (c.text.includes('\u0000') || c.headingPath.some((h) => h.includes('\u0000'))) {
      bad(`chunk ${c.id} contains a NUL character, which Postgres text cannot hold`, { chunkId: c.id }, 'strip \\u0000 from loaded text')
    }
  }
}


/** A query vector from another model would return confident nonsense; refuse it instead. */
export function checkQueryVector(embedding: Float32Array, dimensions: number, model: string): void {
  if (embedding.length === dimensions) return
  throw new RagtuneError('STORE_DIMENSION_MISMATCH', `expected a query vector of ${dimensions} dimensions, got ${embedding.length}`, {
    details: { expected: dimensions, got: embedding.length, model },
    hint: `embed the query with ${model}, the model this store was indexed with`,
  })
}
