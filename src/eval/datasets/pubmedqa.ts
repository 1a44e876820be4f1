import { stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { z } from 'zod'
import { RagtuneError, throwIfAborted } from '../../errors.js'
import { datasetInvalid, parseRecord, readJsonFile } from './dataset-io.js'
import type { RetrievalDataset, RetrievalDocument, RetrievalQuery } from './retrieval-dataset.js'

const HINT = 'expected PubMedQA ori_pqal.json: {"<PMID>": {"QUESTION": string, "CONTEXTS": string[], ...}}'
const GROUND_TRUTH_HINT = 'expected a PubMedQA ground-truth file such as test_ground_truth.json: {"<PMID>": "yes"|"no"|"maybe"}'

const fileSchema = z.record(z.string(), z.unknown())
/** What every PubMedQA reader needs of a record; a reader that needs more extends it. */
export const pubmedqaRecordSchema = z.object({
  QUESTION: z.string().min(1),
  CONTEXTS: z.array(z.string()).min(1),
})
const groundTruthSchema = z.record(z.string(), z.unknown())

/** The data file's name in the PubMedQA release; a folder path is resolved to it. */
const DATA_FILE = 'ori_pqal.json'

/**
 * Reads PubMedQA (PQA-L) as a retrieval benchmark: each abstract is a document whose id is its PMID,
 * and each question's only relevant document is its own abstract. The document text is the CONTEXTS
 * paragraphs joined by blank lines; LONG_ANSWER is left out because it is the abstract's conclusion,
 * which the benchmark withholds on purpose. With a split or ground-truth file only that split's
 * questions are asked, but the corpus stays all abstracts so the test set has its full distractors.
 */
export async function loadPubmedqa(
  path: string,
  opts: { split?: string; groundTruth?: string; signal?: AbortSignal } = {},
): Promise<RetrievalDataset> {
  const dataFile = await resolvePubmedqaFile(path)
  const documents: RetrievalDocument[] = []
  const questions = new Map<string, RetrievalQuery>()
  for (const { pmid, record } of await readPubmedqaRecords(dataFile, pubmedqaRecordSchema, HINT, opts.signal)) {
    documents.push({ id: pmid, text: pubmedqaAbstract(record) })
    questions.set(pmid, { id: pmid, text: record.QUESTION, relevant: { [pmid]: 1 } })
  }

  const groundTruth = opts.groundTruth ?? (opts.split ? join(dirname(dataFile), `${opts.split}_ground_truth.json`) : undefined)
  if (groundTruth === undefined) {
    return { name: 'pubmedqa', documents, queries: [...questions.values()], skipped: 0, warnings: [] }
  }
  const split = await readSplit(groundTruth, questions, opts.signal)
  const splitName = opts.groundTruth ? basename(opts.groundTruth).replace(/(_ground_truth)?\.json$/i, '') : opts.split
  return { name: `pubmedqa:${splitName ?? ''}`, documents, queries: split, skipped: 0, warnings: [] }
}

/** Accepts the release folder or the data file itself, as the CLI's `--dataset` path does. */
export async function resolvePubmedqaFile(path: string, hint = HINT): Promise<string> {
  const info = await stat(path).catch(() => undefined)
  if (info?.isDirectory()) return join(path, DATA_FILE)
  if (info?.isFile()) return path
  throw new RagtuneError('DATASET_NOT_FOUND', `PubMedQA data not found: expected ${DATA_FILE} or its folder at ${path}`, {
    details: { file: path },
    hint,
  })
}

/**
 * Reads a PubMedQA data file (see resolvePubmedqaFile) and validates each record against
 * `recordSchema`, reporting a bad one by its PMID; records come back in file order.
 */
export async function readPubmedqaRecords<S extends z.ZodType>(
  dataFile: string,
  recordSchema: S,
  hint: string,
  signal?: AbortSignal,
): Promise<Array<{ pmid: string; record: z.output<S> }>> {
  const raw = await readJsonFile(dataFile, 'PubMedQA file', hint, signal)
  throwIfAborted(signal)
  const records = parseRecord(fileSchema, raw, { file: dataFile, record: 'top level' }, hint)
  return Object.entries(records).map(([pmid, value]) => ({ pmid, record: parseRecord(recordSchema, value, { file: dataFile, record: `PMID ${pmid}` }, hint) }))
}

/** An abstract's text: its CONTEXTS paragraphs, trimmed and joined by blank lines. */
export function pubmedqaAbstract(record: { CONTEXTS: string[] }): string {
  return record.CONTEXTS.map((c) => c.trim()).join('\n\n')
}

/** Keeps the questions whose PMID the ground-truth file lists; a PMID missing from the data is an error. */
async function readSplit(file: string, questions: Map<string, RetrievalQuery>, signal?: AbortSignal): Promise<RetrievalQuery[]> {
  const raw = await readJsonFile(file, 'PubMedQA ground-truth file', GROUND_TRUTH_HINT, signal)
  const labels = parseRecord(groundTruthSchema, raw, { file, record: 'top level' }, GROUND_TRUTH_HINT)
  return Object.keys(labels).map((pmid) => {
    const question = questions.get(pmid)
    if (!question) {
      return datasetInvalid({ file, record: `PMID ${pmid}` }, undefined, 'this PMID is not in the PubMedQA data file', GROUND_TRUTH_HINT)
    }
    return question
  })
}
