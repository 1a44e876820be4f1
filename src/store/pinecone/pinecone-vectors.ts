import { Pinecone, type Index } from '@pinecone-database/pinecone'
import { RagtuneError } from '../../errors.js'
import { callHosted, type HostedCallOptions, type RetryPolicy } from '../../hosted/hosted-call.js'
import type { ServiceInfo } from '../../hosted/hosted-errors.js'
import { hostedFetch } from '../../hosted/hosted-fetch.js'

/** What ragtune stores with each vector: enough to find its chunk and to never mix models. */
export interface VectorMetadata {
  [key: string]: string
  documentPath: string
  chunkId: string
  /** Embedding model id: queries filter on it, so two models of one width sharing a namespace never mix. */
  model: string
}

export interface VectorMatch {
  id: string
  score: number
  metadata: Partial<VectorMetadata>
}

export interface PineconeVectorsOptions {
  index: string
  /** "" = the index's default namespace. */
  namespace?: string
  apiKey: string
  /** The variable the key came from, named when Pinecone refuses it. */
  apiKeyEnv?: string
  /** Index host; without it, one describe_index call on the control plane finds it. */
  host?: string
  /** Control plane URL (default https://api.pinecone.io); Pinecone Local and tests point it elsewhere. */
  controllerHostUrl?: string
  policy?: Partial<RetryPolicy>
  /** Waits between retries (tests record them). */
  sleep?: HostedCallOptions['sleep']
}

/** Pinecone's documented per-request limits: 1,000 ids per delete; upserts of ~100 vectors stay under 2 MB at 1,024 dimensions. */
const UPSERT_BATCH = 100
const DELETE_BATCH = 1000
export const MAX_TOP_K = 10_000

/**
 * The few data-plane calls the store needs, through the official client with its own retries off:
 * every call goes through callHosted (one retry policy, Retry-After honoured, errors that name the
 * key variable) and hostedFetch (the official client takes no AbortSignal; this joins one).
 */
export class PineconeVectors {
  readonly warnings: string[] = []
  private readonly info: ServiceInfo

  private constructor(private readonly opts: PineconeVectorsOptions, private readonly index: Index<VectorMetadata>, host: string) {
    this.info = { service: 'Pinecone', endpoint: host, ...(opts.apiKeyEnv ? { keyEnv: opts.apiKeyEnv } : {}) }
  }

  /**
   * Targets the index. Without a host, the control plane is asked for it once (and for the metric:
   * euclidean scores are distances, which ragtune's "higher is better" scores cannot hold).
   */
  static async connect(opts: PineconeVectorsOptions & { signal?: AbortSignal }): Promise<PineconeVectors> {
    const client = new Pinecone({
      apiKey: opts.apiKey,
      maxRetries: 0,
      fetchApi: hostedFetch,
      sourceTag: 'ragtune',
      ...(opts.controllerHostUrl ? { controllerHostUrl: opts.controllerHostUrl } : {}),
    })
    const warnings: string[] = []
    let host = opts.host
    if (!host) {
      const info: ServiceInfo = { service: 'Pinecone', endpoint: opts.controllerHostUrl ?? 'https://api.pinecone.io', ...(opts.apiKeyEnv ? { keyEnv: opts.apiKeyEnv } : {}) }
      const model = await callHosted(
        { service: info, operation: `describe index "${opts.index}"`, notFoundHint: `create a serverless index named "${opts.index}" with the embedder's dimension (metric cosine), or fix store.vectors.index`, ...common(opts) },
        () => client.describeIndex(opts.index),
      )
      if (model.metric === 'euclidean') {
        throw new RagtuneError('PINECONE_METRIC', `Pinecone index "${opts.index}" uses the euclidean metric; ragtune expects cosine (or dotproduct on normalised vectors)`, {
          details: { index: opts.index, metric: model.metric },
          hint: 'create the index with metric "cosine" and index into it',
        })
      }
      if (model.metric === 'dotproduct') warnings.push(`Pinecone index "${opts.index}" uses dotproduct: scores equal cosine only for normalised embeddings (bge models normalise)`)
      host = model.host
    }
    const index = client.index<VectorMetadata>({ name: opts.index, host, namespace: opts.namespace ?? '' })
    const vectors = new PineconeVectors(opts, index, host)
    vectors.warnings.push(...warnings)
    return vectors
  }

  /** The index's width and how many vectors this namespace holds. */
  async describe(signal?: AbortSignal): Promise<{ dimension: number | null; namespaceVectors: number }> {
    const stats = await this.call('describe index stats', signal, () => this.index.describeIndexStats())
    const ns = this.opts.namespace ?? ''
    return { dimension: stats.dimension ?? null, namespaceVectors: stats.namespaces?.[ns === '' ? '__default__' : ns]?.recordCount ?? stats.namespaces?.[ns]?.recordCount ?? 0 }
  }

  async upsert(records: Array<{ id: string; values: Float32Array; metadata: VectorMetadata }>, signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < records.length; i += UPSERT_BATCH) {
      const batch = records.slice(i, i + UPSERT_BATCH).map((r) => ({ id: r.id, values: Array.from(r.values), metadata: r.metadata }))
      await this.call('upsert', signal, () => this.index.upsert({ records: batch }))
    }
  }

  /** Best first, as Pinecone ranks them; `filter` uses Pinecone's metadata filter language. */
  async query(vector: Float32Array, topK: number, filter: object, signal?: AbortSignal): Promise<VectorMatch[]> {
    const res = await this.call('query', signal, () => this.index.query({ vector: Array.from(vector), topK: Math.min(topK, MAX_TOP_K), filter, includeMetadata: true, includeValues: false }))
    return res.matches.map((m) => ({ id: m.id, score: m.score ?? 0, metadata: (m.metadata ?? {}) as Partial<VectorMetadata> }))
  }

  /** Every id starting with `prefix` (serverless indexes list by prefix; pages of 100). */
  async listIds(prefix: string, signal?: AbortSignal): Promise<string[]> {
    const ids: string[] = []
    let token: string | undefined
    do {
      const page = await this.call('list', signal, () => this.index.listPaginated({ prefix, ...(token ? { paginationToken: token } : {}) }))
      for (const v of page.vectors ?? []) if (v.id) ids.push(v.id)
      token = page.pagination?.next
    } while (token)
    return ids
  }

  async deleteIds(ids: string[], signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < ids.length; i += DELETE_BATCH) {
      const batch = ids.slice(i, i + DELETE_BATCH)
      await this.call('delete', signal, () => this.index.deleteMany({ ids: batch }))
    }
  }

  private call<T>(operation: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return callHosted({ service: this.info, operation, ...common(this.opts), ...(signal ? { signal } : {}), notFoundHint: `check store.vectors.index and host ("${this.opts.index}")` }, fn)
  }
}

function common(opts: PineconeVectorsOptions & { signal?: AbortSignal }): Partial<HostedCallOptions> {
  return { ...(opts.policy ? { policy: opts.policy } : {}), ...(opts.sleep ? { sleep: opts.sleep } : {}), ...(opts.signal ? { signal: opts.signal } : {}) }
}
