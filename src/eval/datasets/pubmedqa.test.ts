import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadPubmedqa } from './pubmedqa.js'

const REAL = '/work/shared/data/pubmedqa'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ragtune-pubmedqa-'))
  await writeFile(join(dir, 'ori_pqal.json'), JSON.stringify(data))
  await writeFile(join(dir, 'test_ground_truth.json'), JSON.stringify({ '222': 'no' }))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const record = (question: string, contexts: string[]) => ({
  QUESTION: question,
  CONTEXTS: contexts,
  LABELS: contexts.map(() => 'BACKGROUND'),
  LONG_ANSWER: 'The conclusion, withheld from the document.',
  MESHES: ['Humans'],
  YEAR: '2001',
  reasoning_required_pred: 'yes',
  reasoning_free_pred: 'yes',
  final_decision: 'yes',
})
const data = { '111': record('Does A cause B?', ['First part.', ' Second part. ']), '222': record('Is C safe?', ['Only part.']) }

describe('loadPubmedqa', () => {
  it('makes each abstract a document keyed by PMID and asks its own question', async () => {
    const ds = await loadPubmedqa(dir)
    expect(ds.name).toBe('pubmedqa')
    expect(ds.documents).toEqual([
      { id: '111', text: 'First part.\n\nSecond part.' },
      { id: '222', text: 'Only part.' },
    ])
    expect(ds.queries).toEqual([
      { id: '111', text: 'Does A cause B?', relevant: { '111': 1 } },
      { id: '222', text: 'Is C safe?', relevant: { '222': 1 } },
    ])
    expect(ds.documents.some((d) => d.text.includes('withheld'))).toBe(false)
  })

  it('restricts queries, not documents, to a split', async () => {
    const bySplit = await loadPubmedqa(join(dir, 'ori_pqal.json'), { split: 'test' })
    expect(bySplit.name).toBe('pubmedqa:test')
    expect(bySplit.queries.map((q) => q.id)).toEqual(['222'])
    expect(bySplit.documents).toHaveLength(2)
    const gt = join(dir, 'mine.json')
    await writeFile(gt, JSON.stringify({ '111': 'yes' }))
    const byFile = await loadPubmedqa(dir, { groundTruth: gt })
    expect(byFile.queries.map((q) => q.id)).toEqual(['111'])
  })

  it('rejects a ground-truth PMID that the data file lacks', async () => {
    const gt = join(dir, 'stray.json')
    await writeFile(gt, JSON.stringify({ '999': 'yes' }))
    await expect(loadPubmedqa(dir, { groundTruth: gt })).rejects.toMatchObject({
      code: 'DATASET_INVALID',
      details: { file: gt, record: 'PMID 999' },
    })
  })

  it('names the PMID and the field of a bad record', async () => {
    const file = join(dir, 'bad.json')
    await writeFile(file, JSON.stringify({ '1': record('ok?', ['x']), '2': { ...record('q?', ['x']), CONTEXTS: ['a', 7] } }))
    await expect(loadPubmedqa(file)).rejects.toMatchObject({
      code: 'DATASET_INVALID',
      details: { file, record: 'PMID 2', field: 'CONTEXTS[1]' },
    })
    await writeFile(file, JSON.stringify({ '3': { CONTEXTS: ['x'] } }))
    await expect(loadPubmedqa(file)).rejects.toThrow(/bad\.json: PMID 3, field "QUESTION"/)
  })

  it('rejects a top level that is not an object keyed by PMID', async () => {
    const file = join(dir, 'array.json')
    await writeFile(file, JSON.stringify([record('q?', ['x'])]))
    await expect(loadPubmedqa(file)).rejects.toMatchObject({ code: 'DATASET_INVALID', details: { record: 'top level' } })
  })

  it('reports a missing split file and a missing dataset as DATASET_NOT_FOUND', async () => {
    await expect(loadPubmedqa(dir, { split: 'dev' })).rejects.toMatchObject({ code: 'DATASET_NOT_FOUND' })
    await expect(loadPubmedqa(join(dir, 'absent'))).rejects.toMatchObject({ code: 'DATASET_NOT_FOUND' })
  })

  it('stops with ABORTED when the signal has fired', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(loadPubmedqa(dir, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('reads the real PQA-L release: 1,000 abstracts, 500 test questions', async () => {
    const all = await loadPubmedqa(REAL)
    expect(all.documents).toHaveLength(1000)
    expect(all.queries).toHaveLength(1000)
    expect(all.documents.every((d) => d.text.length > 0)).toBe(true)
    const first = all.queries.find((q) => q.id === '21645374')
    expect(first?.text).toBe('Do mitochondria play a role in remodelling lace plant leaves during programmed cell death?')
    expect(first?.relevant).toEqual({ '21645374': 1 })

    const test = await loadPubmedqa(join(REAL, 'ori_pqal.json'), { split: 'test' })
    expect(test.queries).toHaveLength(500)
    expect(test.documents).toHaveLength(1000)
  })
})
