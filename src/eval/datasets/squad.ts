import { basename } from 'node:path'
import { z } from 'zod'
import { throwIfAborted } from '../../errors.js'
import { assertUniqueId, parseRecord, readJsonFile } from './dataset-io.js'
import type { RetrievalDataset, RetrievalDocument, RetrievalQuery } from './retrieval-dataset.js'

const HINT = 'expected SQuAD v1.1/v2.0 JSON: {"data":[{"title","paragraphs":[{"context","qas":[{"id","question","is_impossible"?}]}]}]}'

const fileSchema = z.object({ data: z.array(z.unknown()) })
const articleSchema = z.object({ title: z.string(), paragraphs: z.array(z.unknown()) })
const paragraphSchema = z.object({ context: z.string().min(1), qas: z.array(z.unknown()) })
const questionSchema = z.object({
  id: z.string().min(1),
  question: z.string().min(1),
  is_impossible: z.boolean().optional(),
})

/**
 * Reads a SQuAD v1.1 or v2.0 file as a retrieval benchmark: every paragraph is a document (id
 * `${title}#${index}`, index within its article) and every answerable question's only relevant
 * document is the paragraph it was written against. Unanswerable v2.0 questions have no gold
 * passage, so they are counted in `skipped` rather than scored as misses.
 */
export async function loadSquad(path: string, opts: { signal?: AbortSignal } = {}): Promise<RetrievalDataset> {
  const raw = await readJsonFile(path, 'SQuAD file', HINT, opts.signal)
  throwIfAborted(opts.signal)
  const file = parseRecord(fileSchema, raw, { file: path, record: 'top level' }, HINT)
  const documents: RetrievalDocument[] = []
  const queries: RetrievalQuery[] = []
  const documentIds = new Set<string>()
  const queryIds = new Set<string>()
  let skipped = 0

  file.data.forEach((rawArticle, a) => {
    const articleAt = { file: path, record: `data[${a}]` }
    const article = parseRecord(articleSchema, rawArticle, articleAt, HINT)
    article.paragraphs.forEach((rawParagraph, p) => {
      const paragraphAt = { file: path, record: `data[${a}].paragraphs[${p}]` }
      const paragraph = parseRecord(paragraphSchema, rawParagraph, paragraphAt, HINT)
      const documentId = `${article.title}#${p}`
      assertUniqueId(documentIds, documentId, articleAt, 'title', HINT)
      documents.push({ id: documentId, title: article.title.replaceAll('_', ' '), text: paragraph.context })
      paragraph.qas.forEach((rawQuestion, q) => {
        const questionAt = { file: path, record: `data[${a}].paragraphs[${p}].qas[${q}]` }
        const question = parseRecord(questionSchema, rawQuestion, questionAt, HINT)
        assertUniqueId(queryIds, question.id, questionAt, 'id', HINT)
        if (question.is_impossible === true) {
          skipped++
          return
        }
        queries.push({ id: question.id, text: question.question, relevant: { [documentId]: 1 } })
      })
    })
  })

  return { name: `squad:${basename(path).replace(/\.json$/i, '')}`, documents, queries, skipped, warnings: [] }
}
