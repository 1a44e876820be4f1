import { FakeService, recorded, type FakeResponse, type RecordedRequest } from './fake-service.js'

interface StoredVector {
  values: number[]
  metadata: Record<string, unknown>
}

export interface PineconeFakeOptions {
  apiKey: string
  indexName: string
  dimension: number
  metric?: 'cosine' | 'dotproduct' | 'euclidean'
}

/**
 * A Pinecone index in memory behind a local HTTP server: control plane (describe index) and the
 * data-plane calls ragtune makes (upsert, query with metadata filter, list by prefix, delete,
 * describe_index_stats), answering in the recorded response shapes (recorded/pinecone) so the
 * official client parses them as it parses Pinecone's. Cosine similarity is computed exactly, so the
 * Store contract suite runs against it.
 */
export class PineconeFake {
  readonly namespaces = new Map<string, Map<string, StoredVector>>()

  private constructor(readonly service: FakeService, private readonly opts: PineconeFakeOptions) {}

  static async start(opts: PineconeFakeOptions): Promise<PineconeFake> {
    let self: PineconeFake | null = null
    const service = await FakeService.start((req) => self!.handle(req))
    self = new PineconeFake(service, opts)
    return self
  }

  get url(): string {
    return this.service.url
  }

  ids(namespace = ''): string[] {
    return [...(this.namespaces.get(namespace)?.keys() ?? [])].sort()
  }

  close(): Promise<void> {
    return this.service.close()
  }

  private ns(name: unknown): Map<string, StoredVector> {
    const key = typeof name === 'string' && name !== '__default__' ? name : ''
    let ns = this.namespaces.get(key)
    if (!ns) this.namespaces.set(key, (ns = new Map()))
    return ns
  }

  private async handle(req: RecordedRequest): Promise<FakeResponse> {
    if (req.headers['api-key'] !== this.opts.apiKey) return { status: 401, body: await recorded('pinecone', 'error-401') }
    const body = (req.json ?? {}) as Record<string, unknown>
    if (req.method === 'GET' && req.path === `/indexes/${this.opts.indexName}`) {
      const model = await recorded('pinecone', 'describe-index')
      return { body: { ...model, name: this.opts.indexName, dimension: this.opts.dimension, metric: this.opts.metric ?? 'cosine', host: this.url } }
    }
    if (req.method === 'GET' && req.path.startsWith('/indexes/')) return { status: 404, body: { error: { code: 'NOT_FOUND', message: `Resource ${req.path.slice(9)} not found` }, status: 404 } }
    if (req.path === '/vectors/upsert') {
      const ns = this.ns(body.namespace)
      const vectors = body.vectors as Array<{ id: string; values: number[]; metadata?: Record<string, unknown> }>
      for (const v of vectors) {
        if (v.values.length !== this.opts.dimension) return { status: 400, body: { code: 3, message: `Vector dimension ${v.values.length} does not match the dimension of the index ${this.opts.dimension}`, details: [] } }
      }
      for (const v of vectors) ns.set(v.id, { values: v.values, metadata: v.metadata ?? {} })
      return { body: { ...(await recorded('pinecone', 'upsert')), upsertedCount: vectors.length } }
    }
    if (req.path === '/query') {
      const ns = this.ns(body.namespace)
      const query = body.vector as number[]
      const filter = (body.filter ?? {}) as Record<string, unknown>
      const found = [...ns.entries()]
        .filter(([, v]) => matchesFilter(v.metadata, filter))
        .map(([id, v]) => ({ id, score: cosine(query, v.values), values: [], ...(body.includeMetadata ? { metadata: v.metadata } : {}) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, body.topK as number)
      return { body: { ...(await recorded('pinecone', 'query')), matches: found, namespace: body.namespace ?? '' } }
    }
    if (req.path === '/vectors/list') {
      const prefix = req.query.get('prefix') ?? ''
      const limit = Number(req.query.get('limit') ?? 100)
      const start = Number(req.query.get('paginationToken') ?? 0)
      const all = [...this.ns(req.query.get('namespace') ?? '').keys()].filter((id) => id.startsWith(prefix)).sort()
      const page = all.slice(start, start + limit)
      const next = start + limit < all.length ? { pagination: { next: String(start + limit) } } : {}
      const { pagination: _drop, ...shape } = await recorded('pinecone', 'list')
      return { body: { ...shape, vectors: page.map((id) => ({ id })), ...next } }
    }
    if (req.path === '/vectors/delete') {
      const ns = this.ns(body.namespace)
      for (const id of (body.ids as string[] | undefined) ?? []) ns.delete(id)
      return { body: await recorded('pinecone', 'delete') }
    }
    if (req.path === '/describe_index_stats') {
      const namespaces = Object.fromEntries([...this.namespaces.entries()].map(([k, v]) => [k === '' ? '__default__' : k, { vectorCount: v.size }]))
      const total = [...this.namespaces.values()].reduce((n, v) => n + v.size, 0)
      return { body: { ...(await recorded('pinecone', 'describe-index-stats')), namespaces, dimension: this.opts.dimension, totalVectorCount: total } }
    }
    return { status: 404, body: { code: 5, message: `unknown route ${req.method} ${req.path}`, details: [] } }
  }
}

/** Pinecone's metadata filter language, the part ragtune uses: `{field: value}`, `$eq`, `$ne`, `$in`, `$and`. */
function matchesFilter(metadata: Record<string, unknown>, filter: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([key, cond]) => {
    if (key === '$and') return (cond as Array<Record<string, unknown>>).every((f) => matchesFilter(metadata, f))
    const value = metadata[key]
    if (cond === null || typeof cond !== 'object') return value === cond
    const c = cond as Record<string, unknown>
    if ('$eq' in c) return value === c.$eq
    if ('$ne' in c) return value !== c.$ne
    if ('$in' in c) return (c.$in as unknown[]).includes(value)
    return false
  })
}

function cosine(a: number[], b: number[]): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
}
