import { readdir, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { z } from 'zod'
import { RagtuneError } from '../../errors.js'
import { assertUniqueId, datasetInvalid, parseJsonLine, parseRecord, readLines } from './dataset-io.js'
import type { RetrievalDataset, RetrievalDocument, RetrievalQuery } from './retrieval-dataset.js'

const HINT = 'expected a BEIR folder: corpus.jsonl {"_id","title","text"}, queries.jsonl {"_id","text"}, qrels/<split>.tsv (query-id, corpus-id, score)'

/** BEIR ids are strings, but a few exports write numeric ids; both name the same record. */
const id = z.union([z.string().min(1), z.number()]).transform(String)
const documentSchema = z.object({ _id: id, title: z.string().optional(), text: z.string() })
const querySchema = z.object({ _id: id, text: z.string().min(1) })

interface Qrels {
  judgments: Map<string, Record<string, number>>
  /** Line of each query's first judgment, to point at when that query is missing. */
  firstLine: Map<string, number>
}

/**
 * Reads a BEIR dataset folder (the layout of every BEIR/MTEB retrieval task) for one qrels split.
 * Like BEIR's own loader it asks only the queries that the split judges, keeps every judgment
 * including zero grades, and keeps the whole corpus. `path` may be the folder or any file in it;
 * a qrels file also picks the split unless `opts.split` names one.
 */
export async function loadBeir(path: string, opts: { split?: string; signal?: AbortSignal } = {}): Promise<RetrievalDataset> {
  const { root, split } = await resolveLayout(path, opts.split)
  const qrelsFile = join(root, 'qrels', `${split}.tsv`)
  if (!(await isFile(qrelsFile))) await splitNotFound(root, split, qrelsFile)

  const qrels = await readQrels(qrelsFile, opts.signal)
  const queries = await readQueries(join(root, 'queries.jsonl'), qrels, opts.signal)
  const missing = [...qrels.judgments.keys()].filter((q) => !queries.has(q))
  if (missing[0] !== undefined) {
    const line = qrels.firstLine.get(missing[0]) ?? 0
    datasetInvalid({ file: qrelsFile, record: `line ${line}` }, 'query-id', `query "${missing[0]}" is not in queries.jsonl${missing.length > 1 ? ` (${missing.length} queries missing)` : ''}`, HINT)
  }
  const documents = await readCorpus(join(root, 'corpus.jsonl'), opts.signal)
  return {
    name: `beir:${basename(root)}:${split}`,
    documents,
    queries: [...queries.values()],
    skipped: 0,
    warnings: checkJudgments(qrels, new Set(documents.map((d) => d.id))),
  }
}

async function resolveLayout(path: string, split: string | undefined): Promise<{ root: string; split: string }> {
  const info = await stat(path).catch(() => undefined)
  if (!info) {
    throw new RagtuneError('DATASET_NOT_FOUND', `BEIR dataset not found: nothing at ${path}`, { details: { file: path }, hint: HINT })
  }
  if (info.isDirectory()) return { root: path, split: split ?? 'test' }
  const parent = dirname(path)
  if (basename(parent) === 'qrels') return { root: dirname(parent), split: split ?? basename(path).replace(/\.tsv$/i, '') }
  return { root: parent, split: split ?? 'test' }
}

async function splitNotFound(root: string, split: string, qrelsFile: string): Promise<never> {
  const available = (await readdir(join(root, 'qrels')).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.tsv'))
    .map((f) => f.slice(0, -'.tsv'.length))
  throw new RagtuneError('DATASET_NOT_FOUND', `BEIR split "${split}" not found: expected ${qrelsFile}`, {
    details: { file: qrelsFile, split, available },
    hint: available.length > 0 ? `choose one of the splits present: ${available.join(', ')}` : HINT,
  })
}

async function readQrels(file: string, signal?: AbortSignal): Promise<Qrels> {
  const judgments = new Map<string, Record<string, number>>()
  const firstLine = new Map<string, number>()
  let first = true
  for await (const { line, text } of readLines(file, 'BEIR qrels file', HINT, signal)) {
    const columns = text.includes('\t') ? text.split('\t') : text.trim().split(/\s+/)
    const at = { file, record: `line ${line}` }
    const isHeader = first && !/^-?\d+$/.test(columns[2]?.trim() ?? '')
    first = false
    if (isHeader) continue
    if (columns.length !== 3) datasetInvalid(at, undefined, `expected 3 tab-separated columns (query-id, corpus-id, score), got ${columns.length}`, HINT)
    const [queryId = '', documentId = '', score = ''] = columns.map((c) => c.trim())
    if (queryId === '') datasetInvalid(at, 'query-id', 'empty', HINT)
    if (documentId === '') datasetInvalid(at, 'corpus-id', 'empty', HINT)
    if (!/^-?\d+$/.test(score)) datasetInvalid(at, 'score', `expected an integer grade, got "${score}"`, HINT)
    let relevant = judgments.get(queryId)
    if (!relevant) {
      relevant = {}
      judgments.set(queryId, relevant)
      firstLine.set(queryId, line)
    }
    relevant[documentId] = Number(score)
  }
  return { judgments, firstLine }
}

/** Keeps only queries the split judges, in queries.jsonl order. */
async function readQueries(file: string, qrels: Qrels, signal?: AbortSignal): Promise<Map<string, RetrievalQuery>> {
  const queries = new Map<string, RetrievalQuery>()
  const seen = new Set<string>()
  for await (const { line, text } of readLines(file, 'BEIR queries.jsonl', HINT, signal)) {
    const at = { file, record: `line ${line}` }
    const query = parseRecord(querySchema, parseJsonLine(text, at, HINT), at, HINT)
    assertUniqueId(seen, query._id, at, '_id', HINT)
    const relevant = qrels.judgments.get(query._id)
    if (relevant) queries.set(query._id, { id: query._id, text: query.text, relevant })
  }
  return queries
}

async function readCorpus(file: string, signal?: AbortSignal): Promise<RetrievalDocument[]> {
  const documents: RetrievalDocument[] = []
  const seen = new Set<string>()
  for await (const { line, text } of readLines(file, 'BEIR corpus.jsonl', HINT, signal)) {
    const at = { file, record: `line ${line}` }
    const doc = parseRecord(documentSchema, parseJsonLine(text, at, HINT), at, HINT)
    assertUniqueId(seen, doc._id, at, '_id', HINT)
    documents.push(doc.title ? { id: doc._id, title: doc.title, text: doc.text } : { id: doc._id, text: doc.text })
  }
  return documents
}

/** Dangling or all-zero judgments are legal in published BEIR data, so they warn rather than fail. */
function checkJudgments(qrels: Qrels, documentIds: Set<string>): string[] {
  const warnings: string[] = []
  const dangling = new Set<string>()
  let withoutPositive = 0
  for (const relevant of qrels.judgments.values()) {
    for (const documentId of Object.keys(relevant)) if (!documentIds.has(documentId)) dangling.add(documentId)
    if (!Object.values(relevant).some((g) => g > 0)) withoutPositive++
  }
  const example = dangling.values().next().value
  if (example !== undefined) {
    warnings.push(`${dangling.size} judged document id(s) are not in corpus.jsonl (e.g. "${example}"); they count as relevant but can never be retrieved`)
  }
  if (withoutPositive > 0) warnings.push(`${withoutPositive} quer(ies) have no judgment above 0; they score 0 on every metric`)
  return warnings
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false
}
