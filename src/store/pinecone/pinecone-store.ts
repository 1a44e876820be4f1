import { createHash } from 'node:crypto'
import { RagtuneError } from '../../errors.js'
import type { ChunkRecord, DocumentRecord, Store, StoreHit, StoreInitOptions } from '../../spec/store.js'
import { requireApiKey } from '../../hosted/hosted-errors.js'
import { checkK, checkQueryVector, validateChunks } from '../store-checks.js'
import type { PineconeVectorsConfig } from './pinecone-config.js'
import { PineconeVectors } from './pinecone-vectors.js'

/** Pinecone vector id of a chunk: a per-document prefix, so one `list` by prefix finds every vector of a document. */
export function vectorId(documentPath: string, chunkId: string): string {
  return `${documentPrefix(documentPath)}${chunkId}`
}

export function documentPrefix(documentPath: string): string {
  return `${createHash('sha256').update(documentPath).digest('hex').slice(0, 16)}#`
}

export interface PineconeStoreOptions {
  /** Everything but dense search stays here: chunks (text and a copy of each vector), manifest, full-text index, logs, registry. */
  local: Store
  vectors: PineconeVectors
  /** Non-fatal problems, e.g. stale vectors that could not be deleted (they are never served). */
  onWarning?: (message: string) => void
}

/** The Store methods the vector side changes; every other one is the local store's, unchanged. */
const OWN = new Set(['init', 'replaceDocument', 'deleteDocument', 'searchDense', 'close'])

/**
 * A Store whose dense search is a Pinecone index. The local store remains the source of truth:
 * Pinecone hits are resolved against it (text, heading path), so a vector without a committed chunk
 * (a crashed write, a stale version) is never served. Writes go vectors first, then the local
 * transaction, then removal of the document's other vectors, so a failure at any point leaves the
 * previous version searchable. The local store keeps a copy of every vector: leaving Pinecone is a
 * config change, not a re-embedding.
 *
 * Built as a proxy so every other Store method (query log, registry, datasets, and whatever the
 * interface gains later) goes to the local store without being listed here.
 */
export function withPineconeVectors(opts: PineconeStoreOptions): Store {
  const own = new PineconeDense(opts)
  return new Proxy(opts.local, {
    get(target, prop) {
      if (typeof prop === 'string' && OWN.has(prop)) {
        const method = own[prop as keyof PineconeDense] as (...args: unknown[]) => unknown
        return method.bind(own)
      }
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
}

class PineconeDense {
  private params: StoreInitOptions | null = null
  private readonly local: Store
  private readonly vectors: PineconeVectors

  constructor(private readonly opts: PineconeStoreOptions) {
    this.local = opts.local
    this.vectors = opts.vectors
  }

  /** The local schema first (it pins width and model), then the index must have the same width. */
  async init(init: StoreInitOptions): Promise<void> {
    await this.local.init(init)
    const { dimension } = await this.vectors.describe()
    if (dimension !== null && dimension !== init.dimensions) {
      throw new RagtuneError('STORE_DIMENSION_MISMATCH', `the Pinecone index holds ${dimension}-d vectors, but ${init.embeddingModel} makes ${init.dimensions}-d ones`, {
        details: { expected: init.dimensions, got: dimension, model: init.embeddingModel },
        hint: `create a Pinecone index with dimension ${init.dimensions} (metric cosine) and set store.vectors.index to it, or configure the embedder the index was built for`,
      })
    }
    this.params = init
  }

  async replaceDocument(doc: DocumentRecord, chunks: ChunkRecord[]): Promise<void> {
    const params = await this.ready()
    validateChunks(doc, chunks, params.dimensions)
    const records = chunks.map((c) => ({ id: vectorId(doc.path, c.id), values: c.embedding, metadata: { documentPath: doc.path, chunkId: c.id, model: params.embeddingModel } }))
    await this.vectors.upsert(records)
    await this.local.replaceDocument(doc, chunks)
    await this.collect(doc.path, new Set(records.map((r) => r.id)))
  }

  async deleteDocument(path: string): Promise<void> {
    await this.local.deleteDocument(path)
    await this.collect(path, new Set())
  }

  async searchDense(embedding: Float32Array, k: number): Promise<StoreHit[]> {
    const params = await this.ready()
    checkK(k)
    checkQueryVector(embedding, params.dimensions, params.embeddingModel)
    if (k === 0) return []
    const matches = await this.vectors.query(embedding, k, { model: { $eq: params.embeddingModel } })
    const chunkIds = matches.map((m) => m.metadata.chunkId ?? m.id.slice(m.id.indexOf('#') + 1))
    const chunks = new Map((await this.local.getChunks({ ids: chunkIds })).map((c) => [c.id, c]))
    const hits: StoreHit[] = []
    matches.forEach((m, i) => {
      const c = chunks.get(chunkIds[i]!)
      if (c) hits.push({ chunkId: c.id, documentPath: c.documentPath, headingPath: c.headingPath, text: c.text, ordinal: c.ordinal, score: m.score })
    })
    // Pinecone does not promise an order among equal scores; the local stores break ties by chunk id.
    return hits.sort((a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : a.chunkId > b.chunkId ? 1 : 0))
  }

  async close(): Promise<void> {
    await this.local.close()
  }

  /** Deletes the document's vectors that are not in `keep`: old versions and leftovers of failed writes. */
  private async collect(path: string, keep: Set<string>): Promise<void> {
    try {
      const stale = (await this.vectors.listIds(documentPrefix(path))).filter((id) => !keep.has(id))
      if (stale.length > 0) await this.vectors.deleteIds(stale)
    } catch (err) {
      // The local write is committed and stale vectors are never served (hits resolve against the
      // local chunks), so this must not fail the indexing run; the next write of the document retries.
      this.opts.onWarning?.(`could not delete old Pinecone vectors of ${path} (they are never served; the next change to the document retries): ${(err as Error).message}`)
    }
  }

  private async ready(): Promise<StoreInitOptions> {
    if (this.params) return this.params
    const stats = await this.local.stats()
    if (stats.dimensions === null || stats.embeddingModel === null) {
      throw new RagtuneError('STORE_NOT_INITIALISED', 'the store has no schema yet: its vector width is unknown', {
        hint: 'call init({ dimensions, embeddingModel }) once after opening a new store',
      })
    }
    this.params = { dimensions: stats.dimensions, embeddingModel: stats.embeddingModel }
    return this.params
  }
}

/**
 * The workspace's way in: reads the key from the configured variable (a clear error when unset),
 * targets the index (one control-plane call without a host) and wraps the local store.
 */
export async function openPineconeStore(local: Store, cfg: PineconeVectorsConfig, opts: { onWarning?: (message: string) => void; env?: NodeJS.ProcessEnv } = {}): Promise<Store> {
  const apiKey = requireApiKey({ service: 'Pinecone', keyEnv: cfg.apiKeyEnv }, opts.env)
  const vectors = await PineconeVectors.connect({ index: cfg.index, namespace: cfg.namespace, apiKey, apiKeyEnv: cfg.apiKeyEnv, ...(cfg.host ? { host: cfg.host } : {}) })
  for (const w of vectors.warnings) opts.onWarning?.(w)
  return withPineconeVectors({ local, vectors, ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) })
}
