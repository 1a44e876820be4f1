import type { GoldEvidence } from '../spec/dataset.js'

/**
 * One labeled question before retrieval: the question, the right answer and what is known about its
 * evidence. Built from a corrected (or approved) query-log entry or from an imported label; the
 * builder then retrieves for it exactly as inference would.
 */
export interface TrainingItem {
  /** Stable across builds: `log:<queryId>` or `label:<labeled example id>`. */
  id: string
  question: string
  /** The target answer; citations, when present, number the sources of `citedChunks`. */
  target: string
  gold: GoldEvidence
  /**
   * For log items: which chunk each [n] of the target meant (the logged sources), so the numbers can
   * be rewritten for the rebuilt context. Empty for imports.
   */
  citedChunks: Record<number, string>
  /** Failure categories this example teaches: the label's and those the detectors found in the old answer. */
  categories: string[]
  /** The instruction and schema the question was asked with (log items), else the build's. */
  instruction?: string
  jsonSchema?: Record<string, unknown>
  origin: TrainingOrigin
}

export type TrainingOrigin =
  | { kind: 'log'; queryId: string; labelId: string; time: string }
  | { kind: 'import'; labeledExampleId: string; batchId: string; source: string; origin: string }

/** Whitespace- and case-insensitive text, for deduplication. */
export function dedupeKey(item: Pick<TrainingItem, 'question' | 'target'>): string {
  const norm = (s: string): string => s.toLowerCase().replace(/\s+/g, ' ').trim()
  return `${norm(item.question)}\u0000${norm(item.target)}`
}
