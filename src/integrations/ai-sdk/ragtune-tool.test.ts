import { generateText, stepCountIs } from 'ai'
import { MockLanguageModelV3 } from 'ai/test'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSmallStore } from '../../../test/helpers/small-store.js'
import type { RetrieveOptions } from '../../retrieve/retrieve.js'
import type { EmbeddingModel } from '../../spec/embedding-model.js'
import type { ChatMessage, Generator } from '../../spec/generator.js'
import type { PGliteStore } from '../../store/pglite-store.js'
import { ragtuneTool, type RagtuneToolOutput } from './ragtune-tool.js'

const retrieval: Omit<RetrieveOptions, 'signal'> = { mode: 'hybrid', denseK: 5, lexicalK: 5, candidates: 5, rrfK: 60, topK: 2, rerank: false }
const usage = { inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 5, text: 5, reasoning: undefined } }
let store: PGliteStore
let embedder: EmbeddingModel

beforeAll(async () => {
  ;({ store, embedder } = await openSmallStore())
})
afterAll(async () => store?.close())

/** A model that first calls the tool with `question`, then answers with the text of what the tool returned. */
function toolCallingModel(question: string): MockLanguageModelV3 {
  let step = 0
  return new MockLanguageModelV3({
    doGenerate: async ({ prompt }) => {
      if (step++ === 0) {
        return { content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'docs', input: JSON.stringify({ question }) }], finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage, warnings: [] }
      }
      const result = prompt.flatMap((m) => (m.role === 'tool' ? m.content : [])).find((p) => p.type === 'tool-result')
      const output = (result?.output as { value: RagtuneToolOutput } | undefined)?.value
      return { content: [{ type: 'text', text: `From ${output?.sources[0]?.path}: ${output?.answer ?? output?.sources[0]?.text}` }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] }
    },
  })
}

/** A generator that cites source 1, so the logged answer is checkable. */
const generator: Generator = {
  id: 'stub-model',
  adapter: 'v2@abc',
  doGenerate: async (messages: ChatMessage[]) => ({
    text: `Every 90 days [1]. (${messages.length} messages)`, finishReason: 'stop', usage: { promptTokens: 20, completionTokens: 6 }, timings: { firstTokenMs: 1, totalMs: 2 },
    model: 'stub-model', adapter: 'v2@abc', renderedPrompt: null, warnings: [],
  }),
  dispose: async () => {},
}

describe('ragtuneTool (Vercel AI SDK)', () => {
  it('gives the calling model numbered sources with their text', async () => {
    const res = await generateText({ model: toolCallingModel('how often are keys rotated?'), tools: { docs: ragtuneTool({ store, embedder, retrieval }) }, prompt: 'How often are keys rotated?', stopWhen: stepCountIs(2) })
    const out = res.steps[0]!.toolResults[0]!.output as RagtuneToolOutput
    expect(out.answer).toBeNull()
    expect(out.sources.map((s) => [s.n, s.path])).toEqual([[1, 'keys.md'], [2, 'keys.md']])
    expect(out.sources[0]!.text).toContain('every 90 days')
    expect(res.text).toBe('From keys.md: Rotate the master keys every 90 days with skyctl keys rotate.')
  })

  it('answers with ragtune\'s own generator when given one, logged like `ragtune ask`', async () => {
    const res = await generateText({ model: toolCallingModel('how often are keys rotated?'), tools: { docs: ragtuneTool({ store, embedder, retrieval, generator }) }, prompt: 'Keys?', stopWhen: stepCountIs(2) })
    const out = res.steps[0]!.toolResults[0]!.output as RagtuneToolOutput
    expect(out.answer).toBe('Every 90 days [1]. (2 messages)')
    expect(out.citations).toEqual([1])
    expect(out.sources[0]).toMatchObject({ n: 1, path: 'keys.md', chunkId: 'keys.md#0' })
    const logged = await store.getQueryLog(out.queryId!)
    expect(logged).toMatchObject({ question: 'how often are keys rotated?', answer: out.answer, adapter: 'v2@abc', client: 'ai-sdk' })
    expect(res.text).toBe('From keys.md: Every 90 days [1]. (2 messages)')
  })
})
