import { beforeEach, describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import type { Label, QueryLogEntry } from '../spec/query-log.js'
import type { Store } from '../spec/store.js'

const T0 = Date.parse('2025-03-01T12:00:00.000Z')
const minutes = (n: number): string => new Date(T0 + n * 60_000).toISOString()

/** A complete, successful entry logged `minute` minutes after T0. */
export function sampleEntry(id: string, minute: number, over: Partial<QueryLogEntry> = {}): QueryLogEntry {
  return {
    id,
    time: minutes(minute),
    question: `question ${id}: how do I rotate keys? — ünïcode ✓ "quotes" \\ back`,
    retrieval: {
      mode: 'hybrid',
      hits: [
        { rank: 1, chunkId: 'guide.md#3', documentPath: 'guide.md', headingPath: ['Guide', 'Keys'], scores: { dense: { rank: 2, score: 0.8125 }, lexical: { rank: 1, score: 7.5 }, fused: 0.0325, rerank: 4.25 } },
        { rank: 2, chunkId: 'faq.md#0', documentPath: 'faq.md', headingPath: [], scores: { dense: { rank: 1, score: 0.875 }, fused: 0.0164 } },
      ],
      embeddingModel: 'contract/embedder',
      rerankerModel: 'contract/reranker',
      timings: { embedMs: 1.5, denseMs: 2, lexicalMs: 3, rerankMs: 40, totalMs: 47 },
    },
    prompt: {
      messages: [{ role: 'system', content: 'Answer from the sources.' }, { role: 'user', content: '[1] Rotate keys monthly.\n\nQuestion: how?' }],
      rendered: '<|system|>Answer from the sources.<|user|>…',
      template: 'grounded-v1',
    },
    answer: 'Rotate them monthly [1].',
    model: 'contract/generator',
    adapter: 'adapter-v3',
    timings: { retrieveMs: 47, rerankMs: 40, firstTokenMs: 120.5, totalMs: 900 },
    usage: { promptTokens: 321, completionTokens: 12 },
    error: null,
    ...over,
  }
}

function label(id: string, queryId: string, minute: number, over: Partial<Label> = {}): Label {
  return { id, queryId, time: minutes(minute), rating: 'bad', correction: null, category: 'format', source: 'cli', ...over }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(RagtuneError)
  return (err as RagtuneError).code
}

/** The query log part of the Store contract; `getStore` returns the suite's initialised store. */
export function describeQueryLogContract(getStore: () => Store): void {
  describe('query log and labels', () => {
    let store: Store
    beforeEach(async () => {
      store = getStore()
      await store.pruneQueryLogs(new Date('9999-01-01T00:00:00Z'))
    })

    it('appends and reads back an entry exactly, optional parts included', async () => {
      const full = sampleEntry('q-full', 0, { client: 'http:team-a', extra: { traceId: 'abc', nested: { n: 1.25, list: [1, 'two', null] } } })
      await store.appendQueryLog(full)
      expect(await store.getQueryLog('q-full')).toEqual(full)
      expect(await store.getQueryLog('q-missing')).toBeNull()
      const minimal = sampleEntry('q-min', 1)
      await store.appendQueryLog(minimal)
      const back = await store.getQueryLog('q-min')
      expect(back).toEqual(minimal)
      expect(back).not.toHaveProperty('client')
      expect(back).not.toHaveProperty('extra')
    })

    it('logs failed requests (error set, answer null) and filters on them', async () => {
      const failed = sampleEntry('q-fail', 1, {
        retrieval: null, prompt: null, answer: null, usage: null,
        timings: { retrieveMs: null, rerankMs: null, firstTokenMs: null, totalMs: 3 },
        error: { code: 'GENERATOR_FAILED', message: 'the model crashed\n  fix: try again' },
      })
      await store.appendQueryLog(sampleEntry('q-ok', 0))
      await store.appendQueryLog(failed)
      expect(await store.getQueryLog('q-fail')).toEqual(failed)
      expect((await store.listQueryLogs({ hasError: true })).map((e) => e.id)).toEqual(['q-fail'])
      expect((await store.listQueryLogs({ hasError: false })).map((e) => e.id)).toEqual(['q-ok'])
    })

    it('lists newest first and pages with afterId without gaps or repeats', async () => {
      // Two entries share a time: the id breaks the tie.
      const minutesOf = [5, 1, 3, 3, 0, 4, 2]
      for (const [i, m] of minutesOf.entries()) await store.appendQueryLog(sampleEntry(`q${i}`, m))
      const all = (await store.listQueryLogs()).map((e) => e.id)
      expect(all).toEqual(['q0', 'q5', 'q3', 'q2', 'q6', 'q1', 'q4'])
      const paged: string[] = []
      let afterId: string | undefined
      for (;;) {
        const page = await store.listQueryLogs({ limit: 3, ...(afterId ? { afterId } : {}) })
        paged.push(...page.map((e) => e.id))
        if (page.length < 3) break
        afterId = page[page.length - 1]!.id
      }
      expect(paged).toEqual(all)
      expect(await codeOf(store.listQueryLogs({ afterId: 'never-logged' }))).toBe('QUERY_NOT_FOUND')
      expect(await codeOf(store.listQueryLogs({ limit: 0 }))).toBe('STORE_BAD_ARGUMENT')
    })

    it('filters by time window and adapter (null = base model)', async () => {
      await store.appendQueryLog(sampleEntry('a', 0, { adapter: null }))
      await store.appendQueryLog(sampleEntry('b', 10, { adapter: 'v1' }))
      await store.appendQueryLog(sampleEntry('c', 20, { adapter: 'v2' }))
      await store.appendQueryLog(sampleEntry('d', 30, { adapter: 'v2' }))
      const ids = async (f: Parameters<Store['listQueryLogs']>[0]): Promise<string[]> => (await store.listQueryLogs(f)).map((e) => e.id)
      expect(await ids({ since: new Date(minutes(10)) })).toEqual(['d', 'c', 'b'])
      expect(await ids({ since: new Date(minutes(10)), until: new Date(minutes(30)) })).toEqual(['c', 'b'])
      expect(await ids({ adapter: 'v2' })).toEqual(['d', 'c'])
      expect(await ids({ adapter: null })).toEqual(['a'])
      expect(await ids({ adapter: 'v2', since: new Date(minutes(25)), limit: 5 })).toEqual(['d'])
    })

    it('refuses duplicate ids and bad times; stores NUL characters as U+FFFD', async () => {
      await store.appendQueryLog(sampleEntry('dup', 0))
      expect(await codeOf(store.appendQueryLog(sampleEntry('dup', 1)))).toBe('STORE_WRITE_FAILED')
      expect(await codeOf(store.appendQueryLog(sampleEntry('bad-time', 0, { time: 'yesterday' })))).toBe('STORE_BAD_ARGUMENT')
      await store.appendQueryLog(sampleEntry('nul', 0, { question: 'a\u0000b', answer: 'c\u0000', extra: { k: '\u0000' } }))
      expect(await store.getQueryLog('nul')).toMatchObject({ question: 'a\uFFFDb', answer: 'c\uFFFD', extra: { k: '\uFFFD' } })
      expect((await store.getQueryLog('dup'))?.time).toBe(minutes(0))
    })

    it('adds labels to logged queries only and lists them oldest first', async () => {
      await store.appendQueryLog(sampleEntry('q1', 0))
      await store.appendQueryLog(sampleEntry('q2', 1))
      const l1 = label('l1', 'q1', 2, { rating: 'bad', correction: 'Rotate every 30 days [1].', author: 'ana' })
      const l2 = label('l2', 'q2', 3, { rating: null, category: 'tone' })
      const l3 = label('l3', 'q1', 4, { rating: 'good', category: null, source: 'import' })
      for (const l of [l3, l1, l2]) await store.addLabel(l)
      expect(await store.listLabels()).toEqual([l1, l2, l3])
      expect(await store.listLabels({ queryId: 'q1' })).toEqual([l1, l3])
      expect(await store.listLabels({ since: new Date(minutes(3)) })).toEqual([l2, l3])
      expect(await codeOf(store.addLabel(label('l4', 'no-such-query', 5)))).toBe('QUERY_NOT_FOUND')
      const badRating = { ...label('l5', 'q1', 5), rating: 'meh' } as unknown as Label
      expect(await codeOf(store.addLabel(badRating))).toBe('STORE_BAD_ARGUMENT')
      expect(await store.listLabels()).toHaveLength(3)
    })

    it('prunes only queries older than the cutoff, with their labels', async () => {
      for (const m of [0, 1, 2, 3]) await store.appendQueryLog(sampleEntry(`p${m}`, m))
      await store.addLabel(label('old', 'p0', 10))
      await store.addLabel(label('kept', 'p3', 10))
      expect(await store.pruneQueryLogs(new Date(minutes(2)))).toBe(2)
      expect((await store.listQueryLogs()).map((e) => e.id)).toEqual(['p3', 'p2'])
      expect((await store.listLabels()).map((l) => l.id)).toEqual(['kept'])
      expect(await store.getQueryLog('p0')).toBeNull()
      expect(await store.pruneQueryLogs(new Date(minutes(2)))).toBe(0)
    })
  })
}
