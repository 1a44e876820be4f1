import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importLabels } from '../../src/dataset/labels/import-labels.js'
import { RagtuneError } from '../../src/errors.js'
import type { LabelFormat } from '../../src/spec/dataset.js'
import { PGliteStore } from '../../src/store/pglite-store.js'
import { readTrainingFile } from '../../src/train/data/training-records.js'
import { prng, randomBytes, scaled } from './helpers.js'

// Malformed training files (what `ragtune train --dataset` reads) and label files (`ragtune labels
// import`, all four formats): each gives a DATASET_* error naming the file and the record, and an
// import that fails stores nothing, so the labels already stored stay exactly as they were.
const MUTATIONS = scaled(40, 400)
let dir: string
let n = 0

async function file(text: string | Uint8Array, ext = 'jsonl'): Promise<string> {
  const p = path.join(dir, `f${n++}.${ext}`)
  await writeFile(p, text)
  return p
}

const jsonl = (...records: unknown[]): string => records.map((r) => JSON.stringify(r)).join('\n') + '\n'
const chat = (q: string, a: string): unknown => ({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: q }, { role: 'assistant', content: a }] })

/** Damage to a valid file: flipped bytes, a cut, or a spliced run of random bytes. */
function mutate(bytes: Uint8Array, rand: () => number): Uint8Array {
  const kind = Math.floor(rand() * 3)
  if (kind === 0) {
    const out = bytes.slice()
    for (let i = 0; i < 1 + rand() * 6; i++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256)
    return out
  }
  if (kind === 1) return bytes.slice(0, Math.floor(rand() * bytes.length))
  const at = Math.floor(rand() * bytes.length)
  return Uint8Array.from([...bytes.subarray(0, at), ...randomBytes(rand, 1 + Math.floor(rand() * 32)), ...bytes.subarray(at)])
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-dataset-fuzz-'))
})

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('malformed training files', () => {
  it('refuse each bad record with DATASET_INVALID naming the line', async () => {
    const good = JSON.stringify(chat('Which port?', 'Port 7500 [1].'))
    const cases: Array<[string, string, number]> = [
      ['empty file', '', 1],
      ['blank lines only', '\n \n\t\n', 1],
      ['not JSON', `${good}\nhello\n`, 2],
      ['a JSON array', `${good}\n[1, 2]\n`, 2],
      ['null', 'null\n', 1],
      ['messages is a number', '{"messages": 5}\n', 1],
      ['last message from the user', jsonl({ messages: [{ role: 'assistant', content: 'a' }, { role: 'user', content: 'q' }] }), 1],
      ['only an answer', jsonl({ messages: [{ role: 'assistant', content: 'a' }] }), 1],
      ['unknown role', jsonl({ messages: [{ role: 'tool', content: 'x' }, { role: 'assistant', content: 'a' }] }), 1],
      ['content not text', jsonl({ messages: [{ role: 'user', content: ['q'] }, { role: 'assistant', content: 'a' }] }), 1],
      ['instruction without output', jsonl({ instruction: 'q' }), 1],
      ['prompt without completion', `${good}\n${good}\n${JSON.stringify({ prompt: 'q', completion: 7 })}\n`, 3],
      ['truncated last line', `${good}\n${good.slice(0, 30)}`, 2],
      ['nested 100k deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}\n`, 1],
      ['unclosed nesting', `${good}\n${'{"a":['.repeat(50_000)}\n`, 2],
    ]
    for (const [what, text, line] of cases) {
      const err = await readTrainingFile(await file(text)).catch((e: unknown) => e)
      expect(err, what).toBeInstanceOf(RagtuneError)
      expect(err, what).toMatchObject({ code: 'DATASET_INVALID', details: { line } })
      expect((err as Error).message, what).toMatch(new RegExp(`f\\d+\\.jsonl:${line}: `))
    }
    await expect(readTrainingFile(path.join(dir, 'missing.jsonl'))).rejects.toMatchObject({ code: 'DATASET_NOT_FOUND' })
    await expect(readTrainingFile(dir)).rejects.toMatchObject({ code: 'DATASET_NOT_FOUND' })
  })

  it(`read or refuse ${MUTATIONS} damaged files, never with anything but a RagtuneError`, async () => {
    const valid = new TextEncoder().encode(jsonl(chat('Which port?', 'Port 7500 [1].'), { instruction: 'Rotate?', input: 'ctx', output: 'Every 90 days.' }, { prompt: 'p', completion: 'c' }))
    const rand = prng(3)
    let refused = 0
    for (let i = 0; i < MUTATIONS; i++) {
      const result = await readTrainingFile(await file(mutate(valid, rand))).catch((e: unknown) => e)
      if (result instanceof Error) {
        expect(result, `mutation ${i}`).toBeInstanceOf(RagtuneError)
        expect((result as RagtuneError).code).toMatch(/^DATASET_/)
        refused++
      } else {
        expect((result as Awaited<ReturnType<typeof readTrainingFile>>).records.length).toBeGreaterThan(0)
      }
    }
    expect(refused).toBeGreaterThan(MUTATIONS / 4)
  })
})

describe('malformed label imports', () => {
  let store: PGliteStore

  beforeAll(async () => {
    store = await PGliteStore.open({})
    await store.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
  })

  afterAll(async () => {
    await store?.close()
  })

  const valid: Record<LabelFormat, () => string> = {
    guide: () => jsonl({ instruction: 'Which port?', input: '', output: 'Port 7500.' }, { instruction: 'Rotate?', input: 'ctx', output: '90 days.' }),
    openai: () => jsonl(chat('Which port?', 'Port 7500.'), chat('Rotate?', '90 days.')),
    squad: () => JSON.stringify({ version: 'v2.0', data: [{ title: 'T', paragraphs: [{ context: 'The Broncos won.', qas: [{ id: 'q1', question: 'Who won?', answers: [{ text: 'Broncos', answer_start: 4 }] }] }] }] }),
    pubmedqa: () => JSON.stringify({ 123: { QUESTION: 'Does it work?', CONTEXTS: ['It does.'], LONG_ANSWER: 'It works.', final_decision: 'yes' } }),
  }

  it('store nothing of a file that fails, in every format, and keep the labels stored before', async () => {
    const first = await importLabels(store, await file(valid.guide()), 'guide')
    expect(first.added).toBe(2)
    const before = await store.listLabeledExamples()
    const rand = prng(17)
    const outcomes = { refused: 0, imported: 0 }
    for (const format of Object.keys(valid) as LabelFormat[]) {
      const ext = format === 'squad' || format === 'pubmedqa' ? 'json' : 'jsonl'
      const bytes = new TextEncoder().encode(valid[format]())
      const hostile: Uint8Array[] = [
        new Uint8Array(0),
        randomBytes(rand, 2048),
        new TextEncoder().encode(`${'['.repeat(100_000)}`),
        new TextEncoder().encode(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`),
        Uint8Array.from([0xef, 0xbb, 0xbf, ...bytes.subarray(0, bytes.length - 3)]),
        new TextEncoder().encode(valid[format]().replace('Port 7500', 'Port\\u00007500').replace('Broncos won', 'Bron\\u0000cos won').replace('It works', 'It \\u0000works')),
        ...Array.from({ length: MUTATIONS / 4 }, () => mutate(bytes, rand)),
      ]
      for (const [i, h] of hostile.entries()) {
        const p = await file(h, ext)
        const result = await importLabels(store, p, format).catch((e: unknown) => e)
        if (result instanceof Error) {
          expect(result, `${format} case ${i}: ${result.message}`).toBeInstanceOf(RagtuneError)
          expect((result as RagtuneError).code, `${format} case ${i}`).toMatch(/^DATASET_/)
          expect(result.message).toContain(path.basename(p))
          outcomes.refused++
          const now = await store.listLabeledExamples()
          expect(now.length, `${format} case ${i} left rows behind`).toBe(before.length + outcomes.imported)
        } else {
          // A damaged file can still be a valid one (a flipped letter in an answer): it is imported as such.
          outcomes.imported += (result as { added: number }).added
        }
      }
    }
    expect(outcomes.refused).toBeGreaterThan(10)
    const after = await store.listLabeledExamples()
    for (const e of before) expect(after.find((a) => a.id === e.id)).toEqual(e)
  })
})
