import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildMessages } from '../answer/prompt.js'
import type { QueryLogEntry } from '../spec/query-log.js'
import { PGliteStore } from '../store/pglite-store.js'
import { analyzeLogs, emptyFailureReport } from './failure-report.js'
import { formatFailureReport } from './report-markdown.js'
import { analyzeRules } from './rules.js'

const DAY = 86_400_000
const NOW = new Date('2025-03-15T12:00:00.000Z')
const SOURCES = [
  { n: 1, path: 'keys.md', heading: ['Keys'], text: 'Rotate the master keys every 90 days with skyctl keys rotate.' },
  { n: 2, path: 'ports.md', heading: [], text: 'The heartbeat uses port 7500 over UDP on the back-end network.' },
]

/** A logged query `days` days before NOW, with the real prompt layout. */
function entry(id: string, days: number, answer: string | null, over: Partial<QueryLogEntry> = {}): QueryLogEntry {
  const question = 'Which port does the heartbeat use?'
  return {
    id, time: new Date(NOW.getTime() - days * DAY).toISOString(), question,
    retrieval: {
      mode: 'hybrid', embeddingModel: 'e', rerankerModel: null, timings: { embedMs: 0, denseMs: 0, lexicalMs: 0, rerankMs: 0, totalMs: 1 },
      hits: SOURCES.map((s) => ({ rank: s.n, chunkId: `${s.path}#0`, documentPath: s.path, headingPath: s.heading, scores: { fused: 0.01 } })),
    },
    prompt: { messages: buildMessages({ question, sources: SOURCES }), rendered: null, template: 'ragtune-sources-v1' },
    answer, model: 'm', adapter: null, timings: { retrieveMs: 1, rerankMs: 0, firstTokenMs: 1, totalMs: 2 }, usage: null, error: null, ...over,
  }
}

let store: PGliteStore

beforeAll(async () => {
  store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: 4, embeddingModel: 'test/4d' })
  const entries = [
    entry('q01', 0.1, 'The heartbeat uses port 7500 over UDP [2].'),
    entry('q02', 0.2, 'It is port 9000 [2].'),
    entry('q03', 1.1, 'I think it is probably port 7500, perhaps UDP [2].'),
    entry('q04', 1.2, 'Port 7500 over UDP.'),
    entry('q05', 2.5, "I don't know."),
    entry('q06', 3.5, null, { error: { code: 'GENERATOR_FAILED', message: 'the model died' } }),
    entry('q07', 4.5, 'Port 7500 [2].', { prompt: null }),
    entry('q08', 40, 'Port 1234 [9].'),
  ]
  for (const e of entries) await store.appendQueryLog(e)
  const label = (id: string, queryId: string, over: object) => store.addLabel({ id, queryId, time: NOW.toISOString(), rating: null, correction: null, category: null, source: 'cli', ...over })
  await label('l1', 'q02', { rating: 'bad', category: 'ungrounded', correction: 'The heartbeat uses port 7500 [2].' })
  await label('l2', 'q05', { rating: 'bad', correction: 'Port 7500 over UDP [2].' })
  await label('l3', 'q04', { rating: 'bad', category: 'tone' })
  await store.addLabeledExamples([{ id: 'x1', question: 'q', answer: 'a', gold: { documents: [], chunkIds: [], text: null }, category: 'hedging', source: 'guide', origin: 'f:1', batchId: 'b', importedAt: NOW.toISOString() }])
})

afterAll(async () => {
  await store?.close()
})

describe('analyzeLogs', () => {
  it('reports failure rates by category with example ids, over the window', async () => {
    const r = await analyzeLogs(store, { since: new Date(NOW.getTime() - 14 * DAY), now: NOW, rules: analyzeRules({ minExamplesPerCategory: 1 }) })
    expect(r).toMatchObject({ queries: 7, answered: 6, failedRequests: 1, contextUnknown: 1 })
    const cat = Object.fromEntries(r.categories.map((c) => [c.category, c]))
    expect(cat.ungrounded).toMatchObject({ queries: 1, exampleQueryIds: ['q02'], rules: { 'ungrounded-number': 1, label: 1 } })
    expect(cat.hedging).toMatchObject({ queries: 1, exampleQueryIds: ['q03'], trainingExamples: 1, lacksExamples: false })
    expect(cat.citation).toMatchObject({ queries: 1, exampleQueryIds: ['q04'], rules: { 'no-citation': 1 } })
    expect(cat.tone).toMatchObject({ queries: 1, exampleQueryIds: ['q04'], rules: { label: 1 } })
    expect(cat['request-error']).toMatchObject({ queries: 1, exampleQueryIds: ['q06'], rules: { GENERATOR_FAILED: 1 }, lacksExamples: false })
    expect(cat['request-error']!.rate).toBeCloseTo(1 / 7)
    expect(cat.ungrounded!.rate).toBeCloseTo(1 / 6)
    // q05: the correction cites [2], so the gold was in context and "I don't know" was a failure.
    expect(cat.refusal).toMatchObject({ exampleQueryIds: ['q05'], rules: { 'refused-with-gold-in-context': 1 } })
    expect(r.coverage.lacking).toEqual(expect.arrayContaining(['citation', 'tone']))
    expect(r.coverage.lacking).not.toContain('ungrounded')
    expect(r.coverage.lacking).not.toContain('request-error')
    expect(r.failing).toBe(4)
  })

  it('buckets the trend per day (and per week for long windows), empty days included', async () => {
    const r = await analyzeLogs(store, { since: new Date(NOW.getTime() - 5 * DAY), now: NOW })
    expect(r.trend.bucket).toBe('day')
    expect(r.trend.buckets.map((b) => b.start.slice(0, 10))).toEqual(['2025-03-10', '2025-03-11', '2025-03-12', '2025-03-13', '2025-03-14', '2025-03-15'])
    expect(r.trend.buckets.map((b) => b.queries)).toEqual([0, 1, 1, 1, 2, 2])
    expect(r.trend.buckets[5]!.failures).toEqual({ ungrounded: 1 })
    const all = await analyzeLogs(store, { now: NOW })
    expect(all.trend.bucket).toBe('week')
    expect(all.queries).toBe(8)
    expect(all.trend.buckets[0]!.start).toBe('2025-02-03T00:00:00.000Z')
    expect(all.categories.find((c) => c.category === 'citation')!.exampleQueryIds).toEqual(['q04', 'q08'])
  })

  it('prints markdown with rates, trend and coverage; an empty log has an empty report', async () => {
    const md = formatFailureReport(await analyzeLogs(store, { since: new Date(NOW.getTime() - 14 * DAY), now: NOW }))
    expect(md).toMatch(/## Failure rates by category\n\n\| category \| queries \| rate/)
    expect(md).toMatch(/\| ungrounded \| 1 \| 16\.7% \|/)
    expect(md).toMatch(/## Trend \(per day/)
    expect(md).toMatch(/fewer than 20 training examples: .*citation/)
    expect(formatFailureReport(emptyFailureReport())).toContain('No queries in this window.')
  })
})
