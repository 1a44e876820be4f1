import { z } from 'zod'
import { squadQuestionSchema, walkSquad } from '../../eval/datasets/squad.js'
import type { LabelDraft, ParsedLabels } from './label-draft.js'

const HINT = 'expected SQuAD v1.1/v2.0 JSON: {"data":[{"title","paragraphs":[{"context","qas":[{"id","question","answers":[{"text"}],"is_impossible"?}]}]}]}'

const questionSchema = squadQuestionSchema.extend({
  question: z.string().trim().min(1),
  answers: z.array(z.object({ text: z.string() })),
})

/**
 * SQuAD as labels: the first gold answer of each question, with its paragraph as gold evidence (text
 * and the id `title#index` that `ragtune eval retrieval` indexes it under). Unanswerable v2.0
 * questions have no answer to learn and are counted in `skipped`.
 */
export async function parseSquadLabels(file: string, opts: { signal?: AbortSignal } = {}): Promise<ParsedLabels> {
  const drafts: LabelDraft[] = []
  let skipped = 0
  await walkSquad(
    file,
    questionSchema,
    HINT,
    {
      question: (qa, paragraph, at) => {
        const answer = qa.answers.find((x) => x.text.trim() !== '')?.text.trim()
        if (qa.is_impossible === true || answer === undefined) {
          skipped++
          return
        }
        drafts.push({
          question: qa.question.trim(),
          answer,
          gold: { documents: [paragraph.documentId], chunkIds: [], text: paragraph.context },
          category: null,
          origin: `${at.file}:${at.record}`,
        })
      },
    },
    opts.signal,
  )
  return { drafts, skipped }
}
