import { AsyncLocalStorage } from 'node:async_hooks'
import type { CallbackManagerForRetrieverRun } from '@langchain/core/callbacks/manager'
import { Document } from '@langchain/core/documents'
import { BaseRetriever, type BaseRetrieverInput } from '@langchain/core/retrievers'
import type { RunnableConfig } from '@langchain/core/runnables'
import { retrieve, type HitScores, type RetrieveDeps, type RetrieveOptions } from '../../retrieve/retrieve.js'

/** What each LangChain Document carries besides the chunk text: where it came from and every stage's score. */
export type RagtuneDocumentMetadata = {
  chunkId: string
  documentPath: string
  headingPath: string[]
  ordinal: number
  /** Final position, from 1. */
  rank: number
  scores: HitScores
  embeddingModel: string | null
  rerankerModel: string | null
}

/** The store and models to retrieve with (a Workspace has them) and ragtune's retrieval settings. */
export interface RagtuneRetrieverInput extends BaseRetrieverInput, RetrieveDeps {
  /** Usually the config's `retrieval` section: `{ ...ws, retrieval: ws.config.retrieval }`. */
  retrieval: Omit<RetrieveOptions, 'signal'>
}

/**
 * ragtune's hybrid retrieval (dense + lexical, RRF, cross-encoder rerank) as a LangChain retriever,
 * so chains and agents built on LangChain.js get the same top-k chunks `ragtune ask` answers from.
 * The config's `signal` (`retriever.invoke(q, { signal })`) reaches the embedder and reranker.
 */
export class RagtuneRetriever extends BaseRetriever<RagtuneDocumentMetadata> {
  lc_namespace = ['ragtune', 'retrievers']
  private readonly deps: RetrieveDeps
  private readonly retrieval: Omit<RetrieveOptions, 'signal'>
  private readonly signals = new AsyncLocalStorage<AbortSignal | undefined>()

  static override lc_name(): string {
    return 'RagtuneRetriever'
  }

  constructor(fields: RagtuneRetrieverInput) {
    super(fields)
    this.deps = { store: fields.store, ...(fields.embedder ? { embedder: fields.embedder } : {}), ...(fields.reranker ? { reranker: fields.reranker } : {}) }
    this.retrieval = fields.retrieval
  }

  /** LangChain does not hand the config's signal to `_getRelevantDocuments`; carry it there. */
  override invoke(input: string, options?: RunnableConfig): Promise<Document<RagtuneDocumentMetadata>[]> {
    return this.signals.run(options?.signal, () => super.invoke(input, options)) as Promise<Document<RagtuneDocumentMetadata>[]>
  }

  override async _getRelevantDocuments(query: string, _runManager?: CallbackManagerForRetrieverRun): Promise<Document<RagtuneDocumentMetadata>[]> {
    const signal = this.signals.getStore()
    const result = await retrieve(this.deps, query, { ...this.retrieval, ...(signal ? { signal } : {}) })
    return result.hits.map(
      (h) =>
        new Document<RagtuneDocumentMetadata>({
          id: h.chunkId,
          pageContent: h.text,
          metadata: { chunkId: h.chunkId, documentPath: h.documentPath, headingPath: h.headingPath, ordinal: h.ordinal, rank: h.rank, scores: h.scores, embeddingModel: result.embeddingModel, rerankerModel: result.rerankerModel },
        }),
    )
  }
}
