import { rm, symlink, unlink, writeFile, rename } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { indexFolder, type IndexOptions } from '../src/ingest/indexer.js'
import { garbage, makeDocx, makePdf } from '../src/ingest/loaders/loader.contract.js'
import { TransformersEmbeddingModel } from '../src/models/transformers/transformers-embedding-model.js'
import { TransformersReranker } from '../src/models/transformers/transformers-reranker.js'
import { retrieve } from '../src/retrieve/retrieve.js'
import { PGliteStore } from '../src/store/pglite-store.js'
import { tinyModelDirs } from './fixtures/tiny-models.js'
import { makeCorpus, markdownDoc, writeFiles } from './helpers/corpus.js'

let embedder: TransformersEmbeddingModel
let reranker: TransformersReranker
let store: PGliteStore
let root: string

const run = (extra: Partial<IndexOptions> = {}) =>
  indexFolder({ root, store, embedder, chunking: { chunkTokens: 128, overlapTokens: 16 }, include: ['**/*'], exclude: ['**/node_modules/**'], maxFileBytes: 64 * 1024, batchSize: 8, ...extra })

/** Every manifest row has exactly its chunks and no chunk lacks a manifest row. */
async function expectConsistent(): Promise<void> {
  const docs = await store.listDocuments()
  const total = docs.reduce((n, d) => n + d.chunkCount, 0)
  expect(await store.chunkCount()).toBe(total)
}

beforeAll(async () => {
  const dirs = await tinyModelDirs()
  embedder = await TransformersEmbeddingModel.load({ model: dirs.embedder, offline: true })
  reranker = await TransformersReranker.load({ model: dirs.reranker, offline: true })
  store = await PGliteStore.open({})
  await store.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
  root = await makeCorpus({
    'guide/install.md': markdownDoc('installation', 4, 1),
    'guide/quotas.md': markdownDoc('quotas', 3, 2) + '\n\nThe zebracorn limit is 42 objects per bucket.\n',
    'notes.txt': 'Plain text notes about snapshots and backups.\nSecond line.',
    'page.html': '<html><head><title>Encryption</title></head><body><h1>Encryption</h1><h2>Keys</h2><p>Rotate keys every ninety days.</p></body></html>',
    'manual.pdf': makePdf([['Appendix: the emergency shutdown code is marmalade.']]),
    'spec.docx': makeDocx([{ text: 'Hardware', style: 'Heading1' }, { text: 'Each node carries twelve disks.' }]),
    'faq.jsonl': '{"q": "Where are logs?", "a": "In /var/log/skyline."}\n{"q": "Default port?", "a": "7480"}\n',
    'node_modules/dep/readme.md': 'must never be indexed',
  })
})

afterAll(async () => {
  await Promise.allSettled([store?.close(), embedder?.dispose(), reranker?.dispose()])
  if (root) await rm(root, { recursive: true, force: true })
})

describe('indexing a folder', () => {
  it('dry run lists the adds and writes nothing', async () => {
    const r = await run({ dryRun: true })
    expect(r.plan.added).toEqual(['faq.jsonl', 'guide/install.md', 'guide/quotas.md', 'manual.pdf', 'notes.txt', 'page.html', 'spec.docx'])
    expect(await store.chunkCount()).toBe(0)
    expect(await store.listDocuments()).toEqual([])
  })

  it('indexes every format, with heading paths, and finds text from each', async () => {
    const r = await run()
    expect(r.skipped).toEqual([])
    expect(r.indexed.map((d) => d.path)).toHaveLength(7)
    expect(r.chunksWritten).toBeGreaterThan(7)
    await expectConsistent()
    const deps = { store, embedder, reranker }
    const opts = { mode: 'lexical' as const, denseK: 20, lexicalK: 20, candidates: 20, rrfK: 60, topK: 4, rerank: false }
    for (const [query, doc] of [['zebracorn', 'guide/quotas.md'], ['marmalade', 'manual.pdf'], ['twelve disks', 'spec.docx'], ['rotate keys ninety days', 'page.html'], ['/var/log/skyline logs', 'faq.jsonl']] as const) {
      const res = await retrieve(deps, query, opts)
      expect(res.hits[0]?.documentPath, query).toBe(doc)
    }
    const html = await retrieve(deps, 'rotate keys', opts)
    expect(html.hits[0]!.headingPath).toEqual(['Encryption'])
    expect(html.hits[0]!.text).toMatch(/^# Encryption\n+## Keys\n+Rotate keys/)
    const docx = await retrieve(deps, 'twelve disks', opts)
    expect(docx.hits[0]!.headingPath).toEqual(['Hardware'])
  })

  it('hybrid retrieval fuses both stages and reranks, with every stage score on each hit', async () => {
    const res = await retrieve({ store, embedder, reranker }, 'zebracorn limit objects per bucket', { mode: 'hybrid', denseK: 20, lexicalK: 20, candidates: 20, rrfK: 60, topK: 4, rerank: true })
    expect(res.hits).toHaveLength(4)
    expect(res.rerankerModel).toBe(reranker.id)
    for (const h of res.hits) {
      expect(h.scores.rerank).toBeTypeOf('number')
      expect(h.scores.dense ?? h.scores.lexical).toBeDefined()
    }
    const scores = res.hits.map((h) => h.scores.rerank!)
    expect([...scores].sort((a, b) => b - a)).toEqual(scores)
    // The bag-of-words tiny embedder ranks the short chunk that shares the query's words first.
    const dense = await retrieve({ store, embedder }, 'hardware: each node carries twelve disks', { mode: 'dense', denseK: 20, lexicalK: 20, candidates: 20, rrfK: 60, topK: 3, rerank: false })
    expect(dense.hits[0]!.documentPath).toBe('spec.docx')
    expect(dense.hits[0]!.scores.dense!.score).toBeGreaterThan(dense.hits[1]!.scores.dense!.score)
  })

  it('a second run with nothing changed writes nothing', async () => {
    const before = await store.listDocuments()
    const r = await run()
    expect(r.indexed).toEqual([])
    expect(r.plan.unchanged).toHaveLength(7)
    expect(await store.listDocuments()).toEqual(before)
  })

  it('an edit replaces only that document’s chunks; a delete removes them; a rename moves them', async () => {
    const oldQuota = (await retrieve({ store }, 'zebracorn', { mode: 'lexical', denseK: 20, lexicalK: 20, candidates: 20, rrfK: 60, topK: 4, rerank: false })).hits
    await writeFile(path.join(root, 'guide/quotas.md'), markdownDoc('quotas', 3, 2) + '\n\nThe zebracorn limit is now 99 objects per bucket.\n')
    await unlink(path.join(root, 'notes.txt'))
    await rename(path.join(root, 'page.html'), path.join(root, 'security.html'))
    const dry = await run({ dryRun: true })
    expect(dry.plan).toMatchObject({ added: ['security.html'], changed: ['guide/quotas.md'], deleted: ['notes.txt', 'page.html'] })
    const r = await run()
    expect(r.indexed.map((d) => d.path)).toEqual(['guide/quotas.md', 'security.html'])
    await expectConsistent()
    const lex = { mode: 'lexical' as const, denseK: 20, lexicalK: 20, candidates: 20, rrfK: 60, topK: 4, rerank: false }
    const now = (await retrieve({ store }, 'zebracorn', lex)).hits
    expect(now[0]!.text).toContain('99 objects')
    expect(now.map((h) => h.chunkId)).not.toContain(oldQuota[0]!.chunkId)
    expect((await retrieve({ store }, 'snapshots backups plain text notes', lex)).hits.map((h) => h.documentPath)).not.toContain('notes.txt')
    expect((await retrieve({ store }, 'rotate keys', lex)).hits[0]!.documentPath).toBe('security.html')
    const paths = (await store.listDocuments()).map((d) => d.path)
    expect(paths).not.toContain('page.html')
    expect(paths).not.toContain('notes.txt')
  })

  it('skips every bad file with a reason, indexes the rest, and keeps the last good version of a file that broke', async () => {
    await writeFiles(root, {
      'bad/corrupt.pdf': new Uint8Array([...new TextEncoder().encode('%PDF-1.7\n'), ...garbage(3000)]),
      'bad/truncated.pdf': makePdf([['A sentence that will be cut.']]).slice(0, 150),
      'bad/corrupt.docx': garbage(2000, 7),
      'bad/binary.txt': new Uint8Array([72, 105, 0, 1, 2, 3, 0, 0, 255]),
      'bad/empty.md': '',
      'bad/blank.md': '  \n\n\t\n',
      'bad/huge.md': 'word '.repeat(20_000),
      'bad/latin1.md': new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6e, 0x6f, 0xeb, 0x6c]),
      'bad/broken.jsonl': '{"ok": 1}\n{not json}\n',
      'good/new.md': '# New\n\nA healthy new document about penguins.',
      'good/late-nul.md': '# Late\n\n' + 'padding words '.repeat(700) + 'then a \u0000 byte and the word quokka.',
      'guide/install.md': new Uint8Array([0xff, 0xfe, 0x00, 0x41]),
    })
    const outside = await makeCorpus({ 'secret.md': '# Secret\n\nnot for this index' }, 'ragtune-outside-')
    await symlink(outside, path.join(root, 'linked-out'))
    const r = await run()
    await rm(outside, { recursive: true, force: true })
    const codes = Object.fromEntries(r.skipped.map((s) => [s.path, s.code]))
    expect(codes).toEqual({
      'bad/binary.txt': 'LOAD_BINARY',
      'bad/blank.md': 'LOAD_EMPTY',
      'bad/broken.jsonl': 'LOAD_CORRUPT',
      'bad/corrupt.docx': 'LOAD_CORRUPT',
      'bad/corrupt.pdf': 'LOAD_CORRUPT',
      'bad/empty.md': 'LOAD_EMPTY',
      'bad/huge.md': 'LOAD_TOO_LARGE',
      'bad/latin1.md': 'LOAD_NOT_UTF8',
      'bad/truncated.pdf': 'LOAD_CORRUPT',
      'guide/install.md': 'LOAD_NOT_UTF8',
      'linked-out': 'LOAD_OUTSIDE_ROOT',
    })
    for (const s of r.skipped) expect(s.reason.length).toBeGreaterThan(10)
    expect(r.skipped.find((s) => s.path === 'guide/install.md')!.keptPrevious).toBe(true)
    expect(r.indexed.map((d) => d.path)).toEqual(['good/late-nul.md', 'good/new.md'])
    const late = await retrieve({ store }, 'quokka', { mode: 'lexical', denseK: 20, lexicalK: 20, candidates: 20, rrfK: 60, topK: 1, rerank: false })
    expect(late.hits[0]!.text).toContain('a \uFFFD byte and the word quokka')
    const paths = (await store.listDocuments()).map((d) => d.path)
    expect(paths).toContain('guide/install.md')
    expect(paths.filter((p) => p.startsWith('bad/'))).toEqual([])
    await expectConsistent()
  })
})
