import { z } from 'zod'
import { parseRecord } from '../../eval/datasets/dataset-io.js'
import { readJsonLabels } from './read-json.js'
import type { LabelDraft, ParsedLabels } from './label-draft.js'

const HINT = 'expected SQuAD v1.1/v2.0 JSON: {"data":[{"title","paragraphs":[{"context","qas":[{"id","question","answers":[{"text"}],"is_impossible"?}]}]}]}'

const fileSchema = z.object({ data: z.array(z.unknown()) })
const articleSchema = z.object({ title: z.string(), paragraphs: z.array(z.unknown()) })
const paragraphSchema = z.object({ context: z.string().min(1), qas: z.array(z.unknown()) })
const questionSchema = z.object({
  id: z.string().min(1),
  question: z.string().trim().min(1),
  answers: z.array(z.object({ text: z.string() })),
  is_impossible: z.boolean().optional(),
})

/**
 * SQuAD as labels: the first gold answer of each question, with its paragraph as gold evidence (text
 * and the id `title#index` that `ragtune eval retrieval` indexes it under). Unanswerable v2.0
 * questions have no answer to learn and are counted in `skipped`.
 */
export async function parseSquadLabels(file: string, opts: { signal?: AbortSignal } = {}): Promise<ParsedLabels> {
  const raw = await readJsonLabels(file, 'SQuAD file', HINT, opts.signal)
  const top = parseRecord(fileSchema, raw, { file, record: 'top level' }, HINT)
  const drafts: LabelDraft[] = []
  let skipped = 0
  top.data.forEach((rawArticle, a) => {
    const article = parseRecord(articleSchema, rawArticle, { file, record: `data[${a}]` }, HINT)
    article.paragraphs.forEach((rawParagraph, p) => {
      const paragraph = parseRecord(paragraphSchema, rawParagraph, { file, record: `data[${a}].paragraphs[${p}]` }, HINT)
      paragraph.qas.forEach((rawQuestion, q) => {
        const record = `data[${a}].paragraphs[${p}].qas[${q}]`
        const qa = parseRecord(questionSchema, rawQuestion, { file, record }, HINT)
        const answer = qa.answers.find((x) => x.text.trim() !== '')?.text.trim()
        if (qa.is_impossible === true || answer === undefined) {
          skipped++
          return
        }
        drafts.push({
          question: qa.question.trim(),
          answer,
          gold: { documents: [`${article.title}#${p}`], chunkIds: [], text: paragraph.context },
          category: null,
          origin: `${file}:${record}`,
        })
      })
    })
  })
  return { drafts, skipped }
}
