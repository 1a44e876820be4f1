import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportDataset } from '../dataset/export-dataset.js'
import { PGliteStore } from '../store/pglite-store.js'
import { resolveEvalSet } from './eval-set-source.js'

let store: PGliteStore
const record = (id: string, split: 'train' | 'eval') => ({
  messages: [{ role: 'user', content: `Question ${id}?` }, { role: 'assistant', content: `Answer ${id}.` }],
  metadata: { id, split, source: 'log', categories: ['tone'], oracle: 'retrieved', refusalTarget: false, goldChunkIds: [], goldDocuments: ['a.md'], sources: [], tokens: 9 },
})

beforeAll(async () => {
  store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
  await store.saveDataset(
    { id: 'ds1', name: 'june', hash: 'd'.repeat(64), createdAt: '2025-06-01T00:00:00.000Z', counts: { train: 1, eval: 2 }, lineage: {}, report: {} },
    [{ split: 'train', record: record('t1', 'train') }, { split: 'eval', record: record('e1', 'eval') }, { split: 'eval', record: record('e2', 'eval') }],
  )
})
afterAll(async () => {
  await store?.close()
})

describe('--set dataset:<id>', () => {
  it('is the held-out split of a stored dataset version, never its training split', async () => {
    const set = await resolveEvalSet('dataset:ds1', store)
    expect(set.name).toBe('june-eval')
    expect(set.examples.map((e) => [e.id, e.question, e.answers[0], e.category, e.goldDocIds])).toEqual([
      ['e1', 'Question e1?', 'Answer e1.', 'tone', ['a.md']],
      ['e2', 'Question e2?', 'Answer e2.', 'tone', ['a.md']],
    ])
    expect((await resolveEvalSet('dataset:ds1', store)).sha256).toBe(set.sha256)
    await expect(resolveEvalSet('dataset:nope', store)).rejects.toMatchObject({ code: 'DATASET_NOT_FOUND' })
    await expect(resolveEvalSet('missing.jsonl', store)).rejects.toMatchObject({ code: 'EVAL_SET_NOT_FOUND' })
  })

  it('is the same set, by hash, as the split exported to a file, so their runs pair', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-evalset-export-'))
    try {
      const [, evalFile] = await exportDataset(store, 'ds1', 'openai', dir)
      const fromFile = await resolveEvalSet(evalFile!, store)
      const fromStore = await resolveEvalSet('dataset:ds1', store)
      expect(fromFile.sha256).toBe(fromStore.sha256)
      expect(fromFile.examples).toEqual(fromStore.examples)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
