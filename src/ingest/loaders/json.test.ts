import { describe, expect, it } from 'vitest'
import { flattenJson, JsonLoader, JsonlLoader } from './json.js'
import { loaderContract } from './loader.contract.js'

loaderContract(() => new JsonLoader(), { path: 'a.json', bytes: Buffer.from('{"faq":{"q":"How?","a":"Like this."}}') }, 'faq.q: How?')
loaderContract(() => new JsonlLoader(), { path: 'a.jsonl', bytes: Buffer.from('{"q":"a"}\r\n{"q":"b"}\n') }, 'q: a\n\nq: b')

describe('flattenJson', () => {
  it('joins nested keys with dots and lists array items by index', () => {
    const value = { title: 'Guide', meta: { author: { name: 'Ada' }, tags: ['x', 'y'], empty: {}, none: [] }, n: 3, ok: false, nil: null }
    expect(flattenJson(value)).toBe('title: Guide\nmeta.author.name: Ada\nmeta.tags[0]: x\nmeta.tags[1]: y\nn: 3\nok: false\nnil: null')
    expect(flattenJson([{ a: 1 }, 'two'])).toBe('[0].a: 1\n[1]: two')
    expect(flattenJson('just text')).toBe('just text')
  })
})

describe('JsonLoader', () => {
  it('treats a top-level array as records separated by blank lines', async () => {
    const doc = await new JsonLoader().doLoad({ path: 'a.json', bytes: Buffer.from('[{"q":"one"},{"q":"two"}]') })
    expect(doc.text).toBe('q: one\n\nq: two')
  })

  it('rejects invalid JSON as LOAD_CORRUPT', async () => {
    await expect(new JsonLoader().doLoad({ path: 'a.json', bytes: Buffer.from('{"a": 1,}') })).rejects.toMatchObject({ code: 'LOAD_CORRUPT' })
  })
})

describe('JsonlLoader', () => {
  it('skips blank lines and names the line number of an invalid record', async () => {
    const bytes = Buffer.from('{"q":"a"}\n\n{"q": oops}\n')
    await expect(new JsonlLoader().doLoad({ path: 'data/x.jsonl', bytes })).rejects.toMatchObject({
      code: 'LOAD_CORRUPT',
      details: { path: 'data/x.jsonl', line: 3 },
      message: expect.stringMatching(/data\/x\.jsonl: .*line 3/),
    })
  })
})
