import { tool, type Tool } from 'ai'
import { z } from 'zod'
import { answer, type AnswerOptions } from '../../answer/answer.js'
import { retrieve, type RetrieveDeps, type RetrieveOptions } from '../../retrieve/retrieve.js'
import type { Generator } from '../../spec/generator.js'

/** One numbered source, with its text so the calling model can quote and cite it as [n]. */
export interface RagtuneToolSource {
  n: number
  path: string
  heading: string[]
  chunkId: string
  text: string
}

export interface RagtuneToolOutput {
  /** ragtune's answer when a generator was given; null when the calling model answers from `sources`. */
  answer: string | null
  /** Query-log id of the answer (quote it in `ragtune feedback`); null without a generator. */
  queryId: string | null
  /** Source numbers the answer cites. */
  citations: number[]
  sources: RagtuneToolSource[]
}

export interface RagtuneToolOptions extends RetrieveDeps {
  /** Usually the config's `retrieval` section: `{ ...ws, retrieval: ws.config.retrieval }`. */
  retrieval: Omit<RetrieveOptions, 'signal'>
  /**
   * Answer inside the tool with ragtune's generator (the active LoRA adapter; the call is logged
   * like `ragtune ask`, so its feedback can train the next adapter). Without one the tool returns
   * the sources and the calling model writes the answer.
   */
  generator?: Generator
  /** Extra answer() settings (instruction, schema, temperature, log client name). */
  answerOptions?: Omit<AnswerOptions, 'retrieval' | 'signal' | 'onText' | 'onSources'>
  description?: string
}

const input = z.object({ question: z.string().min(1).describe('The question to answer from the documentation, in the user\'s words') })

/**
 * ragtune as a Vercel AI SDK tool: `generateText({ model, tools: { docs: ragtuneTool({...}) } })`
 * or streamText. The model calls it with a question and gets numbered sources (and ragtune's own
 * answer when a generator is given), with the tool call's abort signal passed down.
 */
export function ragtuneTool(opts: RagtuneToolOptions): Tool<z.infer<typeof input>, RagtuneToolOutput> {
  return tool({
    description: opts.description ?? 'Search the project documentation (hybrid search + rerank) and return numbered sources with their text; cite them as [n].',
    inputSchema: input,
    execute: async ({ question }, { abortSignal }): Promise<RagtuneToolOutput> => {
      const retrieval = { ...opts.retrieval, ...(abortSignal ? { signal: abortSignal } : {}) }
      if (opts.generator) {
        const r = await answer({ ...deps(opts), generator: opts.generator }, question, { ...opts.answerOptions, log: { client: 'ai-sdk', ...opts.answerOptions?.log }, retrieval, ...(abortSignal ? { signal: abortSignal } : {}) })
        const text = new Map(r.retrieval.hits.map((h) => [h.chunkId, h.text]))
        return { answer: r.answer, queryId: r.queryId, citations: r.citations, sources: r.sources.map((s) => ({ n: s.n, path: s.path, heading: s.heading, chunkId: s.chunkId, text: text.get(s.chunkId) ?? '' })) }
      }
      const r = await retrieve(deps(opts), question, retrieval)
      return { answer: null, queryId: null, citations: [], sources: r.hits.map((h) => ({ n: h.rank, path: h.documentPath, heading: h.headingPath, chunkId: h.chunkId, text: h.text })) }
    },
  })
}

function deps(o: RetrieveDeps): RetrieveDeps {
  return { store: o.store, ...(o.embedder ? { embedder: o.embedder } : {}), ...(o.reranker ? { reranker: o.reranker } : {}) }
}
