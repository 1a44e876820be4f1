import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import { evalSetFromRecords, loadEvalSet, parseEvalSet } from './eval-set.js'

const META = { name: 'set', sha256: 'a'.repeat(64) }
const lines = (...rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n'

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(RagtuneError)
    return (err as RagtuneError).code
  }
  throw new Error('expected a RagtuneError')
}

const dirs: string[] = []
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

describe('eval sets', () => {
  it('reads the plain format with every optional field', () => {
    const set = parseEvalSet(
      lines(
        { id: 'q1', question: ' Which port? ', answer: '7500', goldDocIds: ['ports.md'], category: 'format' },
        { question: 'Is it safe?', label: 'Yes', schema: { type: 'object' } },
        { id: 7, question: 'Any of these?', answer: ['a', 'b'] },
      ) + '\n\n',
      META,
    )
    expect(set.examples).toEqual([
      { id: 'q1', question: 'Which port?', answers: ['7500'], label: null, goldDocIds: ['ports.md'], category: 'format', schema: null },
      { id: expect.stringMatching(/^[0-9a-f]{16}$/), question: 'Is it safe?', answers: [], label: 'yes', goldDocIds: [], category: 'uncategorized', schema: { type: 'object' } },
      { id: '7', question: 'Any of these?', answers: ['a', 'b'], label: null, goldDocIds: [], category: 'uncategorized', schema: null },
    ])
    expect(set.labels).toEqual(['yes'])
    // Content ids are stable: the same example in another file position gets the same id.
    expect(parseEvalSet(lines({ question: 'x' }, { question: 'Is it safe?', label: 'yes' }), META).examples[1]!.id).toBe(set.examples[1]!.id)
  })

  it('reads the chat records the dataset builder exports', () => {
    const set = parseEvalSet(
      lines(
        {
          messages: [
            { role: 'system', content: 'Answer from the sources.' },
            { role: 'user', content: '<sources>\n<source n="1" path="a.md">\ntext\n</source>\n</sources>\n\nQuestion: How often are keys rotated?' },
            { role: 'assistant', content: 'Every 90 days [1].' },
          ],
          metadata: { category: 'citation', gold: { documents: ['keys.md'], chunkIds: ['c1'] }, datasetId: 'ignored' },
        },
        { messages: [{ role: 'user', content: 'Bare question?' }], metadata: { id: 'm2', label: 'No', goldDocIds: ['x.md'] } },
      ),
      META,
    )
    expect(set.examples[0]).toMatchObject({ question: 'How often are keys rotated?', answers: ['Every 90 days [1].'], category: 'citation', goldDocIds: ['keys.md'] })
    expect(set.examples[1]).toMatchObject({ id: 'm2', question: 'Bare question?', answers: [], label: 'no', goldDocIds: ['x.md'] })
  })

  it('reads the dataset builder\'s own record metadata, also from stored records', () => {
    const record = {
      messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'x\n\nQuestion: Which port?' }, { role: 'assistant', content: 'Port 7500 [1].' }],
      metadata: { id: 'log:01J', split: 'eval', source: 'log', categories: ['format', 'citation'], oracle: 'retrieved', refusalTarget: false, goldChunkIds: ['c9'], goldDocuments: [], sources: [], tokens: 40 },
    }
    const fromFile = parseEvalSet(lines(record), META).examples[0]
    expect(fromFile).toMatchObject({ id: 'log:01J', question: 'Which port?', answers: ['Port 7500 [1].'], category: 'format', goldDocIds: ['c9'] })
    const stored = evalSetFromRecords([record], 'ds-eval')
    expect(stored.examples).toEqual([fromFile])
    expect(stored).toMatchObject({ name: 'ds-eval', sha256: createHash('sha256').update(lines(record)).digest('hex') })
    expect(() => evalSetFromRecords([{ nope: 1 }], 'ds-eval')).toThrow(/ds-eval record 1/)
  })

  it('names the line of every problem', () => {
    expect(() => parseEvalSet('{"question": "ok"}\nnot json\n', META)).toThrow(/set line 2: not JSON/)
    expect(() => parseEvalSet(lines({ question: 'q', gold: ['x'] }), META)).toThrow(/unknown field "gold"/)
    expect(() => parseEvalSet(lines({ answer: 'no question' }), META)).toThrow(/line 1: question/)
    expect(() => parseEvalSet(lines({ messages: [{ role: 'assistant', content: 'a' }] }), META)).toThrow(/question is unknown/)
    expect(codeOf(() => parseEvalSet(lines({ id: 'x', question: 'a' }, { id: 'x', question: 'b' }), META))).toBe('EVAL_SET_INVALID')
    expect(codeOf(() => parseEvalSet('\n \n', META))).toBe('EVAL_SET_EMPTY')
    // Two identical questions without ids stay apart.
    const twice = parseEvalSet(lines({ question: 'same' }, { question: 'same' }), META)
    expect(new Set(twice.examples.map((e) => e.id)).size).toBe(2)
  })

  it('loads a file: name from the file, sha256 of its bytes', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-evalset-'))
    dirs.push(dir)
    const file = path.join(dir, 'heldout.jsonl')
    await writeFile(file, lines({ question: 'q' }))
    const set = await loadEvalSet(file)
    expect(set.name).toBe('heldout')
    expect(set.sha256).toBe(createHash('sha256').update(lines({ question: 'q' })).digest('hex'))
    await expect(loadEvalSet(path.join(dir, 'missing.jsonl'))).rejects.toMatchObject({ code: 'EVAL_SET_NOT_FOUND' })
  })
})
