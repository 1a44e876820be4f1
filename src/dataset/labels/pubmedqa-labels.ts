import { z } from 'zod'
import { pubmedqaAbstract, pubmedqaRecordSchema, readPubmedqaRecords, resolvePubmedqaFile } from '../../eval/datasets/pubmedqa.js'
import type { LabelDraft, ParsedLabels } from './label-draft.js'

const HINT = 'expected PubMedQA ori_pqal.json: {"<PMID>": {"QUESTION": string, "CONTEXTS": string[], "LONG_ANSWER": string, "final_decision": "yes"|"no"|"maybe"}}'

const recordSchema = pubmedqaRecordSchema.extend({
  QUESTION: z.string().trim().min(1),
  LONG_ANSWER: z.string().trim().min(1),
  final_decision: z.enum(['yes', 'no', 'maybe']),
})

/**
 * PubMedQA (PQA-L) as labels: the answer is the decision followed by the expert's long answer
 * ("Yes. <LONG_ANSWER>"), the gold evidence the abstract (document id = PMID, text = CONTEXTS).
 */
export async function parsePubmedqaLabels(path: string, opts: { signal?: AbortSignal } = {}): Promise<ParsedLabels> {
  const file = await resolvePubmedqaFile(path, HINT)
  const records = await readPubmedqaRecords(file, recordSchema, HINT, opts.signal)
  const drafts: LabelDraft[] = records.map(({ pmid, record: r }) => {
    const decision = r.final_decision[0]!.toUpperCase() + r.final_decision.slice(1)
    return {
      question: r.QUESTION.trim(),
      answer: `${decision}. ${r.LONG_ANSWER.trim()}`,
      gold: { documents: [pmid], chunkIds: [], text: pubmedqaAbstract(r) },
      category: null,
      origin: `${file}:PMID ${pmid}`,
    }
  })
  return { drafts, skipped: 0 }
}
