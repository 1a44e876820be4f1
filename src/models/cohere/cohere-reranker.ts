import { CohereClientV2, CohereEnvironment } from 'cohere-ai'
import { RagtuneError } from '../../errors.js'
import { callHosted, type HostedCallOptions, type RetryPolicy } from '../../hosted/hosted-call.js'
import type { ServiceInfo } from '../../hosted/hosted-errors.js'
import { hostedFetch } from '../../hosted/hosted-fetch.js'
import type { Reranker } from '../../spec/reranker.js'
import { DEFAULT_COHERE_RERANKER } from './cohere-config.js'

export interface CohereRerankerOptions {
  apiKey: string
  /** The variable the key came from, named when Cohere refuses it. */
  apiKeyEnv?: string
  /** Default rerank-english-v3.0 (the guide's); any Cohere rerank model id. */
  model?: string
  /** Results returned per query (default 4, the guide's top 4). */
  topN?: number
  /** Default https://api.cohere.com. */
  baseURL?: string
  policy?: Partial<RetryPolicy>
  sleep?: HostedCallOptions['sleep']
}

/** Score of a passage Cohere did not return (outside top_n): below every relevance score, which lie in [0, 1]. */
export const NOT_RANKED = -1

/** Cohere's documented ceiling per rerank request. */
const MAX_DOCUMENTS = 1000

/**
 * Cohere Rerank (v2 API) through the official `cohere-ai` client, for teams that already use it.
 * Cohere returns the `topN` best passages with relevance scores in [0, 1]; the others get
 * NOT_RANKED (-1), so retrieve()'s stable sort keeps them after the ranked ones in fused order.
 * Retries, deadlines and errors are ragtune's (callHosted), with the client's own retries off.
 */
export class CohereReranker implements Reranker {
  readonly id: string
  private readonly model: string
  private readonly topN: number
  private readonly client: CohereClientV2
  private readonly info: ServiceInfo

  constructor(private readonly opts: CohereRerankerOptions) {
    if (opts.topN !== undefined && (!Number.isInteger(opts.topN) || opts.topN < 1)) {
      throw new RagtuneError('INVALID_OPTIONS', `expected topN to be a positive integer, got ${opts.topN}`, { hint: 'set models.reranker.cohere.topN to e.g. 4' })
    }
    this.model = opts.model ?? DEFAULT_COHERE_RERANKER
    this.topN = opts.topN ?? 4
    this.id = `cohere:${this.model}`
    const baseUrl = opts.baseURL ?? CohereEnvironment.Production
    this.info = { service: 'Cohere', endpoint: baseUrl, ...(opts.apiKeyEnv ? { keyEnv: opts.apiKeyEnv } : {}) }
    this.client = new CohereClientV2({ token: opts.apiKey, baseUrl, fetch: hostedFetch, maxRetries: 0, clientName: 'ragtune' })
  }

  async doRerank(query: string, passages: string[], opts: { signal?: AbortSignal } = {}): Promise<number[]> {
    if (passages.length === 0) return []
    if (passages.length > MAX_DOCUMENTS) {
      throw new RagtuneError('RERANK_TOO_MANY', `Cohere reranks at most ${MAX_DOCUMENTS} passages per query, got ${passages.length}`, { hint: 'lower retrieval.candidates' })
    }
    const timeoutInSeconds = Math.ceil((this.opts.policy?.timeoutMs ?? 60_000) / 1000)
    const res = await callHosted(
      {
        service: this.info,
        operation: `rerank (${this.model})`,
        notFoundHint: `check models.reranker.model: "${this.model}" is not a Cohere rerank model (e.g. rerank-english-v3.0, rerank-v3.5)`,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(this.opts.policy ? { policy: this.opts.policy } : {}),
        ...(this.opts.sleep ? { sleep: this.opts.sleep } : {}),
      },
      (signal) => this.client.rerank({ model: this.model, query, documents: passages, topN: Math.min(this.topN, passages.length) }, { abortSignal: signal, maxRetries: 0, timeoutInSeconds }),
    )
    const scores = new Array<number>(passages.length).fill(NOT_RANKED)
    for (const r of res.results) {
      if (!Number.isInteger(r.index) || r.index < 0 || r.index >= passages.length || typeof r.relevanceScore !== 'number') {
        throw new RagtuneError('RERANK_BAD_RESPONSE', `Cohere returned result index ${r.index} for ${passages.length} passages`, { details: { result: r }, hint: 'report this: the response does not match the request' })
      }
      scores[r.index] = r.relevanceScore
    }
    return scores
  }

  async dispose(): Promise<void> {}
}
