import { RunnableLambda } from '@langchain/core/runnables'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSmallStore } from '../../../test/helpers/small-store.js'
import type { RetrieveOptions } from '../../retrieve/retrieve.js'
import type { EmbeddingModel } from '../../spec/embedding-model.js'
import type { PGliteStore } from '../../store/pglite-store.js'
import { RagtuneRetriever } from './ragtune-retriever.js'

const retrieval: Omit<RetrieveOptions, 'signal'> = { mode: 'hybrid', denseK: 5, lexicalK: 5, candidates: 5, rrfK: 60, topK: 2, rerank: false }
let store: PGliteStore
let embedder: EmbeddingModel

beforeAll(async () => {
  ;({ store, embedder } = await openSmallStore())
})
afterAll(async () => store?.close())

describe('RagtuneRetriever (LangChain.js)', () => {
  it('returns ragtune\'s hybrid top-k as Documents with provenance and every stage\'s score', async () => {
    const retriever = new RagtuneRetriever({ store, embedder, retrieval })
    const docs = await retriever.invoke('how often do I rotate the keys?')
    expect(docs).toHaveLength(2)
    expect(docs[0]!.pageContent).toContain('Rotate the master keys')
    expect(docs[0]!.id).toBe('keys.md#0')
    expect(docs[0]!.metadata).toMatchObject({ chunkId: 'keys.md#0', documentPath: 'keys.md', rank: 1, embeddingModel: 'test/keyword-4d', rerankerModel: null })
    expect(docs[0]!.metadata.scores.dense?.rank).toBeDefined()
    expect(docs[0]!.metadata.scores.lexical?.rank).toBeDefined()
  })

  it('composes in a chain like any retriever', async () => {
    const retriever = new RagtuneRetriever({ store, retrieval: { ...retrieval, mode: 'lexical', topK: 1 } })
    const chain = retriever.pipe(RunnableLambda.from((docs: Array<{ pageContent: string; metadata: { documentPath: string } }>) => docs.map((d) => `[${d.metadata.documentPath}] ${d.pageContent}`).join('\n')))
    expect(await chain.invoke('heartbeat port')).toBe('[ports.md] The heartbeat uses port 7500 over UDP on the back-end network.')
  })

  it('passes the config\'s signal down: an aborted call rejects', async () => {
    const retriever = new RagtuneRetriever({ store, embedder, retrieval })
    const ctrl = new AbortController()
    ctrl.abort(new Error('stop'))
    await expect(retriever.invoke('rotate keys', { signal: ctrl.signal })).rejects.toThrow()
    expect(await retriever.invoke('rotate keys')).toHaveLength(2)
  })
})
