import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LabeledExample } from '../spec/dataset.js'
import type { Label } from '../spec/query-log.js'
import { sampleEntry } from '../store/query-log.contract.js'
import { PGliteStore } from '../store/pglite-store.js'
import { countNewLabels } from './new-labels.js'

// sampleEntry logs at 2025-03-01T12:00Z + n minutes.
const at = (minute: number): string => new Date(Date.parse('2025-03-01T12:00:00.000Z') + minute * 60_000).toISOString()
const label = (id: string, queryId: string, minute: number, over: Partial<Label>): Label =>
  ({ id, queryId, time: at(minute), rating: null, correction: null, category: null, source: 'cli', ...over })
const imported = (id: string, minute: number): LabeledExample =>
  ({ id, question: `q ${id}`, answer: 'a', gold: { documents: [], chunkIds: [], text: null }, category: null, source: 'guide', origin: 'x:1', batchId: 'b', importedAt: at(minute) })

let store: PGliteStore
beforeAll(async () => {
  store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
})
afterAll(async () => store?.close())

describe('countNewLabels', () => {
  it('counts usable labels (one per query) and imports, since the newest adapter\'s dataset', async () => {
    for (const id of ['q1', 'q2', 'q3', 'q4']) await store.appendQueryLog(sampleEntry(id, 0))
    await store.addLabel(label('l1', 'q1', 1, { correction: 'better [1]' }))
    await store.addLabel(label('l2', 'q1', 2, { rating: 'good' }))
    await store.addLabel(label('l3', 'q2', 3, { rating: 'bad' }))
    await store.addLabel(label('l4', 'q3', 30, { rating: 'good' }))
    await store.addLabeledExamples([imported('i1', 4), imported('i2', 40)])
    expect(await countNewLabels(store)).toEqual({ count: 4, fromLogs: 2, fromImports: 2, since: null, adapter: null, dataset: null })

    await store.saveDataset({ id: 'ds-1', name: null, hash: 'h1', createdAt: at(10), counts: { train: 1, eval: 1 }, lineage: {}, report: {} }, [])
    const sha = 'a'.repeat(64)
    const adapter = { id: `v1@${sha.slice(0, 12)}`, filePath: '/v1.gguf', fileSha256: sha, baseModel: null, baseModelSha256: null, trainingConfig: null, parent: null, status: 'candidate' as const, activatedAt: null }
    const event = (id: string, name: string) => ({ id, time: at(11), action: 'add' as const, adapter: name, previous: null, forced: false, reason: null, detail: null })
    await store.addAdapter({ ...adapter, name: 'v1', datasetVersion: 'ds-1', createdAt: at(11) }, event('e1', 'v1'))
    // Newer, but its dataset is not a stored version: it does not move the reference.
    await store.addAdapter({ ...adapter, id: 'v2@x', name: 'v2', datasetVersion: 'elsewhere', createdAt: at(12) }, event('e2', 'v2'))
    expect(await countNewLabels(store)).toEqual({ count: 2, fromLogs: 1, fromImports: 1, since: at(10), adapter: 'v1', dataset: 'ds-1' })
  })
})
