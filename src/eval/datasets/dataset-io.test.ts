import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { firstSyntaxError, readJsonFile } from './dataset-io.js'

describe('firstSyntaxError', () => {
  it('finds the first offset JSON.parse would reject', () => {
    expect(firstSyntaxError('{"a": }')).toBe(6)
    expect(firstSyntaxError('{"a": [1, 2,, 3]}')).toBe(12)
    expect(firstSyntaxError('{"a": "x\n"}')).toBe(8)
    expect(firstSyntaxError('[tru]')).toBe(1)
    expect(firstSyntaxError('{"a": 1} x')).toBe(9)
    expect(firstSyntaxError('{"a": [1')).toBe(8)
    expect(firstSyntaxError('{"a": -0.5e+3, "b": [true, false, null, "\\"q"]}')).toBe(47)
  })

  it('gives up on nesting too deep to scan', () => {
    expect(firstSyntaxError('['.repeat(100_000))).toBeUndefined()
  })
})

describe('readJsonFile', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ragtune-dataset-io-'))
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  async function failure(name: string, text: string): Promise<Error> {
    const file = join(dir, name)
    await writeFile(file, text)
    return readJsonFile(file, 'test file', 'fix it').then(
      () => expect.unreachable(),
      (e: unknown) => e as Error,
    )
  }

  it('names the line and column of a syntax error, with or without a position from the engine', async () => {
    expect((await failure('positioned.json', '{\n  "a": [1,\n')).message).toMatch(/positioned\.json: line 3, column 1: not valid JSON \(/)
    const unpositioned = await failure('unpositioned.json', '{"data": [\n  {"title": }\n]}')
    // V8 quotes the text around the error, newline included; the problem stays one line.
    expect(unpositioned).toMatchObject({ code: 'DATASET_INVALID', details: { record: 'line 2, column 13', problem: expect.not.stringContaining('\n') } })
    expect((await failure('deep.json', '['.repeat(100_000))).message).toMatch(/deep\.json: JSON syntax: not valid JSON/)
  })

  it('reads a file with a byte-order mark', async () => {
    const file = join(dir, 'bom.json')
    await writeFile(file, '\uFEFF{"a": 1}')
    await expect(readJsonFile(file, 'test file', 'fix it')).resolves.toEqual({ a: 1 })
  })
})
