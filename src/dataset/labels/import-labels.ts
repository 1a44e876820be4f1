import { createHash } from 'node:crypto'
import { basename } from 'node:path'
import { RagtuneError, throwIfAborted } from '../../errors.js'
import { ulid } from '../../observe/ulid.js'
import type { LabeledExample, LabelFormat } from '../../spec/dataset.js'
import type { Store } from '../../spec/store.js'
import { parseGuideJsonl } from './guide-jsonl.js'
import type { ParsedLabels } from './label-draft.js'
import { parseOpenAIChat } from './openai-chat.js'
import { parsePubmedqaLabels } from './pubmedqa-labels.js'
import { parseSquadLabels } from './squad-labels.js'

/** The accepted `--format` values of `ragtune labels import`. */
export const LABEL_FORMATS: readonly LabelFormat[] = ['guide', 'openai', 'squad', 'pubmedqa']

export interface ImportLabelsOptions {
  /** Category given to every label of the file that names none. */
  category?: string
  /** Default: now. */
  now?: Date
  signal?: AbortSignal
}

export interface ImportLabelsResult {
  batchId: string
  file: string
  format: LabelFormat
  /** Labels read from the file. */
  read: number
  /** New labels stored. */
  added: number
  /** Labels already stored by an earlier import (same format, question and answer). */
  existing: number
  /** Records left out by design (e.g. unanswerable SQuAD questions). */
  skipped: number
}

/** Reads a label file of the given format; the first malformed record throws DATASET_INVALID with its line or record. */
export async function readLabelFile(file: string, format: LabelFormat, opts: { signal?: AbortSignal } = {}): Promise<ParsedLabels> {
  switch (format) {
    case 'guide':
      return parseGuideJsonl(file, opts)
    case 'openai':
      return parseOpenAIChat(file, opts)
    case 'squad':
      return parseSquadLabels(file, opts)
    case 'pubmedqa':
      return parsePubmedqaLabels(file, opts)
    default:
      throw new RagtuneError('USAGE', `expected a label format of ${LABEL_FORMATS.join(', ')}, got "${String(format)}"`, { hint: 'pass --format guide|openai|squad|pubmedqa' })
  }
}

/**
 * Imports a label file into the store. The whole file is read and checked before anything is
 * written, and the write is one transaction: a malformed file stores nothing and leaves earlier
 * labels as they were. Ids are content hashes, so importing a file again adds nothing.
 */
export async function importLabels(store: Store, file: string, format: LabelFormat, opts: ImportLabelsOptions = {}): Promise<ImportLabelsResult> {
  const parsed = await readLabelFile(file, format, opts.signal ? { signal: opts.signal } : {})
  throwIfAborted(opts.signal)
  const batchId = ulid()
  const importedAt = (opts.now ?? new Date()).toISOString()
  const seen = new Set<string>()
  const examples: LabeledExample[] = []
  for (const d of parsed.drafts) {
    const id = labeledExampleId(format, d.question, d.answer)
    if (seen.has(id)) continue
    seen.add(id)
    examples.push({ id, ...d, category: d.category ?? opts.category ?? null, source: format, batchId, importedAt, origin: d.origin.replace(file, basename(file)) })
  }
  const res = await store.addLabeledExamples(examples)
  return { batchId, file, format, read: parsed.drafts.length, added: res.added, existing: parsed.drafts.length - res.added, skipped: parsed.skipped }
}

/** Content hash: the same question and answer in the same format is the same label. */
export function labeledExampleId(format: string, question: string, answer: string): string {
  return createHash('sha256').update(`${format}\u0000${question}\u0000${answer}`).digest('hex').slice(0, 32)
}
