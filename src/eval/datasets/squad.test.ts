import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSquad } from './squad.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ragtune-squad-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function write(name: string, content: unknown): Promise<string> {
  const file = join(dir, name)
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  return file
}

const v2 = {
  version: 'v2.0',
  data: [
    {
      title: 'Skyline_Storage',
      paragraphs: [
        {
          context: 'Skyline Storage ships as a 2U appliance.',
          qas: [
            { id: 'q1', question: 'What form factor?', answers: [{ text: '2U appliance', answer_start: 26 }], is_impossible: false },
            { id: 'q2', question: 'Who founded it?', answers: [], plausible_answers: [], is_impossible: true },
          ],
        },
        { context: 'Erasure coding uses 8+3 by default.', qas: [{ id: 'q3', question: 'Default erasure coding?', answers: [], is_impossible: false }] },
      ],
    },
    { title: 'Other', paragraphs: [{ context: 'Unrelated text.', qas: [] }] },
  ],
}

describe('loadSquad', () => {
  it('makes each paragraph a document and each answerable question a query with its paragraph as gold', async () => {
    const ds = await loadSquad(await write('dev-v2.0.json', v2))
    expect(ds.name).toBe('squad:dev-v2.0')
    expect(ds.documents).toEqual([
      { id: 'Skyline_Storage#0', title: 'Skyline Storage', text: 'Skyline Storage ships as a 2U appliance.' },
      { id: 'Skyline_Storage#1', title: 'Skyline Storage', text: 'Erasure coding uses 8+3 by default.' },
      { id: 'Other#0', title: 'Other', text: 'Unrelated text.' },
    ])
    expect(ds.queries).toEqual([
      { id: 'q1', text: 'What form factor?', relevant: { 'Skyline_Storage#0': 1 } },
      { id: 'q3', text: 'Default erasure coding?', relevant: { 'Skyline_Storage#1': 1 } },
    ])
    expect(ds.skipped).toBe(1)
    expect(ds.warnings).toEqual([])
  })

  it('reads v1.1 files, which have no is_impossible field', async () => {
    const v1 = { version: '1.1', data: [{ title: 'T', paragraphs: [{ context: 'c', qas: [{ id: 'a', question: 'q?', answers: [{ text: 'c', answer_start: 0 }] }] }] }] }
    const ds = await loadSquad(await write('dev-v1.1.json', v1))
    expect(ds.queries).toHaveLength(1)
    expect(ds.skipped).toBe(0)
  })

  it('names the file, the record and the field of a bad question', async () => {
    const bad = structuredClone(v2) as { data: { paragraphs: { qas: Record<string, unknown>[] }[] }[] }
    const qa = bad.data[0]?.paragraphs[1]?.qas[0]
    if (qa) qa.question = 42
    const file = await write('bad-question.json', bad)
    await expect(loadSquad(file)).rejects.toMatchObject({
      code: 'DATASET_INVALID',
      details: { file, record: 'data[0].paragraphs[1].qas[0]', field: 'question' },
    })
    await expect(loadSquad(file)).rejects.toThrow(/bad-question\.json: data\[0\]\.paragraphs\[1\]\.qas\[0\], field "question"/)
  })

  it('reports a missing data array and a paragraph without context', async () => {
    await expect(loadSquad(await write('no-data.json', { version: 'x' }))).rejects.toMatchObject({
      code: 'DATASET_INVALID',
      details: { record: 'top level', field: 'data' },
    })
    const noContext = { data: [{ title: 'T', paragraphs: [{ qas: [] }] }] }
    await expect(loadSquad(await write('no-context.json', noContext))).rejects.toMatchObject({
      details: { record: 'data[0].paragraphs[0]', field: 'context' },
    })
  })

  it('rejects duplicate question ids', async () => {
    const dup = { data: [{ title: 'T', paragraphs: [{ context: 'c', qas: [{ id: 'x', question: 'a' }, { id: 'x', question: 'b' }] }] }] }
    await expect(loadSquad(await write('dup.json', dup))).rejects.toMatchObject({
      code: 'DATASET_INVALID',
      details: { record: 'data[0].paragraphs[0].qas[1]', field: 'id' },
    })
  })

  it('gives the line and column of a JSON syntax error', async () => {
    const file = await write('broken.json', '{\n  "data": [\n    {"title": "T",, "paragraphs": []}\n  ]\n}')
    await expect(loadSquad(file)).rejects.toMatchObject({ code: 'DATASET_INVALID' })
    await expect(loadSquad(file)).rejects.toThrow(/broken\.json: (line 3, column \d+|JSON syntax): not valid JSON/)
  })

  it('reports a missing file as DATASET_NOT_FOUND', async () => {
    await expect(loadSquad(join(dir, 'nope.json'))).rejects.toMatchObject({ code: 'DATASET_NOT_FOUND' })
  })
})
