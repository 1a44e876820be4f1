import { z } from 'zod'
import { parseUserTurn } from '../../analyze/logged-prompt.js'
import { datasetInvalid, parseJsonLine, parseRecord, readLines } from '../../eval/datasets/dataset-io.js'
import { categoryFromMetadata, goldFromMetadata, labelMetadataSchema, type LabelDraft, type ParsedLabels } from './label-draft.js'

export const OPENAI_HINT = 'expected one JSON object per line: {"messages": [{"role": "system", ...}, {"role": "user", "content": "<question>"}, {"role": "assistant", "content": "<answer>"}], "metadata"?: {...}}'

const chatSchema = z.object({
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(2),
  metadata: labelMetadataSchema,
})

/**
 * OpenAI chat fine-tuning JSONL: the last assistant message is the answer and the user turn before
 * it the question. A user turn rendered by ragtune (sources block + "Question: ...") gives back just
 * the question: the builder retrieves fresh sources for it, as inference would.
 */
export async function parseOpenAIChat(file: string, opts: { signal?: AbortSignal } = {}): Promise<ParsedLabels> {
  const drafts: LabelDraft[] = []
  for await (const { line, text } of readLines(file, 'label file', OPENAI_HINT, opts.signal)) {
    const at = { file, record: `line ${line}` }
    const rec = parseRecord(chatSchema, parseJsonLine(text, at, OPENAI_HINT), at, OPENAI_HINT)
    const last = rec.messages[rec.messages.length - 1]!
    if (last.role !== 'assistant' || last.content.trim() === '') {
      datasetInvalid(at, `messages[${rec.messages.length - 1}]`, `expected the last message to be a non-empty assistant answer, got role "${last.role}"`, OPENAI_HINT)
    }
    const userIndex = rec.messages.map((m) => m.role).lastIndexOf('user')
    const user = rec.messages[userIndex]
    if (!user || user.content.trim() === '') datasetInvalid(at, 'messages', 'expected a non-empty user message (the question) before the answer', OPENAI_HINT)
    const question = (parseUserTurn(user.content).question ?? user.content).trim()
    drafts.push({
      question,
      answer: last.content.trim(),
      gold: goldFromMetadata(rec.metadata, null),
      category: categoryFromMetadata(rec.metadata, null),
      origin: `${file}:${line}`,
    })
  }
  return { drafts, skipped: 0 }
}
