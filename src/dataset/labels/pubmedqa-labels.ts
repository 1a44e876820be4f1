import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { parseRecord } from '../../eval/datasets/dataset-io.js'
import { readJsonLabels } from './read-json.js'
import type { LabelDraft, ParsedLabels } from './label-draft.js'

const HINT = 'expected PubMedQA ori_pqal.json: {"<PMID>": {"QUESTION": string, "CONTEXTS": string[], "LONG_ANSWER": string, "final_decision": "yes"|"no"|"maybe"}}'

const fileSchema = z.record(z.string(), z.unknown())
const recordSchema = z.object({
  QUESTION: z.string().trim().min(1),
  CONTEXTS: z.array(z.string()).min(1),
  LONG_ANSWER: z.string().trim().min(1),
  final_decision: z.enum(['yes', 'no', 'maybe']),
})

/**
 * PubMedQA (PQA-L) as labels: the answer is the decision followed by the expert's long answer
 * ("Yes. <LONG_ANSWER>"), the gold evidence the abstract (document id = PMID, text = CONTEXTS).
 */
export async function parsePubmedqaLabels(path: string, opts: { signal?: AbortSignal } = {}): Promise<ParsedLabels> {
  const file = (await stat(path).catch(() => undefined))?.isDirectory() ? join(path, 'ori_pqal.json') : path
  const raw = await readJsonLabels(file, 'PubMedQA file', HINT, opts.signal)
  const records = parseRecord(fileSchema, raw, { file, record: 'top level' }, HINT)
  const drafts: LabelDraft[] = Object.entries(records).map(([pmid, value]) => {
    const r = parseRecord(recordSchema, value, { file, record: `PMID ${pmid}` }, HINT)
    const decision = r.final_decision[0]!.toUpperCase() + r.final_decision.slice(1)
    return {
      question: r.QUESTION.trim(),
      answer: `${decision}. ${r.LONG_ANSWER.trim()}`,
      gold: { documents: [pmid], chunkIds: [], text: r.CONTEXTS.map((c) => c.trim()).join('\n\n') },
      category: null,
      origin: `${file}:PMID ${pmid}`,
    }
  })
  return { drafts, skipped: 0 }
}
