import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import type { ChunkRecord, DocumentRecord, Store } from '../spec/store.js'
import { describeApiKeyContract } from './api-key.contract.js'
import { describeQueryLogContract } from './query-log.contract.js'

const DIM = 8
const MODEL = 'contract/model-8d'

/** Pads the given leading components with zeros to the contract's width. */
function vec(...xs: number[]): Float32Array {
  const v = new Float32Array(DIM)
  v.set(xs)
  return v
}

interface ChunkSpec {
  id: string
  text: string
  embedding?: Float32Array
  headingPath?: string[]
}

function chunks(path: string, specs: ChunkSpec[]): ChunkRecord[] {
  return specs.map((s, i) => ({
    id: s.id,
    documentPath: path,
    ordinal: i,
    text: s.text,
    headingPath: s.headingPath ?? ['Doc', `Section ${i}`],
    tokenCount: s.text.split(/\s+/).length,
    embedding: s.embedding ?? vec(...Array.from({ length: i % DIM }, () => 0), 1),
  }))
}

function doc(path: string, chunkCount: number, extra: Partial<DocumentRecord> = {}): DocumentRecord {
  return { path, contentHash: `hash-of-${path}`, size: 100 + chunkCount, format: 'md', chunkCount, indexedAt: '2025-01-02T03:04:05.678Z', ...extra }
}

async function put(store: Store, path: string, specs: ChunkSpec[], extra: Partial<DocumentRecord> = {}): Promise<void> {
  await store.replaceDocument(doc(path, specs.length, extra), chunks(path, specs))
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(RagtuneError)
  return (err as RagtuneError).code
}

/**
 * The behaviour every `Store` must have, run by each implementation (embedded, server, every lexical
 * backend) so they stay interchangeable. `makeStore` returns a new, empty, uninitialised store; one
 * store serves the whole suite (start-up is slow) and is emptied through the interface between tests.
 * `dense: false` leaves out dense search, for a server without pgvector whose vector column is a
 * stand-in (postgres-server.test.ts); every real store runs the whole suite.
 */
export function describeStoreContract(name: string, makeStore: () => Promise<Store>, opts: { dense?: boolean } = {}): void {
  const dense = opts.dense !== false
  describe(`Store contract: ${name}`, () => {
    let store: Store

    beforeAll(async () => {
      store = await makeStore()
      await store.init({ dimensions: DIM, embeddingModel: MODEL })
    })
    afterAll(async () => {
      await store?.close()
    })
    beforeEach(async () => {
      for (const d of await store.listDocuments()) await store.deleteDocument(d.path)
    })

    describeQueryLogContract(() => store)
    describeApiKeyContract(() => store)

    it('init is idempotent and keeps the data', async () => {
      await put(store, 'a.md', [{ id: 'a#0', text: 'kept across init' }])
      await store.init({ dimensions: DIM, embeddingModel: MODEL })
      expect(await store.chunkCount()).toBe(1)
      const s = await store.stats()
      expect([s.dimensions, s.embeddingModel]).toEqual([DIM, MODEL])
    })

    it('init refuses another width or model, naming both and the fix', async () => {
      const err = await store.init({ dimensions: 4, embeddingModel: 'other/model' }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RagtuneError)
      expect((err as RagtuneError).code).toBe('STORE_MODEL_MISMATCH')
      expect((err as Error).message).toContain(`${MODEL} (dim ${DIM})`)
      expect((err as Error).message).toMatch(/--reset|fresh data dir/)
      expect(await codeOf(store.init({ dimensions: DIM, embeddingModel: 'other/model' }))).toBe('STORE_MODEL_MISMATCH')
      expect((await store.stats()).embeddingModel).toBe(MODEL)
    })

    it('replaceDocument leaves no chunk of the old version', async () => {
      await put(store, 'a.md', [{ id: 'a#0', text: 'old zebra' }, { id: 'a#1', text: 'old yak' }, { id: 'a#2', text: 'old xerus' }])
      await put(store, 'a.md', [{ id: 'a#new0', text: 'new walrus' }], { contentHash: 'v2' })
      expect(await store.chunkCount()).toBe(1)
      expect(await store.searchLexical('zebra yak xerus', 10)).toEqual([])
      expect((await store.searchLexical('walrus', 10)).map((h) => h.chunkId)).toEqual(['a#new0'])
      const [row] = await store.listDocuments()
      expect([row?.contentHash, row?.chunkCount]).toEqual(['v2', 1])
    })

    it('replaceDocument writes more chunks than one insert batch', async () => {
      const many = Array.from({ length: 1234 }, (_, i) => ({ id: `big#${String(i).padStart(4, '0')}`, text: `chunk number ${i}` }))
      await put(store, 'big.md', many)
      expect(await store.chunkCount()).toBe(1234)
      await put(store, 'big.md', many.slice(0, 3))
      expect(await store.chunkCount()).toBe(3)
    })

    it('concurrent writes and searches all complete, each write whole', async () => {
      const paths = ['c1.md', 'c2.md', 'c3.md', 'c4.md', 'c5.md']
      await Promise.all([
        ...paths.map((p) => put(store, p, [{ id: `${p}#0`, text: 'concurrent otter' }, { id: `${p}#1`, text: 'second' }])),
        store.searchLexical('otter', 10),
        ...(dense ? [store.searchDense(vec(1), 10)] : []),
      ])
      expect((await store.listDocuments()).map((d) => d.path).sort()).toEqual(paths)
      expect(await store.searchLexical('otter', 10)).toHaveLength(5)
      expect(await store.chunkCount()).toBe(10)
    })

    it('deleteDocument removes chunks and the manifest row; a missing path is a no-op', async () => {
      await put(store, 'a.md', [{ id: 'a#0', text: 'alpha' }])
      await put(store, 'b.md', [{ id: 'b#0', text: 'beta' }, { id: 'b#1', text: 'beta two' }])
      await store.deleteDocument('b.md')
      await store.deleteDocument('never-indexed.md')
      expect((await store.listDocuments()).map((d) => d.path)).toEqual(['a.md'])
      expect(await store.chunkCount()).toBe(1)
      expect(await store.searchLexical('beta', 10)).toEqual([])
    })

    it('listDocuments returns the manifest rows as written', async () => {
      const withTitle = doc('docs/guide.md', 1, { title: 'Guide — intro', size: 4096, contentHash: 'ab'.repeat(32) })
      const noTitle = doc('notes.txt', 1, { format: 'txt' })
      await store.replaceDocument(withTitle, chunks('docs/guide.md', [{ id: 'g#0', text: 'guide' }]))
      await store.replaceDocument(noTitle, chunks('notes.txt', [{ id: 'n#0', text: 'notes' }]))
      const rows = [...(await store.listDocuments())].sort((x, y) => x.path.localeCompare(y.path))
      expect(rows).toEqual([withTitle, noTitle])
    })

    it.skipIf(!dense)('searchDense orders by cosine similarity (score = 1 − distance), ties by chunk id, k respected', async () => {
      const s = Math.SQRT1_2
      await put(store, 'v.md', [
        { id: 'v#opposite', text: 'o', embedding: vec(-1) },
        { id: 'v#diag', text: 'd', embedding: vec(s, s) },
        { id: 'v#exact', text: 'e', embedding: vec(2) },
        { id: 'v#ortho', text: 'x', embedding: vec(0, 1) },
        { id: 'v#twin-b', text: 't', embedding: vec(1, 1, 1) },
        { id: 'v#twin-a', text: 't', embedding: vec(1, 1, 1) },
      ])
      const hits = await store.searchDense(vec(1), 10)
      expect(hits.map((h) => h.chunkId)).toEqual(['v#exact', 'v#diag', 'v#twin-a', 'v#twin-b', 'v#ortho', 'v#opposite'])
      const expected = [1, s, 1 / Math.sqrt(3), 1 / Math.sqrt(3), 0, -1]
      hits.forEach((h, i) => expect(h.score).toBeCloseTo(expected[i] ?? NaN, 5))
      expect((await store.searchDense(vec(1), 2)).map((h) => h.chunkId)).toEqual(['v#exact', 'v#diag'])
      expect(await store.searchDense(vec(1), 0)).toEqual([])
      expect(await store.searchDense(vec(1), 5000)).toHaveLength(6)
    })

    it('searchDense refuses a query vector of another width', async () => {
      expect(await codeOf(store.searchDense(new Float32Array(DIM + 1), 3))).toBe('STORE_DIMENSION_MISMATCH')
    })

    it('searchLexical finds by word, best first with positive scores, and only matching chunks', async () => {
      await put(store, 'l.md', [
        { id: 'l#1', text: 'The kettle whistles once.' },
        { id: 'l#2', text: 'Kettle, kettle, kettle: descale the kettle monthly.' },
        { id: 'l#3', text: 'Nothing relevant here at all.' },
      ])
      const hits = await store.searchLexical('kettle', 10)
      expect(hits.map((h) => h.chunkId)).toEqual(['l#2', 'l#1'])
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score)
      expect(hits[1]!.score).toBeGreaterThan(0)
    })

    it('searchLexical ORs the terms, respects k and breaks ties by chunk id', async () => {
      await put(store, 'k.md', [
        { id: 'k#c', text: 'penguin colony' },
        { id: 'k#a', text: 'penguin colony' },
        { id: 'k#b', text: 'penguin colony' },
        { id: 'k#d', text: 'walrus beach' },
      ])
      expect((await store.searchLexical('penguin', 2)).map((h) => h.chunkId)).toEqual(['k#a', 'k#b'])
      expect((await store.searchLexical('walrus penguin', 10)).map((h) => h.chunkId).sort()).toEqual(['k#a', 'k#b', 'k#c', 'k#d'])
      expect(await store.searchLexical('penguin', 0)).toEqual([])
    })

    it('searchLexical returns nothing for absent words, stop words or empty text', async () => {
      await put(store, 'e.md', [{ id: 'e#0', text: 'the quick brown fox' }])
      for (const text of ['aardvark', 'the and of', '', '   ']) expect(await store.searchLexical(text, 5)).toEqual([])
    })

    it('searchLexical stems English words', async () => {
      await put(store, 's.md', [{ id: 's#0', text: 'She runs every morning.' }, { id: 's#1', text: 'A quiet afternoon.' }])
      expect((await store.searchLexical('running', 5)).map((h) => h.chunkId)).toEqual(['s#0'])
    })

    it('searchLexical treats quotes, backslashes, SQL and tsquery operators as plain text', async () => {
      await put(store, 'i.md', [{ id: 'i#0', text: 'See the table of contents.' }, { id: 'i#1', text: 'Drop shipping explained.' }])
      const nasty = ["'); drop table chunks; --", "O'Reilly's \"quoted\" \\ back\\slash", 'a & b | !c ( ) : * <-> <2>', "'", '\\', 'table:* & !drop', 'chunks_text_bm25:table']
      for (const text of nasty) expect(Array.isArray(await store.searchLexical(text, 5))).toBe(true)
      expect((await store.searchLexical(nasty[0]!, 5)).map((h) => h.chunkId).sort()).toEqual(['i#0', 'i#1'])
      expect(await store.searchLexical('&|!():*', 5)).toEqual([])
      expect(await store.chunkCount()).toBe(2)
    })

    it('text and heading path round-trip exactly, unicode included', async () => {
      const text = 'Überprüfung: naïve café — 日本語のテキスト 🚀\n\ttabs, "quotes", \'apostrophes\', back\\slash, e\u0301 combining'
      const headingPath = ['Guide ✓', 'Ñandú "quoted" \\ {braces} [brackets]', '']
      await store.replaceDocument(doc('u.md', 1), [{ ...chunks('u.md', [{ id: 'u#0', text, headingPath }])[0]!, embedding: vec(0, 0, 1) }])
      if (dense) expect((await store.searchDense(vec(0, 0, 1), 1))[0]).toMatchObject({ chunkId: 'u#0', documentPath: 'u.md', ordinal: 0, text, headingPath })
      expect((await store.searchLexical('café', 1))[0]).toMatchObject({ chunkId: 'u#0', text, headingPath })
    })

    it('a failing replaceDocument leaves the previous version intact', async () => {
      await put(store, 'f.md', [{ id: 'f#0', text: 'original falcon' }], { contentHash: 'v1' })
      const wrongWidth = chunks('f.md', [{ id: 'f#new', text: 'broken', embedding: new Float32Array(DIM + 2) }])
      await expect(store.replaceDocument(doc('f.md', 1, { contentHash: 'v2' }), wrongWidth)).rejects.toBeInstanceOf(RagtuneError)
      // Duplicate ids fail inside the database, after the old chunks were deleted: only a rollback saves them.
      const dupes = chunks('f.md', [{ id: 'f#dup', text: 'new one' }, { id: 'f#dup', text: 'new two' }])
      await expect(store.replaceDocument(doc('f.md', 2, { contentHash: 'v3' }), dupes)).rejects.toBeInstanceOf(RagtuneError)
      expect((await store.listDocuments()).map((d) => [d.path, d.contentHash, d.chunkCount])).toEqual([['f.md', 'v1', 1]])
      expect((await store.searchLexical('falcon', 5)).map((h) => h.chunkId)).toEqual(['f#0'])
      expect(await store.chunkCount()).toBe(1)
    })

    it('meta values are stored, overwritten and read back', async () => {
      expect(await store.getMeta('contract.absent')).toBeNull()
      await store.setMeta('contract.key', 'first')
      await store.setMeta('contract.key', '{"json": "ünïcode ✓"}')
      expect(await store.getMeta('contract.key')).toBe('{"json": "ünïcode ✓"}')
    })

    it('chunkCount and stats count what is stored', async () => {
      await put(store, 'a.md', [{ id: 'a#0', text: 'one' }, { id: 'a#1', text: 'two' }])
      await put(store, 'b.md', [{ id: 'b#0', text: 'three' }])
      expect(await store.chunkCount()).toBe(3)
      const s = await store.stats()
      expect(s).toMatchObject({ documents: 2, chunks: 3, dimensions: DIM, embeddingModel: MODEL })
      expect(['bm25', 'tsvector']).toContain(s.lexicalBackend)
    })
  })
}
