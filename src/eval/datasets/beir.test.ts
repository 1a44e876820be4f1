import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBeir } from './beir.js'

let base: string
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'ragtune-beir-'))
})
afterAll(async () => {
  await rm(base, { recursive: true, force: true })
})

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n'
const corpus = [
  { _id: 'd1', title: 'Quotas', text: 'Buckets have a 50 TB soft quota.' },
  { _id: 'd2', title: '', text: 'Nodes rebalance every 6 hours.' },
  { _id: 'd3', title: 'Tiers', text: 'Archive tier moves after 90 days.', metadata: {} },
]
const queries = [
  { _id: 'q1', text: 'bucket quota size' },
  { _id: 'q2', text: 'rebalance interval' },
  { _id: 'q3', text: 'archive tier' },
]

/** Writes a BEIR folder; `files` overrides or adds raw file contents by relative path. */
async function makeDataset(name: string, files: Record<string, string> = {}): Promise<string> {
  const root = join(base, name)
  await mkdir(join(root, 'qrels'), { recursive: true })
  const all: Record<string, string> = {
    'corpus.jsonl': jsonl(corpus),
    'queries.jsonl': jsonl(queries),
    'qrels/test.tsv': 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\nq2\td3\t0\r\n',
    'qrels/dev.tsv': 'query-id\tcorpus-id\tscore\nq3\td3\t1\n',
    ...files,
  }
  for (const [path, content] of Object.entries(all)) await writeFile(join(root, path), content)
  return root
}

describe('loadBeir', () => {
  it('reads corpus, the judged queries of the test split, and graded qrels', async () => {
    const root = await makeDataset('scifact')
    const ds = await loadBeir(root)
    expect(ds.name).toBe('beir:scifact:test')
    expect(ds.documents).toEqual([
      { id: 'd1', title: 'Quotas', text: 'Buckets have a 50 TB soft quota.' },
      { id: 'd2', text: 'Nodes rebalance every 6 hours.' },
      { id: 'd3', title: 'Tiers', text: 'Archive tier moves after 90 days.' },
    ])
    expect(ds.queries).toEqual([
      { id: 'q1', text: 'bucket quota size', relevant: { d1: 1 } },
      { id: 'q2', text: 'rebalance interval', relevant: { d2: 2, d3: 0 } },
    ])
    expect(ds.warnings).toEqual([])
  })

  it('accepts any file of the folder, and a qrels file picks its split', async () => {
    const root = await makeDataset('pick')
    expect((await loadBeir(join(root, 'corpus.jsonl'))).name).toBe('beir:pick:test')
    const dev = await loadBeir(join(root, 'qrels', 'dev.tsv'))
    expect(dev.name).toBe('beir:pick:dev')
    expect(dev.queries.map((q) => q.id)).toEqual(['q3'])
    expect((await loadBeir(join(root, 'qrels', 'dev.tsv'), { split: 'test' })).name).toBe('beir:pick:test')
    expect((await loadBeir(root, { split: 'dev' })).queries).toHaveLength(1)
  })

  it('accepts qrels without a header and numeric ids', async () => {
    const root = await makeDataset('numeric', {
      'corpus.jsonl': jsonl([{ _id: 7, title: 't', text: 'x' }]),
      'queries.jsonl': jsonl([{ _id: 1, text: 'y' }]),
      'qrels/test.tsv': '1\t7\t1\n',
    })
    const ds = await loadBeir(root)
    expect(ds.queries).toEqual([{ id: '1', text: 'y', relevant: { '7': 1 } }])
  })

  it('lists the available splits when the asked one is missing', async () => {
    const root = await makeDataset('splits')
    const err = await loadBeir(root, { split: 'train' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'DATASET_NOT_FOUND', details: { split: 'train' } })
    expect(String(err)).toMatch(/dev, test|test, dev/)
  })

  it('warns about dangling and all-zero judgments instead of failing', async () => {
    const root = await makeDataset('dangling', { 'qrels/test.tsv': 'query-id\tcorpus-id\tscore\nq1\tgone\t1\nq2\td2\t0\n' })
    const ds = await loadBeir(root)
    expect(ds.warnings).toHaveLength(2)
    expect(ds.warnings[0]).toMatch(/1 judged document id\(s\) are not in corpus\.jsonl \(e\.g\. "gone"\)/)
    expect(ds.warnings[1]).toMatch(/1 quer\(ies\) have no judgment above 0/)
  })

  it('names the file, line and field of bad records', async () => {
    const badCorpus = await makeDataset('bad-corpus', { 'corpus.jsonl': jsonl(corpus) + '\n{"_id":"d4","title":"t"}\n' })
    await expect(loadBeir(badCorpus)).rejects.toMatchObject({
      code: 'DATASET_INVALID',
      details: { file: join(badCorpus, 'corpus.jsonl'), record: 'line 5', field: 'text' },
    })
    const badJson = await makeDataset('bad-json', { 'queries.jsonl': '{"_id":"q1","text":"a"}\n{"_id": "q2",\n' })
    await expect(loadBeir(badJson)).rejects.toThrow(/queries\.jsonl: line 2: not valid JSON/)
    const badScore = await makeDataset('bad-score', { 'qrels/test.tsv': 'query-id\tcorpus-id\tscore\nq1\td1\thigh\n' })
    await expect(loadBeir(badScore)).rejects.toMatchObject({ details: { record: 'line 2', field: 'score' } })
    const badColumns = await makeDataset('bad-columns', { 'qrels/test.tsv': 'q1\td1\t1\nq2\td2\n' })
    await expect(loadBeir(badColumns)).rejects.toThrow(/test\.tsv: line 2: expected 3 tab-separated columns/)
    const dupDoc = await makeDataset('dup-doc', { 'corpus.jsonl': jsonl([...corpus, corpus[0]]) })
    await expect(loadBeir(dupDoc)).rejects.toMatchObject({ details: { record: 'line 4', field: '_id' } })
  })

  it('names the qrels line of a judged query that queries.jsonl lacks', async () => {
    const root = await makeDataset('missing-query', { 'qrels/test.tsv': 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq9\td1\t1\n' })
    await expect(loadBeir(root)).rejects.toMatchObject({
      code: 'DATASET_INVALID',
      details: { record: 'line 3', field: 'query-id' },
    })
  })

  it('reports a missing folder, and stops when aborted', async () => {
    await expect(loadBeir(join(base, 'absent'))).rejects.toMatchObject({ code: 'DATASET_NOT_FOUND' })
    const root = await makeDataset('aborted')
    const controller = new AbortController()
    controller.abort()
    await expect(loadBeir(root, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' })
  })
})
