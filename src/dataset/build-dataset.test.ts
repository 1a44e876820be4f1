import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tinyModelDirs } from '../../test/fixtures/tiny-models.js'
import { makeCorpus } from '../../test/helpers/corpus.js'
import { analyzeRules } from '../analyze/rules.js'
import { buildMessages, DEFAULT_INSTRUCTION, parseCitations, toPromptSources } from '../answer/prompt.js'
import { indexFolder } from '../ingest/indexer.js'
import { TransformersEmbeddingModel } from '../models/transformers/transformers-embedding-model.js'
import { TransformersReranker } from '../models/transformers/transformers-reranker.js'
import { retrieve, type RetrieveOptions } from '../retrieve/retrieve.js'
import { PGliteStore } from '../store/pglite-store.js'
import { buildDataset, type BuildDatasetOptions } from './build-dataset.js'
import { datasetRecordSchema, type DatasetRecord } from './dataset-record.js'
import { exportDataset, exportTrainSplit } from './export-dataset.js'
import { importLabels } from './labels/import-labels.js'
import { DEFAULT_REFUSAL } from './targets.js'
import { tokenCounterFromFunction } from './token-count.js'

const NAMES = ['alder', 'birch', 'cedar', 'daphne', 'elm', 'fir', 'ginkgo', 'hazel', 'ivy', 'juniper', 'kapok', 'larch', 'maple', 'nutmeg', 'oak', 'pine', 'quince', 'rowan', 'spruce', 'teak', 'ulmus', 'viburnum', 'willow', 'yew']
const retrieval: Omit<RetrieveOptions, 'signal'> = { mode: 'hybrid', denseK: 20, lexicalK: 20, candidates: 20, rrfK: 60, topK: 3, rerank: true }
let store: PGliteStore
let embedder: TransformersEmbeddingModel
let reranker: TransformersReranker
let root: string
let deps: { store: PGliteStore; embedder: TransformersEmbeddingModel; reranker: TransformersReranker }
const opts = (over: Partial<BuildDatasetOptions> = {}): BuildDatasetOptions => ({ retrieval, rules: analyzeRules({ minExamplesPerCategory: 3 }), evalFraction: 0.25, failingCategories: ['format', 'tone'], ...over })

beforeAll(async () => {
  const dirs = await tinyModelDirs()
  embedder = await TransformersEmbeddingModel.load({ model: dirs.embedder, offline: true })
  reranker = await TransformersReranker.load({ model: dirs.reranker, offline: true })
  store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
  const files: Record<string, string> = {}
  NAMES.forEach((n, i) => (files[`${n}.md`] = `# ${n}\n\nThe ${n} service listens on port ${7000 + i}. Its ${n} owner rotates ${n} keys every ${10 + i} days.`))
  root = await makeCorpus(files, 'ragtune-dataset-')
  await indexFolder({ root, store, embedder, chunking: { chunkTokens: 128, overlapTokens: 16 }, include: ['**/*'], exclude: [], maxFileBytes: 1 << 20, batchSize: 8 })
  const labels = NAMES.flatMap((n, i) => [
    { instruction: `Which port does the ${n} service listen on?`, input: '', output: `Port ${7000 + i}.`, category: i % 2 ? 'format' : 'tone', metadata: { goldDocuments: [`${n}.md`] } },
    { instruction: `How often does the ${n} owner rotate keys?`, input: '', output: `Every ${10 + i} days.`, metadata: { goldDocuments: [`${n}.md`] } },
  ])
  labels.push({ instruction: 'Which port does the  alder service listen on?', input: '', output: 'port 7000.', category: 'tone', metadata: { goldDocuments: ['alder.md'] } })
  const file = path.join(root, 'labels.jsonl')
  await writeFile(file, labels.map((l) => JSON.stringify(l)).join('\n'))
  await importLabels(store, file, 'guide')
  deps = { store, embedder, reranker }
})

afterAll(async () => {
  await Promise.allSettled([store?.close(), embedder?.dispose(), reranker?.dispose()])
  if (root) await rm(root, { recursive: true, force: true })
})

const target = (r: DatasetRecord): string => r.messages[r.messages.length - 1]!.content

describe('buildDataset', () => {
  it('builds RAFT records that mirror inference, split by document with no leakage', async () => {
    const res = await buildDataset(deps, opts({ p: 0.5, seed: 1 }))
    const { report } = res
    expect(report.items).toMatchObject({ collected: 49, duplicates: 1 })
    expect(res.train.length + res.eval.length).toBe(48)
    expect(res.eval.length).toBeGreaterThan(0)
    expect(report.split.leakage).toBe(0)
    expect(report.raft.goldAtK.known).toBe(48)
    for (const r of [...res.train, ...res.eval]) expect(datasetRecordSchema.parse(r)).toEqual(r)

    // Both questions on one document always land on the same side.
    const side = new Map([...res.train, ...res.eval].map((r) => [r.metadata.goldDocuments[0], r.metadata.split]))
    for (const r of [...res.train, ...res.eval]) expect(side.get(r.metadata.goldDocuments[0])).toBe(r.metadata.split)
    // No train context shows an eval document.
    const evalDocs = new Set(res.eval.map((r) => r.metadata.goldDocuments[0]))
    for (const r of res.train) for (const s of r.metadata.sources) expect(evalDocs.has(s.documentPath)).toBe(false)

    // Eval records are exactly inference: retrieve() with the same settings, prompt by buildMessages.
    for (const r of res.eval) {
      const question = r.messages[1]!.content.split('\n\nQuestion: ').pop()!
      const live = await retrieve(deps, question, retrieval)
      expect(r.metadata.sources.map((s) => s.chunkId)).toEqual(live.hits.map((h) => h.chunkId))
      expect(r.messages.slice(0, 2)).toEqual(buildMessages({ question, sources: toPromptSources(live.hits) }))
    }

    // Train: gold in context (cited) or withheld (refusal), about half each at p 0.5.
    const o = report.raft.oracle
    expect(o.retrieved + o.inserted + o.withheld).toBe(res.train.length)
    expect(o.inserted).toBeGreaterThan(0)
    expect(o.withheld).toBeGreaterThan(res.train.length * 0.25)
    expect(o.withheld).toBeLessThan(res.train.length * 0.75)
    for (const r of res.train) {
      expect(r.messages[0]!.content).toBe(DEFAULT_INSTRUCTION)
      const paths = r.metadata.sources.map((s) => s.documentPath)
      if (r.metadata.oracle === 'withheld' || r.metadata.oracle === 'missing') {
        expect(target(r)).toBe(DEFAULT_REFUSAL)
        expect(paths).not.toContain(r.metadata.goldDocuments[0])
      } else {
        const [n] = parseCitations(target(r))
        expect(paths[n! - 1]).toBe(r.metadata.goldDocuments[0])
      }
    }
    expect(report.coverage.perCategory.format! + report.coverage.perCategory.tone!).toBeGreaterThan(10)
  })

  it('stores the version with hash and lineage; the same build is recognised, another seed differs', async () => {
    const a = await buildDataset(deps, opts({ seed: 7, name: 'first' }))
    expect(a).toMatchObject({ existing: false, saved: true })
    const stored = await store.getDataset({ id: a.version.id })
    expect(stored).toMatchObject({ hash: a.version.hash, name: 'first', counts: { train: a.train.length, eval: a.eval.length } })
    expect(stored!.lineage).toMatchObject({
      imports: [expect.objectContaining({ source: 'guide', examples: 49 })],
      index: { documents: 24, embeddingModel: embedder.id, rerankerModel: reranker.id, fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) },
      raft: { p: 0.8, seed: 7, k: 3 }, tokenizer: { exact: false },
    })
    expect(await store.listDatasetRecords(a.version.id, 'train')).toEqual(a.train)
    const again = await buildDataset(deps, opts({ seed: 7 }))
    expect(again).toMatchObject({ existing: true, saved: false, version: { id: a.version.id } })
    expect((await buildDataset(deps, opts({ seed: 8, save: false }))).version.hash).not.toBe(a.version.hash)
  })

  it('reports every example over the length limit and leaves it out, never cut', async () => {
    const counter = tokenCounterFromFunction('words', (t) => t.split(/\s+/).length)
    const full = await buildDataset(deps, opts({ seed: 2, tokenCounter: counter, save: false }))
    const lengths = [...full.train, ...full.eval].map((r) => r.metadata.tokens).sort((x, y) => x - y)
    const limit = lengths[Math.floor(lengths.length / 2)]!
    const cut = await buildDataset(deps, opts({ seed: 2, tokenCounter: counter, maxLength: limit, save: false }))
    const over = lengths.filter((n) => n > limit).length
    expect(cut.report.length.tooLong).toHaveLength(over)
    expect(cut.train.length + cut.eval.length).toBe(48 - over)
    for (const t of cut.report.length.tooLong) expect(t.tokens).toBeGreaterThan(limit)
    expect(cut.report.length).toMatchObject({ tokenizer: 'words', exact: false, maxLength: limit })
    expect(cut.report.warnings.join('\n')).toMatch(new RegExp(`${over} example\\(s\\) exceed ${limit} tokens and were left out`))
  })

  it('warns about failing categories without enough examples', async () => {
    const res = await buildDataset(deps, opts({ seed: 3, failingCategories: ['format', 'hedging'], save: false, rules: analyzeRules({ minExamplesPerCategory: 100 }) }))
    expect(res.report.coverage.lacking.map((c) => c.category)).toEqual(['format', 'hedging'])
    expect(res.report.warnings.join('\n')).toMatch(/too few training examples \(< 100\) for failing categories: format \(\d+\), hedging \(0\)/)
  })

  it('exports openai chat JSONL (exactly the records), guide JSONL and a Hugging Face folder', async () => {
    const res = await buildDataset(deps, opts({ seed: 11, quote: true }))
    const quoted = res.train.filter((r) => r.metadata.oracle !== 'withheld')
    expect(quoted.some((r) => target(r).startsWith('> "'))).toBe(true)
    const out = path.join(root, 'out')
    const [trainFile] = await exportDataset(store, res.version.id, 'openai', out)
    expect((await readFile(trainFile!, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(res.train)
    // The trainer's input alone: the same bytes as the openai export's train file.
    const trainOnly = await exportTrainSplit(store, res.version.id, path.join(root, 'train-only'))
    expect(await readFile(trainOnly, 'utf8')).toBe(await readFile(trainFile!, 'utf8'))
    await expect(exportTrainSplit(store, 'nope', path.join(root, 'train-only'))).rejects.toMatchObject({ code: 'DATASET_NOT_FOUND' })
    const [guideFile] = await exportDataset(store, res.version.id, 'guide', out)
    const guide = JSON.parse((await readFile(guideFile!, 'utf8')).split('\n')[0]!)
    expect(guide.input).toMatch(/^<sources>\n<source n="1"/)
    expect(guide.output).toBe(target(res.train[0]!))
    expect(`${guide.input}\n\nQuestion: ${guide.instruction}`).toBe(res.train[0]!.messages[1]!.content)
    const hf = await exportDataset(store, res.version.id, 'hf', path.join(root, 'hf'))
    expect(hf.map((f) => path.relative(path.join(root, 'hf'), f))).toEqual(['data/train.jsonl', 'data/test.jsonl', 'README.md'])
    const card = await readFile(hf[2]!, 'utf8')
    expect(card.startsWith(['---', 'configs:', '- config_name: default', '  data_files:', '  - split: train', '    path: data/train.jsonl', '  - split: test', '    path: data/test.jsonl', ''].join('\n'))).toBe(true)
    expect(card).toContain(res.version.hash)
  })
})
