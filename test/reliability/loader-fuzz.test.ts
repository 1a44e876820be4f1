import { mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { strToU8, zipSync } from 'fflate'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discoverFiles, loadFile, type LoadFileResult } from '../../src/ingest/discover.js'
import { indexFolder } from '../../src/ingest/indexer.js'
import { DOCX_MAX_XML_BYTES } from '../../src/ingest/loaders/docx.js'
import { makeDocx, makePdf } from '../../src/ingest/loaders/loader.contract.js'
import { defaultLoaders } from '../../src/ingest/loaders/registry.js'
import { TransformersEmbeddingModel } from '../../src/models/transformers/transformers-embedding-model.js'
import { PGliteStore } from '../../src/store/pglite-store.js'
import { tinyModelDirs } from '../fixtures/tiny-models.js'
import { writeFiles } from '../helpers/corpus.js'
import { prng, randomBytes, rssBytes, scaled } from './helpers.js'

// Every loader against random bytes, mutated valid files, truncated PDFs, zip bombs, a 100 MB
// file, deep nesting and invalid UTF-8: each must give text or a LOAD_* skip that names the file
// (never LOAD_FAILED, the code of an unexpected crash), in bounded time and memory, and an index
// run over such files must keep what it stored before.
const CASES_PER_FORMAT = scaled(30, 400)
const loaders = defaultLoaders()
let dir: string

const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main'
/** A .docx around a given word/document.xml (and any extra parts). */
function docxWith(documentXml: Uint8Array, extra: Record<string, Uint8Array> = {}): Uint8Array {
  return zipSync({
    '[Content_Types].xml': strToU8('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
    '_rels/.rels': strToU8('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'),
    'word/document.xml': documentXml,
    ...extra,
  }, { level: 9 })
}

let bombBytes: Uint8Array | undefined
/** A .docx of ~100 KB whose document.xml inflates past the loader's limit (built once: compressing it takes a while). */
function bomb(): Uint8Array {
  bombBytes ??= docxWith(bigDocumentXml(DOCX_MAX_XML_BYTES + 1024 * 1024))
  return bombBytes
}

function bigDocumentXml(textBytes: number): Uint8Array {
  const head = strToU8(`<?xml version="1.0"?><w:document xmlns:w="${W}"><w:body><w:p><w:r><w:t>`)
  const tail = strToU8('</w:t></w:r></w:p></w:body></w:document>')
  const out = new Uint8Array(head.length + textBytes + tail.length)
  out.set(head)
  out.fill(0x41, head.length, head.length + textBytes)
  out.set(tail, head.length + textBytes)
  return out
}

const SAMPLES: Record<string, Uint8Array> = {
  md: strToU8('---\ntitle: Ops\n---\n# Ops guide\n\nRotate keys every 90 days.\n\n## Ports\n\nUDP 7500.\n'),
  txt: strToU8('Plain notes about the heartbeat port 7500.\nSecond line.\n'),
  html: strToU8('<!doctype html><html><head><title>Ops</title><script>x()</script></head><body><h1>Ops</h1><p>Rotate <b>keys</b>.</p><ul><li>a</li><li>b</li></ul><table><tr><td>1</td><td>2</td></tr></table></body></html>'),
  pdf: makePdf([['The heartbeat uses port 7500.', 'Second line.'], ['Page two.']], { title: 'Ops' }),
  docx: makeDocx([{ text: 'Ops guide', style: 'Heading1' }, { text: 'Rotate keys every 90 days.' }]),
  json: strToU8('{"service": {"name": "heartbeat", "port": 7500, "tags": ["udp", "backend"]}}'),
  jsonl: strToU8('{"q": "port?", "a": 7500}\n{"q": "keys?", "a": "90 days"}\n'),
}

/** A valid sample with damage: bytes flipped, a cut, a spliced random run, or a duplicated slice. */
function mutate(sample: Uint8Array, rand: () => number): Uint8Array {
  const out = sample.slice()
  const kind = Math.floor(rand() * 4)
  if (kind === 0) {
    for (let i = 0; i < 1 + rand() * 8; i++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256)
    return out
  }
  if (kind === 1) return out.slice(0, Math.floor(rand() * out.length))
  const at = Math.floor(rand() * out.length)
  const insert = kind === 2 ? randomBytes(rand, 1 + Math.floor(rand() * 64)) : out.slice(at, at + Math.floor(rand() * 200))
  const joined = new Uint8Array(out.length + insert.length)
  joined.set(out.subarray(0, at))
  joined.set(insert, at)
  joined.set(out.subarray(at), at + insert.length)
  return joined
}

async function loadBytes(name: string, bytes: Uint8Array, opts: { maxFileBytes?: number } = {}): Promise<LoadFileResult> {
  const abs = path.join(dir, name)
  await writeFile(abs, bytes)
  return loadFile({ path: name, absPath: abs, size: bytes.length, mtimeMs: 0 }, loaders, opts)
}

/** Text, or a skip with a LOAD_* code other than the unexpected-crash one, whose reason names the file. */
function expectHandled(r: LoadFileResult, name: string, what: string): void {
  if (r.ok) {
    expect(typeof r.doc.text, what).toBe('string')
    expect(r.doc.text.includes('\u0000'), what).toBe(false)
    return
  }
  expect(r.code, `${what}: ${r.reason}`).toMatch(/^LOAD_/)
  expect(r.code, `${what}: ${r.reason}`).not.toBe('LOAD_FAILED')
  expect(r.reason.length, what).toBeGreaterThan(10)
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-fuzz-'))
})

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('loaders under hostile input', () => {
  it.each(Object.keys(SAMPLES))(`.%s: random bytes and mutated samples give text or a clear LOAD_* skip (${CASES_PER_FORMAT} cases)`, async (ext) => {
    const rand = prng(ext.charCodeAt(0) * 131 + ext.length)
    const codes = new Map<string, number>()
    for (let i = 0; i < CASES_PER_FORMAT; i++) {
      const bytes = i % 3 === 0 ? randomBytes(rand, Math.floor(rand() * 4096)) : mutate(SAMPLES[ext]!, rand)
      const name = `fuzz-${i}.${ext}`
      const r = await loadBytes(name, bytes)
      expectHandled(r, name, `${name} (case ${i} of seed ${ext})`)
      const code = r.ok ? 'ok' : r.code
      codes.set(code, (codes.get(code) ?? 0) + 1)
    }
    // Random bytes are never mistaken for a document of a binary format.
    if (ext === 'pdf' || ext === 'docx') expect(codes.get('LOAD_CORRUPT') ?? 0).toBeGreaterThan(CASES_PER_FORMAT / 4)
  })

  it('truncated PDFs at any length are LOAD_CORRUPT (or readable pages), never a crash', async () => {
    const pdf = makePdf([['First page text.'], ['Second page text.'], ['Third.']])
    for (let cut = 0; cut < pdf.length; cut += Math.ceil(pdf.length / scaled(25, 200))) {
      expectHandled(await loadBytes('cut.pdf', pdf.slice(0, cut)), 'cut.pdf', `cut at ${cut}`)
    }
  })

  it('refuses a .docx zip bomb before inflating it (headers that lie included), with flat memory', async () => {
    const before = (await rssBytes(process.pid))!
    expect(bomb().length).toBeLessThan(200 * 1024)
    const t0 = performance.now()
    const r = await loadBytes('bomb.docx', bomb())
    expect(r).toMatchObject({ ok: false, code: 'LOAD_TOO_LARGE', reason: expect.stringMatching(/bomb\.docx.*zip bomb/) })
    // The header says the part is 100 bytes: the check inflates, so it is not fooled.
    const lying = bomb().slice()
    const view = new DataView(lying.buffer)
    for (let i = lying.length - 22; i >= 0; i--) {
      if (view.getUint32(i, true) !== 0x02014b50) continue
      if (new TextDecoder().decode(lying.subarray(i + 46, i + 46 + view.getUint16(i + 28, true))) === 'word/document.xml') view.setUint32(i + 24, 100, true)
    }
    expect(await loadBytes('lying.docx', lying)).toMatchObject({ ok: false, code: 'LOAD_TOO_LARGE' })
    // Many parts that add up past the limit.
    const parts: Record<string, Uint8Array> = {}
    const filler = new Uint8Array(8 * 1024 * 1024).fill(0x20)
    for (let i = 0; i < 9; i++) parts[`word/part${i}.xml`] = filler
    expect(await loadBytes('many.docx', docxWith(bigDocumentXml(10), parts))).toMatchObject({ ok: false, code: 'LOAD_TOO_LARGE' })
    expect(performance.now() - t0).toBeLessThan(10_000)
    expect((await rssBytes(process.pid))! - before).toBeLessThan(400 * 2 ** 20)
    // A real document just under the limit's scale still loads.
    expect(await loadBytes('fine.docx', docxWith(bigDocumentXml(200_000)))).toMatchObject({ ok: true })
  })

  it('survives XML entity expansion in a .docx', async () => {
    const ents = ['<!ENTITY a0 "lol lol lol lol lol lol lol lol lol lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY a${i + 1} "${`&a${i};`.repeat(10)}">`)]
    const xml = strToU8(`<?xml version="1.0"?><!DOCTYPE w:document [${ents.join('')}]><w:document xmlns:w="${W}"><w:body><w:p><w:r><w:t>&a9;</w:t></w:r></w:p></w:body></w:document>`)
    const t0 = performance.now()
    const r = await loadBytes('laughs.docx', docxWith(xml))
    expectHandled(r, 'laughs.docx', 'billion laughs')
    if (r.ok) expect(r.doc.text.length).toBeLessThan(10 * 1024 * 1024)
    expect(performance.now() - t0).toBeLessThan(10_000)
  })

  it('skips a 100 MB file by its size, without reading it', async () => {
    const abs = path.join(dir, 'huge.md')
    await writeFile(abs, '')
    await truncate(abs, 100 * 1024 * 1024) // sparse: no disk space, no read
    const found = await discoverFiles(dir, { include: ['huge.md'], exclude: [], maxFileBytes: 20 * 1024 * 1024 })
    expect(found.files).toEqual([])
    expect(found.skipped).toEqual([{ path: 'huge.md', code: 'LOAD_TOO_LARGE', reason: expect.stringMatching(/104857600 bytes, over the limit of 20971520 bytes \(maxFileBytes\)/) }])
    // A file that grew after discovery is refused by its size before the read.
    const t0 = performance.now()
    const r = await loadFile({ path: 'huge.md', absPath: abs, size: 10, mtimeMs: 0 }, loaders, { maxFileBytes: 20 * 1024 * 1024 })
    expect(r).toMatchObject({ ok: false, code: 'LOAD_TOO_LARGE' })
    expect(performance.now() - t0).toBeLessThan(1000)
    expect((await stat(abs)).size).toBe(100 * 1024 * 1024)
    await rm(abs)
  })

  it('reports nesting that overflows the parser as LOAD_TOO_DEEP, and loads moderate nesting', async () => {
    const deep = 100_000
    for (const [name, text] of [
      ['deep.html', `${'<div>'.repeat(deep)}hello${'</div>'.repeat(deep)}`],
      ['deep-list.html', `${'<ul><li>'.repeat(deep)}x`],
      ['deep.json', `${'['.repeat(deep)}1${']'.repeat(deep)}`],
      ['deep-obj.json', `${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}`],
      ['deep.jsonl', `${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}\n`],
    ] as const) {
      const r = await loadBytes(name, strToU8(text))
      expectHandled(r, name, name)
      if (!r.ok) expect(r.code, name).toBe('LOAD_TOO_DEEP')
    }
    const fine = await loadBytes('nested.html', strToU8(`${'<div>'.repeat(500)}hello${'</div>'.repeat(500)}`))
    expect(fine).toMatchObject({ ok: true, doc: { text: 'hello' } })
    expect(await loadBytes('quotes.md', strToU8('>'.repeat(100_000) + ' deep quote'))).toMatchObject({ ok: true })
  })

  it('refuses invalid UTF-8 in every text format with the offending byte offset', async () => {
    const bad: Array<[string, number[]]> = [
      ['lone continuation', [0x80]],
      ['overlong NUL', [0xc0, 0x80]],
      ['UTF-8-encoded surrogate', [0xed, 0xa0, 0x80]],
      ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
      ['truncated sequence', [0xe2, 0x82]],
      ['latin-1 e-acute', [0xe9]],
    ]
    for (const ext of ['md', 'txt', 'html', 'json', 'jsonl']) {
      for (const [what, seq] of bad) {
        const prefix = ext === 'json' || ext === 'jsonl' ? '{"a": "ok ' : 'ok '
        const bytes = Uint8Array.from([...strToU8(prefix), ...seq, ...strToU8(ext.startsWith('json') ? ' tail"}' : ' tail')])
        const r = await loadBytes(`bad.${ext}`, bytes)
        expect(r, `${ext}: ${what}`).toMatchObject({ ok: false, code: 'LOAD_NOT_UTF8', reason: expect.stringContaining(`byte ${prefix.length}`) })
      }
      const utf16 = Uint8Array.from([0xff, 0xfe, ...strToU8('h\u0000i\u0000')])
      expect(await loadBytes(`utf16.${ext}`, utf16)).toMatchObject({ ok: false, code: 'LOAD_NOT_UTF8' })
    }
  })

  it('an index run over hostile files keeps every good document, and keeps the stored version of one that turns hostile', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ragtune-hostile-corpus-'))
    const modelDir = (await tinyModelDirs()).embedder
    const embedder = await TransformersEmbeddingModel.load({ model: modelDir, offline: true })
    const store = await PGliteStore.open({})
    try {
      await store.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
      const rand = prng(5)
      const good = Object.fromEntries(Object.entries(SAMPLES).map(([ext, bytes]) => [`good.${ext}`, bytes]))
      await writeFiles(root, {
        ...good,
        'random.pdf': randomBytes(rand, 3000),
        'random.docx': randomBytes(rand, 3000),
        'bomb.docx': bomb(),
        'latin1.md': Uint8Array.from([0x63, 0x61, 0x66, 0xe9]),
        'binary.txt': Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]),
        'deep.html': `${'<div>'.repeat(100_000)}x`,
        'empty.md': '',
      })
      await writeFile(path.join(root, 'huge.txt'), '')
      await truncate(path.join(root, 'huge.txt'), 100 * 1024 * 1024)
      const opts = { root, store, embedder, chunking: { chunkTokens: 64, overlapTokens: 8 }, include: ['**/*'], exclude: [], maxFileBytes: 20 * 1024 * 1024, batchSize: 8 }
      const first = await indexFolder(opts)
      expect(first.indexed.map((d) => d.path).sort()).toEqual(Object.keys(good).sort())
      expect(Object.fromEntries(first.skipped.map((s) => [s.path, s.code]))).toEqual({
        'binary.txt': 'LOAD_BINARY', 'bomb.docx': 'LOAD_TOO_LARGE', 'deep.html': 'LOAD_TOO_DEEP', 'empty.md': 'LOAD_EMPTY',
        'huge.txt': 'LOAD_TOO_LARGE', 'latin1.md': 'LOAD_NOT_UTF8', 'random.docx': 'LOAD_CORRUPT', 'random.pdf': 'LOAD_CORRUPT',
      })
      const stored = new Map((await store.listDocuments()).map((d) => [d.path, d]))

      // The good files turn hostile: each keeps its last good version, chunks and all.
      await writeFiles(root, {
        'good.pdf': SAMPLES.pdf!.slice(0, 200),
        'good.docx': bomb(),
        'good.html': `${'<b><i></b>'.repeat(100_000)}x`,
        'good.json': '{"port": 7500,',
        'good.md': Uint8Array.from([0xff, 0xfe, 0x41, 0]),
      })
      const second = await indexFolder(opts)
      expect(second.indexed).toEqual([])
      for (const p of ['good.pdf', 'good.docx', 'good.html', 'good.json', 'good.md']) {
        expect(second.skipped.find((s) => s.path === p), p).toMatchObject({ keptPrevious: true, code: expect.stringMatching(/^LOAD_(?!FAILED)/) })
      }
      const after = await store.listDocuments()
      expect(after.map((d) => [d.path, d.contentHash, d.chunkCount])).toEqual([...stored.values()].map((d) => [d.path, d.contentHash, d.chunkCount]))
      expect(await store.chunkCount()).toBe(after.reduce((n, d) => n + d.chunkCount, 0))
    } finally {
      await store.close()
      await embedder.dispose()
      await rm(root, { recursive: true, force: true })
    }
  })
})
