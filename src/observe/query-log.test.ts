import { Writable } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import type { RetrievalResult } from '../retrieve/retrieve.js'
import { PGliteStore } from '../store/pglite-store.js'
import { sampleEntry } from '../store/query-log.contract.js'
import { recordFeedback } from './feedback.js'
import { applyRetention, errorForLog, exportLogsJsonl, logQuery, newQueryId, retrievalForLog, type QueryLogInput } from './query-log.js'

let store: PGliteStore
beforeAll(async () => {
  store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
})
afterAll(async () => {
  await store?.close()
})
beforeEach(async () => {
  await store.pruneQueryLogs(new Date('9999-01-01T00:00:00Z'))
})

function input(over: Partial<QueryLogInput> = {}): QueryLogInput {
  const { id: _id, time: _time, ...rest } = sampleEntry('unused', 0)
  return { ...rest, ...over }
}

/** A writable that takes one small chunk at a time, slowly, so the exporter must wait for 'drain'. */
function slowSink(): { sink: Writable; text: () => string } {
  const parts: string[] = []
  const sink = new Writable({
    highWaterMark: 64,
    write(chunk: Buffer, _enc, done) {
      parts.push(chunk.toString())
      setTimeout(done, 1)
    },
  })
  return { sink, text: () => parts.join('') }
}

describe('logQuery', () => {
  it('fills in a time-sortable id and the time, and writes the entry', async () => {
    const before = Date.now()
    const res = await logQuery(store, input())
    expect(res.warnings).toEqual([])
    expect(res.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    const back = await store.getQueryLog(res.id!)
    expect(back).toMatchObject({ ...input(), id: res.id })
    expect(Date.parse(back!.time)).toBeGreaterThanOrEqual(before - 1)
    expect(newQueryId() > res.id!).toBe(true)
  })

  it('logs failed requests too: error set, answer null', async () => {
    const error = errorForLog(new RagtuneError('GENERATOR_FAILED', 'the model process died', { hint: 'check the model file' }))
    const res = await logQuery(store, input({ answer: null, usage: null, prompt: null, error }))
    const [failed] = await store.listQueryLogs({ hasError: true })
    expect(failed?.id).toBe(res.id)
    expect(failed).toMatchObject({ answer: null, error: { code: 'GENERATOR_FAILED', message: expect.stringContaining('fix: check the model file') } })
  })

  it('drops the prompt when logPrompts is false, and keeps the caller id and time', async () => {
    const id = newQueryId()
    const res = await logQuery(store, input({ id, time: '2025-01-01T00:00:00.000Z' }), { logPrompts: false })
    expect(res.id).toBe(id)
    expect(await store.getQueryLog(id)).toMatchObject({ id, time: '2025-01-01T00:00:00.000Z', prompt: null, answer: 'Rotate them monthly [1].' })
  })

  it('turns a failed write into a warning instead of failing the answer', async () => {
    const id = newQueryId()
    await logQuery(store, input({ id }))
    const res = await logQuery(store, input({ id }))
    expect(res.id).toBeNull()
    expect(res.warnings[0]).toMatch(/the query was not logged: could not append query log/)
  })
})

describe('log helpers', () => {
  it('retrievalForLog keeps ids, places and scores but not the chunk texts', () => {
    const result: RetrievalResult = {
      query: 'q', mode: 'hybrid', candidateCount: 7, embeddingModel: 'e', rerankerModel: null, warnings: ['w'],
      timings: { embedMs: 1, denseMs: 2, lexicalMs: 3, rerankMs: 0, totalMs: 6 },
      hits: [{ rank: 1, chunkId: 'c1', documentPath: 'a.md', headingPath: ['A'], text: 'long text', ordinal: 3, scores: { lexical: { rank: 1, score: 2 }, fused: 0.016 } }],
    }
    expect(retrievalForLog(result)).toEqual({
      mode: 'hybrid', embeddingModel: 'e', rerankerModel: null, timings: result.timings,
      hits: [{ rank: 1, chunkId: 'c1', documentPath: 'a.md', headingPath: ['A'], scores: { lexical: { rank: 1, score: 2 }, fused: 0.016 } }],
    })
  })

  it('errorForLog keeps RagtuneError codes and names the rest', () => {
    const abort = new Error('stop')
    abort.name = 'AbortError'
    expect(errorForLog(new TypeError('x is undefined'))).toEqual({ code: 'INTERNAL', message: 'x is undefined' })
    expect(errorForLog(abort)).toEqual({ code: 'ABORTED', message: 'stop' })
    expect(errorForLog('plain string')).toEqual({ code: 'INTERNAL', message: 'plain string' })
  })
})

describe('exportLogsJsonl', () => {
  it('streams every entry as one parseable line, page by page, newest first, honouring backpressure', async () => {
    const total = 257
    for (let i = 0; i < total; i++) await store.appendQueryLog(sampleEntry(`e${String(i).padStart(3, '0')}`, i, { adapter: i % 2 ? 'v1' : null }))
    const { sink, text } = slowSink()
    const count = await exportLogsJsonl(store, { out: sink, pageSize: 50 })
    expect(count).toBe(total)
    const lines = text().trimEnd().split('\n')
    expect(lines).toHaveLength(total)
    const parsed = lines.map((l) => JSON.parse(l) as { id: string })
    expect(parsed.map((e) => e.id)).toEqual(Array.from({ length: total }, (_, i) => `e${String(total - 1 - i).padStart(3, '0')}`))
    // Round trip: a line is exactly what was appended.
    expect(parsed[total - 1]).toEqual(sampleEntry('e000', 0, { adapter: null }))

    const recent = slowSink()
    expect(await exportLogsJsonl(store, { out: recent.sink, since: new Date(sampleEntry('x', total - 10).time), pageSize: 4 })).toBe(10)
    expect(recent.text().trimEnd().split('\n')).toHaveLength(10)
  })

  it('writes nothing for an empty log', async () => {
    const { sink, text } = slowSink()
    expect(await exportLogsJsonl(store, { out: sink })).toBe(0)
    expect(text()).toBe('')
  })
})

describe('applyRetention and recordFeedback', () => {
  it('prunes only entries older than the retention window; null keeps everything', async () => {
    const now = new Date(sampleEntry('x', 60 * 24 * 10).time) // ten days after the first entry
    for (const [id, minute] of [['old', 0], ['edge', 60 * 24 * 3], ['new', 60 * 24 * 9]] as const) await store.appendQueryLog(sampleEntry(id, minute))
    expect(await applyRetention(store, { days: null, now })).toEqual({ deleted: 0, cutoff: null })
    expect(await applyRetention(store, { days: 7, now })).toEqual({ deleted: 1, cutoff: sampleEntry('x', 60 * 24 * 3).time })
    expect((await store.listQueryLogs()).map((e) => e.id)).toEqual(['new', 'edge'])
    await expect(applyRetention(store, { days: 0, now })).rejects.toMatchObject({ code: 'USAGE' })
  })

  it('records ratings, corrections and categories, refusing empty labels and unknown queries', async () => {
    await store.appendQueryLog(sampleEntry('fq', 0))
    const good = await recordFeedback(store, { queryId: 'fq', rating: 'good', source: 'cli' })
    expect(good).toMatchObject({ queryId: 'fq', rating: 'good', correction: null, category: null, source: 'cli' })
    const fix = await recordFeedback(store, { queryId: 'fq', correction: 'Every 30 days.', category: ' ', source: 'http', author: 'ana' })
    expect(fix).toMatchObject({ rating: null, correction: 'Every 30 days.', category: null, author: 'ana' })
    expect(await store.listLabels({ queryId: 'fq' })).toEqual([good, fix])
    await expect(recordFeedback(store, { queryId: 'fq', correction: '  ', source: 'cli' })).rejects.toMatchObject({ code: 'FEEDBACK_EMPTY' })
    await expect(recordFeedback(store, { queryId: 'nope', rating: 'bad', source: 'cli' })).rejects.toMatchObject({ code: 'QUERY_NOT_FOUND' })
  })
})
