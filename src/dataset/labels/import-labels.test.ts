import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildMessages } from '../../answer/prompt.js'
import { RagtuneError } from '../../errors.js'
import { PGliteStore } from '../../store/pglite-store.js'
import { importLabels } from './import-labels.js'
import { SHARED_DATA_MISSING, sharedDataDir } from '../../../test/helpers/shared-data.js'

let store: PGliteStore
let dir: string
const file = async (name: string, text: string): Promise<string> => {
  const p = path.join(dir, name)
  await writeFile(p, text)
  return p
}
const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n'
async function failure(p: Promise<unknown>): Promise<RagtuneError> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(RagtuneError)
  return err as RagtuneError
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ragtune-labels-'))
  store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: 4, embeddingModel: 'test/4d' })
})

afterAll(async () => {
  await store?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('importLabels', () => {
  it('imports the guide\'s JSONL (instruction/input/output), once', async () => {
    const p = await file('guide.jsonl', jsonl([
      { instruction: 'How often are keys rotated?', input: 'Rotate the master keys every 90 days.', output: 'Every 90 days.', category: 'format' },
      { instruction: 'Which port?', input: '', output: 'Port 7500.', metadata: { goldDocuments: ['ports.md'] } },
    ]) + '\n')
    const first = await importLabels(store, p, 'guide', { category: 'tone' })
    expect(first).toMatchObject({ format: 'guide', read: 2, added: 2, existing: 0, skipped: 0 })
    const stored = await store.listLabeledExamples({ batchId: first.batchId })
    expect(stored.map((e) => [e.question, e.answer, e.category, e.gold, e.origin])).toEqual([
      ['How often are keys rotated?', 'Every 90 days.', 'format', { documents: [], chunkIds: [], text: 'Rotate the master keys every 90 days.' }, 'guide.jsonl:1'],
      ['Which port?', 'Port 7500.', 'tone', { documents: ['ports.md'], chunkIds: [], text: null }, 'guide.jsonl:2'],
    ])
    expect(await importLabels(store, p, 'guide')).toMatchObject({ read: 2, added: 0, existing: 2 })
  })

  it('imports OpenAI chat JSONL, taking the question out of a ragtune-rendered user turn', async () => {
    const messages = buildMessages({ question: 'Which port does the heartbeat use?', sources: [{ n: 1, path: 'p.md', heading: [], text: 'Port 7500.' }] })
    const p = await file('chat.jsonl', jsonl([
      { messages: [...messages, { role: 'assistant', content: 'Port 7500 [1].' }], metadata: { categories: ['citation'], goldChunkIds: ['p.md#0'] } },
      { messages: [{ role: 'user', content: 'What is RAFT?' }, { role: 'assistant', content: 'Retrieval-augmented fine-tuning.' }] },
    ]))
    const res = await importLabels(store, p, 'openai')
    const stored = await store.listLabeledExamples({ batchId: res.batchId })
    expect(stored.map((e) => [e.question, e.answer, e.category, e.gold.chunkIds])).toEqual([
      ['Which port does the heartbeat use?', 'Port 7500 [1].', 'citation', ['p.md#0']],
      ['What is RAFT?', 'Retrieval-augmented fine-tuning.', null, []],
    ])
  })

  it('imports SQuAD (unanswerable questions skipped) and the real PubMedQA file', async (ctx) => {
    const squad = { version: 'v2.0', data: [{ title: 'Super_Bowl_50', paragraphs: [{ context: 'The Denver Broncos won Super Bowl 50.', qas: [
      { id: 'q1', question: 'Who won Super Bowl 50?', answers: [{ text: 'Denver Broncos', answer_start: 4 }] },
      { id: 'q2', question: 'Who lost?', answers: [], is_impossible: true },
    ] }] }] }
    const s = await importLabels(store, await file('squad.json', JSON.stringify(squad)), 'squad')
    expect(s).toMatchObject({ read: 1, added: 1, skipped: 1 })
    expect((await store.listLabeledExamples({ batchId: s.batchId }))[0]).toMatchObject({
      question: 'Who won Super Bowl 50?', answer: 'Denver Broncos', gold: { documents: ['Super_Bowl_50#0'], text: 'The Denver Broncos won Super Bowl 50.' },
    })
    const shared = sharedDataDir()
    if (!shared) return ctx.skip(SHARED_DATA_MISSING)
    const pubmed = path.join(shared, 'pubmedqa')
    const p = await importLabels(store, pubmed, 'pubmedqa')
    expect(p).toMatchObject({ read: 1000, added: 1000, skipped: 0 })
    const one = (await store.listLabeledExamples({ batchId: p.batchId })).find((e) => e.gold.documents[0] === '21645374')!
    expect(one.question).toBe('Do mitochondria play a role in remodelling lace plant leaves during programmed cell death?')
    expect(one.answer).toMatch(/^Yes\. /)
    expect(one.gold.text).toMatch(/^Programmed cell death \(PCD\) is the regulated death/)
  })

  it('reports a malformed file with its line or record and stores nothing of it', async () => {
    const before = (await store.listLabeledExamples()).length
    const good = { instruction: 'Fresh question?', input: '', output: 'Fresh answer.' }
    const badJson = await failure(importLabels(store, await file('bad1.jsonl', `${JSON.stringify(good)}\n\n{"instruction": "x", "output": }\n`), 'guide'))
    expect(badJson).toMatchObject({ code: 'DATASET_INVALID', details: { record: 'line 3' } })
    expect(badJson.message).toMatch(/bad1\.jsonl: line 3: not valid JSON/)
    const missing = await failure(importLabels(store, await file('bad2.jsonl', jsonl([good, { instruction: 'No answer' }])), 'guide'))
    expect(missing.message).toMatch(/line 2, field "output"/)
    expect(missing.message).toMatch(/fix: expected one JSON object per line/)
    const notLast = await failure(importLabels(store, await file('bad3.jsonl', jsonl([{ messages: [{ role: 'assistant', content: 'a' }, { role: 'user', content: 'q' }] }])), 'openai'))
    expect(notLast.message).toMatch(/line 1, field "messages\[1\]": expected the last message to be a non-empty assistant answer/)
    const squad = await failure(importLabels(store, await file('bad.json', '{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [{"id": "1"}]}]}]}'), 'squad'))
    expect(squad.message).toMatch(/data\[0\]\.paragraphs\[0\]\.qas\[0\], field "question"/)
    const syntax = await failure(importLabels(store, await file('bad4.json', '{"data": [\n  {"title": }\n]}'), 'squad'))
    expect(syntax.message).toMatch(/bad4\.json: line 2, column 13: not valid JSON/)
    expect((await store.listLabeledExamples()).length).toBe(before)
    expect((await store.listLabeledExamples()).some((e) => e.question === 'Fresh question?')).toBe(false)
  })
})
