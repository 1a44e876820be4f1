import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadRetrievalDataset } from './load-dataset.js'
import type { DatasetFormat } from './retrieval-dataset.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ragtune-load-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('loadRetrievalDataset', () => {
  it('dispatches on the named format', async () => {
    const file = join(dir, 'tiny.json')
    await writeFile(file, JSON.stringify({ data: [{ title: 'T', paragraphs: [{ context: 'c', qas: [{ id: 'a', question: 'q?' }] }] }] }))
    const ds = await loadRetrievalDataset(file, 'squad')
    expect(ds.name).toBe('squad:tiny')
    expect(ds.queries).toHaveLength(1)
  })

  it('a wrong format is caught by validation, not turned into an empty dataset', async () => {
    const file = join(dir, 'squad-as-pubmedqa.json')
    await writeFile(file, JSON.stringify({ data: [] }))
    await expect(loadRetrievalDataset(file, 'pubmedqa')).rejects.toMatchObject({ code: 'DATASET_INVALID', details: { record: 'PMID data' } })
  })

  it('rejects an unknown format with the accepted ones', async () => {
    await expect(loadRetrievalDataset(dir, 'msmarco' as DatasetFormat)).rejects.toMatchObject({
      code: 'DATASET_FORMAT_UNKNOWN',
      message: expect.stringMatching(/squad, pubmedqa, beir/),
    })
  })
})
