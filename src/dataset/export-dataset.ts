import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import { RagtuneError, throwIfAborted } from '../errors.js'
import type { DatasetVersion } from '../spec/dataset.js'
import type { Store } from '../spec/store.js'
import { datasetNotFound } from '../store/dataset-sql.js'
import type { DatasetRecord } from './dataset-record.js'

/** `openai`: chat JSONL (what the trainer reads); `guide`: instruction/input/output JSONL; `hf`: a Hugging Face datasets folder. */
export type ExportFormat = 'openai' | 'guide' | 'hf'
export const EXPORT_FORMATS: readonly ExportFormat[] = ['openai', 'guide', 'hf']

/** The guide's instruction/input/output form: the question, the rendered sources block, the target. */
export function toGuideRecord(r: DatasetRecord): { instruction: string; input: string; output: string; system: string; metadata: DatasetRecord['metadata'] } {
  const user = [...r.messages].reverse().find((m) => m.role === 'user')?.content ?? ''
  const at = user.lastIndexOf('\n\nQuestion: ')
  return {
    instruction: at >= 0 ? user.slice(at + '\n\nQuestion: '.length) : user,
    input: at >= 0 ? user.slice(0, at) : '',
    output: r.messages[r.messages.length - 1]!.content,
    system: r.messages.find((m) => m.role === 'system')?.content ?? '',
    metadata: r.metadata,
  }
}

/** One JSONL line as writeJsonl writes it: the document and its newline. Eval-set hashes hash these bytes. */
export function jsonlLine(row: unknown): string {
  return JSON.stringify(row) + '\n'
}

/** Writes one JSON document per line, waiting for the disk when the stream asks (datasets can be large). */
export async function writeJsonl(file: string, rows: Iterable<unknown>, signal?: AbortSignal): Promise<number> {
  const out = createWriteStream(file)
  let n = 0
  try {
    for (const row of rows) {
      throwIfAborted(signal)
      if (!out.write(jsonlLine(row))) await once(out, 'drain')
      n++
    }
  } finally {
    out.end()
    await finished(out)
  }
  return n
}

/**
 * Writes a dataset's two splits in one format into `outDir` and returns the files written. The hf
 * layout is `README.md` (a dataset card whose YAML maps the splits: train → data/train.jsonl,
 * eval → the `test` split, data/test.jsonl) plus the records in chat form, loadable with
 * `datasets.load_dataset(outDir)`.
 */
export async function writeDatasetFiles(
  version: DatasetVersion, train: DatasetRecord[], evalRecords: DatasetRecord[], format: ExportFormat, outDir: string, signal?: AbortSignal,
): Promise<string[]> {
  if (!EXPORT_FORMATS.includes(format)) throw new RagtuneError('USAGE', `expected an export format of ${EXPORT_FORMATS.join(', ')}, got "${String(format)}"`)
  await mkdir(outDir, { recursive: true })
  if (format === 'hf') {
    await mkdir(join(outDir, 'data'), { recursive: true })
    const files = [join(outDir, 'data', 'train.jsonl'), join(outDir, 'data', 'test.jsonl'), join(outDir, 'README.md')]
    await writeJsonl(files[0]!, train, signal)
    await writeJsonl(files[1]!, evalRecords, signal)
    await writeFile(files[2]!, datasetCard(version))
    return files
  }
  const map = (r: DatasetRecord): unknown => (format === 'guide' ? toGuideRecord(r) : r)
  const files = [join(outDir, `train.${format}.jsonl`), join(outDir, `eval.${format}.jsonl`)]
  await writeJsonl(files[0]!, train.map(map), signal)
  await writeJsonl(files[1]!, evalRecords.map(map), signal)
  return files
}

/** Exports a stored dataset version (see writeDatasetFiles); an unknown id is DATASET_NOT_FOUND. */
export async function exportDataset(store: Store, id: string, format: ExportFormat, outDir: string, signal?: AbortSignal): Promise<string[]> {
  const version = await store.getDataset({ id })
  if (!version) throw datasetNotFound(id)
  const train = (await store.listDatasetRecords(id, 'train')) as DatasetRecord[]
  const evalRecords = (await store.listDatasetRecords(id, 'eval')) as DatasetRecord[]
  return writeDatasetFiles(version, train, evalRecords, format, outDir, signal)
}

function datasetCard(v: DatasetVersion): string {
  return [
    '---',
    'configs:',
    '- config_name: default',
    '  data_files:',
    '  - split: train',
    '    path: data/train.jsonl',
    '  - split: test',
    '    path: data/test.jsonl',
    'task_categories:',
    '- text-generation',
    '---',
    '',
    `# ragtune dataset ${v.id}${v.name ? ` (${v.name})` : ''}`,
    '',
    'Retrieval-augmented fine-tuning data built by ragtune (RAFT-style contexts). Each record is',
    '`{"messages": [system, user, assistant], "metadata": {...}}`; the user turn holds the numbered',
    'sources exactly as at inference, and the last assistant message is the training target.',
    'The `test` split is held out by evidence: none of its documents appears in `train`.',
    '',
    `- sha256: \`${v.hash}\``,
    `- created: ${v.createdAt}`,
    `- examples: ${v.counts.train} train, ${v.counts.eval} test`,
    '',
    '## Lineage',
    '',
    '```json',
    JSON.stringify(v.lineage, null, 2),
    '```',
    '',
  ].join('\n')
}

/**
 * The trainer's input: a stored version's train split as chat JSONL, `<outDir>/train.openai.jsonl`
 * (the same file `exportDataset(…, 'openai', …)` writes, without the eval split the trainer never reads).
 */
export async function exportTrainSplit(store: Store, id: string, outDir: string, signal?: AbortSignal): Promise<string> {
  if (!(await store.getDataset({ id }))) throw datasetNotFound(id)
  const train = (await store.listDatasetRecords(id, 'train')) as DatasetRecord[]
  if (train.length === 0) throw new RagtuneError('DATASET_EMPTY', `dataset ${id} has no train split`, { hint: 'build it again with more labeled examples (`ragtune dataset build`)' })
  await mkdir(outDir, { recursive: true })
  const file = join(outDir, 'train.openai.jsonl')
  await writeJsonl(file, train, signal)
  return file
}
