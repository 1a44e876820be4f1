import { z } from 'zod'
import { parseJsonLine, parseRecord, readLines } from '../../eval/datasets/dataset-io.js'
import { categoryFromMetadata, goldFromMetadata, labelMetadataSchema, type LabelDraft, type ParsedLabels } from './label-draft.js'

export const GUIDE_HINT = 'expected one JSON object per line: {"instruction": "<question>", "input": "<context, may be empty>", "output": "<answer>"}'

const guideSchema = z.object({
  instruction: z.string().trim().min(1),
  input: z.string().default(''),
  output: z.string().trim().min(1),
  category: z.string().min(1).optional(),
  metadata: labelMetadataSchema,
})

/**
 * The fine-tuning guide's JSONL: `instruction` is the question, `input` the passage that answers it
 * (becomes the gold text; a ragtune export puts the whole sources block there instead, which names no
 * single gold passage) and `output` the answer.
 */
export async function parseGuideJsonl(file: string, opts: { signal?: AbortSignal } = {}): Promise<ParsedLabels> {
  const drafts: LabelDraft[] = []
  for await (const { line, text } of readLines(file, 'label file', GUIDE_HINT, opts.signal)) {
    const at = { file, record: `line ${line}` }
    const rec = parseRecord(guideSchema, parseJsonLine(text, at, GUIDE_HINT), at, GUIDE_HINT)
    const input = rec.input.trim()
    const goldText = input === '' || input.startsWith('<sources>') ? null : input
    drafts.push({
      question: rec.instruction.trim(),
      answer: rec.output.trim(),
      gold: goldFromMetadata(rec.metadata, goldText),
      category: categoryFromMetadata(rec.metadata, rec.category ?? null),
      origin: `${file}:${line}`,
    })
  }
  return { drafts, skipped: 0 }
}
