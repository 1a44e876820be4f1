import { z } from 'zod'
import type { GoldEvidence } from '../../spec/dataset.js'

/** One label as read from a file, before it gets its id and batch. */
export interface LabelDraft {
  question: string
  answer: string
  gold: GoldEvidence
  category: string | null
  /** `file:line 12`, `file:PMID 123`… */
  origin: string
}

export interface ParsedLabels {
  drafts: LabelDraft[]
  /** Records left out by design (SQuAD v2 unanswerable questions), counted so nothing vanishes silently. */
  skipped: number
}

/**
 * Optional metadata a JSONL label may carry (ragtune's own exports write it): the category it
 * teaches and its gold evidence. Unknown keys are ignored, so other tools' metadata passes through.
 */
export const labelMetadataSchema = z.object({
  category: z.string().min(1).optional(),
  categories: z.array(z.string()).optional(),
  goldDocuments: z.array(z.string()).optional(),
  goldChunkIds: z.array(z.string()).optional(),
  goldText: z.string().optional(),
}).optional()

export type LabelMetadata = z.output<typeof labelMetadataSchema>

export function goldFromMetadata(meta: LabelMetadata, text: string | null): GoldEvidence {
  return { documents: meta?.goldDocuments ?? [], chunkIds: meta?.goldChunkIds ?? [], text: meta?.goldText ?? text }
}

export function categoryFromMetadata(meta: LabelMetadata, fallback: string | null): string | null {
  return meta?.category ?? meta?.categories?.[0] ?? fallback
}
