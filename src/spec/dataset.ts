/**
 * What a label says the right evidence for a question is. Any part may be empty: an imported Q&A pair
 * may carry only the passage text, a feedback correction only the chunks it cites. The dataset
 * builder matches retrieved chunks against all three, and the split keeps questions that share a
 * document on one side, so an eval question's evidence never leaks into training.
 */
export interface GoldEvidence {
  /** Document ids or paths (as indexed: `documentPath`), e.g. a PubMed id or `guide.md`. */
  documents: string[]
  chunkIds: string[]
  /** The passage itself (SQuAD paragraph, PubMedQA abstract, the guide's `input`); null when unknown. */
  text: string | null
}

/** Where imported labels came from; the value of `LabeledExample.source`. */
export type LabelFormat = 'guide' | 'openai' | 'squad' | 'pubmedqa'

/**
 * A question with its right answer, imported from a file (not asked through ragtune, so it has no
 * query-log row). Ids are content hashes: importing the same file twice adds nothing.
 */
export interface LabeledExample {
  /** sha256 (hex, 32 chars) of format, question and answer. */
  id: string
  question: string
  answer: string
  gold: GoldEvidence
  /** Failure category this example teaches (format, hedging, ...), when the file says. */
  category: string | null
  source: LabelFormat | (string & {})
  /** `file:line` or `file:record` where it was read. */
  origin: string
  /** One id per import run, so a batch can be listed (and its lineage told) as a unit. */
  batchId: string
  /** ISO 8601. */
  importedAt: string
}

export interface LabeledExampleFilter {
  batchId?: string
}

/** The result of storing a batch: examples already present (same content hash) are not added twice. */
export interface AddLabeledResult {
  added: number
  existing: number
}

export type DatasetSplit = 'train' | 'eval'

/**
 * A stored dataset version: its content hash and where every part came from, so a trained adapter
 * can name exactly which logs, labels and index state taught it.
 */
export interface DatasetVersion {
  /** Time-sortable id (ULID). */
  id: string
  name: string | null
  /** sha256 hex over the records of both splits in order (see dataset-hash.ts). */
  hash: string
  /** ISO 8601. */
  createdAt: string
  counts: { train: number; eval: number }
  /** Logs, label batches, index fingerprint, retrieval and RAFT settings, tokenizer. */
  lineage: Record<string, unknown>
  /** The build report (leakage, truncation, coverage, warnings). */
  report: Record<string, unknown>
}

/** A chunk read back by id (to put a gold chunk retrieval missed into a RAFT context). */
export interface StoredChunk {
  id: string
  documentPath: string
  headingPath: string[]
  text: string
  ordinal: number
}
