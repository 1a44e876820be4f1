import { beforeAll, describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import type { DatasetVersion, LabeledExample } from '../spec/dataset.js'
import type { Store } from '../spec/store.js'

export function labeled(id: string, over: Partial<LabeledExample> = {}): LabeledExample {
  return {
    id, question: `question ${id}? ünïcode ✓`, answer: 'answer \u0000 with NUL', gold: { documents: ['a.md'], chunkIds: [], text: 'passage' },
    category: 'format', source: 'guide', origin: `labels.jsonl:${id}`, batchId: 'b1', importedAt: '2025-03-01T12:00:00.000Z', ...over,
  }
}

function version(id: string, hash: string): DatasetVersion {
  return { id, name: null, hash, createdAt: '2025-03-01T12:00:00.000Z', counts: { train: 2, eval: 1 }, lineage: { index: { fingerprint: 'f' } }, report: { split: { leakage: 0 } } }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(RagtuneError)
  return (err as RagtuneError).code
}

/** Imported labels, dataset versions and chunk look-ups: the part of the Store the dataset builder needs. */
export function describeDatasetContract(name: string, open: () => Promise<Store>): void {
  describe(`${name}: labeled examples and datasets`, () => {
    let store: Store
    beforeAll(async () => {
      store = await open()
      await store.init({ dimensions: 4, embeddingModel: 'contract/4d' })
      await store.replaceDocument({ path: 'a.md', contentHash: 'h', size: 1, format: 'md', chunkCount: 2, indexedAt: '2025-03-01T12:00:00.000Z' }, [
        { id: 'a#1', documentPath: 'a.md', ordinal: 1, text: 'second', headingPath: ['A'], tokenCount: 1, embedding: new Float32Array([0, 1, 0, 0]) },
        { id: 'a#0', documentPath: 'a.md', ordinal: 0, text: 'first', headingPath: [], tokenCount: 1, embedding: new Float32Array([1, 0, 0, 0]) },
      ])
      return () => store.close()
    })

    it('stores labeled examples once, listing them by batch', async () => {
      expect(await store.addLabeledExamples([labeled('x1'), labeled('x2', { batchId: 'b2', category: null })])).toEqual({ added: 2, existing: 0 })
      expect(await store.addLabeledExamples([labeled('x1'), labeled('x3')])).toEqual({ added: 1, existing: 1 })
      const all = await store.listLabeledExamples()
      expect(all.map((e) => e.id).sort()).toEqual(['x1', 'x2', 'x3'])
      expect(all.find((e) => e.id === 'x1')).toEqual({ ...labeled('x1'), answer: 'answer \uFFFD with NUL' })
      expect((await store.listLabeledExamples({ batchId: 'b2' })).map((e) => e.id)).toEqual(['x2'])
    })

    it('writes a batch all or nothing', async () => {
      const code = await codeOf(store.addLabeledExamples([labeled('y1'), labeled('y2', { importedAt: 'not a date' })]))
      expect(code).toBe('STORE_WRITE_FAILED')
      expect((await store.listLabeledExamples()).map((e) => e.id)).not.toContain('y1')
    })

    it('stores a dataset version with its records; the same hash twice is DATASET_EXISTS', async () => {
      const records = [{ split: 'train' as const, record: { n: 1 } }, { split: 'eval' as const, record: { n: 2 } }, { split: 'train' as const, record: { n: 3 } }]
      await store.saveDataset(version('d1', 'hash-1'), records)
      expect(await store.getDataset({ id: 'd1' })).toEqual(version('d1', 'hash-1'))
      expect(await store.getDataset({ hash: 'hash-1' })).toEqual(version('d1', 'hash-1'))
      expect(await store.getDataset({ id: 'nope' })).toBeNull()
      expect(await store.listDatasetRecords('d1', 'train')).toEqual([{ n: 1 }, { n: 3 }])
      expect(await store.listDatasetRecords('d1', 'eval')).toEqual([{ n: 2 }])
      expect(await codeOf(store.saveDataset(version('d2', 'hash-1'), records))).toBe('DATASET_EXISTS')
      expect(await store.getDataset({ id: 'd2' })).toBeNull()
      await store.saveDataset({ ...version('d3', 'hash-3'), createdAt: '2025-03-02T12:00:00.000Z' }, [])
      expect((await store.listDatasets()).map((v) => v.id)).toEqual(['d3', 'd1'])
      expect(await codeOf(store.listDatasetRecords('nope', 'train'))).toBe('DATASET_NOT_FOUND')
    })

    it('reads chunks back by id (in the order asked) or by document (in order)', async () => {
      expect((await store.getChunks({ ids: ['a#1', 'gone', 'a#0'] })).map((c) => c.id)).toEqual(['a#1', 'a#0'])
      expect(await store.getChunks({ documentPaths: ['a.md'] })).toEqual([
        { id: 'a#0', documentPath: 'a.md', headingPath: [], text: 'first', ordinal: 0 },
        { id: 'a#1', documentPath: 'a.md', headingPath: ['A'], text: 'second', ordinal: 1 },
      ])
      expect(await store.getChunks({ ids: [] })).toEqual([])
    })
  })
}
