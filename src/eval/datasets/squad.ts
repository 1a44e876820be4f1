import { basename } from 'node:path'
import { z } from 'zod'
import { throwIfAborted } from '../../errors.js'
import { assertUniqueId, parseRecord, readJsonFile, type RecordLocation } from './dataset-io.js'
import type { RetrievalDataset, RetrievalDocument, RetrievalQuery } from './retrieval-dataset.js'

const HINT = 'expected SQuAD v1.1/v2.0 JSON: {"data":[{"title","paragraphs":[{"context","qas":[{"id","question","is_impossible"?}]}]}]}'

const fileSchema = z.object({ data: z.array(z.unknown()) })
const articleSchema = z.object({ title: z.string(), paragraphs: z.array(z.unknown()) })
const paragraphSchema = z.object({ context: z.string().min(1), qas: z.array(z.unknown()) })
/** What every SQuAD reader needs of a question; a reader that needs more extends it. */
export const squadQuestionSchema = z.object({
  id: z.string().min(1),
  question: z.string().min(1),
  is_impossible: z.boolean().optional(),
})

/** One paragraph of a SQuAD file, as the benchmark indexes it. */
export interface SquadParagraph {
  /** `${title}#${index}`, index within its article: the id `ragtune eval retrieval` indexes it under. */
  documentId: string
  title: string
  context: string
  /** Its article (`data[3]`), where a duplicate document id is reported. */
  articleAt: RecordLocation
}

export interface SquadVisitor<Q> {
  /** Called for each paragraph before its questions. */
  paragraph?: (paragraph: SquadParagraph) => void
  question: (question: Q, paragraph: SquadParagraph, at: RecordLocation) => void
}

/**
 * Reads a SQuAD v1.1/v2.0 file and walks `data[a].paragraphs[p].qas[q]` in file order, validating
 * each level (questions against `questionSchema`) and reporting a bad one at its JSON path.
 */
export async function walkSquad<S extends z.ZodType>(
  path: string,
  questionSchema: S,
  hint: string,
  visit: SquadVisitor<z.output<S>>,
  signal?: AbortSignal,
): Promise<void> {
  const raw = await readJsonFile(path, 'SQuAD file', hint, signal)
  throwIfAborted(signal)
  const file = parseRecord(fileSchema, raw, { file: path, record: 'top level' }, hint)
  file.data.forEach((rawArticle, a) => {
    const articleAt = { file: path, record: `data[${a}]` }
    const article = parseRecord(articleSchema, rawArticle, articleAt, hint)
    article.paragraphs.forEach((rawParagraph, p) => {
      const paragraphAt = { file: path, record: `data[${a}].paragraphs[${p}]` }
      const { context, qas } = parseRecord(paragraphSchema, rawParagraph, paragraphAt, hint)
      const paragraph: SquadParagraph = { documentId: `${article.title}#${p}`, title: article.title, context, articleAt }
      visit.paragraph?.(paragraph)
      qas.forEach((rawQuestion, q) => {
        const questionAt = { file: path, record: `data[${a}].paragraphs[${p}].qas[${q}]` }
        visit.question(parseRecord(questionSchema, rawQuestion, questionAt, hint), paragraph, questionAt)
      })
    })
  })
}

/**
 * Reads a SQuAD v1.1 or v2.0 file as a retrieval benchmark: every paragraph is a document (id
 * `${title}#${index}`, index within its article) and every answerable question's only relevant
 * document is the paragraph it was written against. Unanswerable v2.0 questions have no gold
 * passage, so they are counted in `skipped` rather than scored as misses.
 */
export async function loadSquad(path: string, opts: { signal?: AbortSignal } = {}): Promise<RetrievalDataset> {
  const documents: RetrievalDocument[] = []
  const queries: RetrievalQuery[] = []
  const documentIds = new Set<string>()
  const queryIds = new Set<string>()
  let skipped = 0

  await walkSquad(
    path,
    squadQuestionSchema,
    HINT,
    {
      paragraph: ({ documentId, title, context, articleAt }) => {
        assertUniqueId(documentIds, documentId, articleAt, 'title', HINT)
        documents.push({ id: documentId, title: title.replaceAll('_', ' '), text: context })
      },
      question: (question, { documentId }, at) => {
        assertUniqueId(queryIds, question.id, at, 'id', HINT)
        if (question.is_impossible === true) {
          skipped++
          return
        }
        queries.push({ id: question.id, text: question.question, relevant: { [documentId]: 1 } })
      },
    },
    opts.signal,
  )

  return { name: `squad:${basename(path).replace(/\.json$/i, '')}`, documents, queries, skipped, warnings: [] }
}
