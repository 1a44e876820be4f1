import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { RagtuneError } from '../../errors.js'
import { readTrainingFile } from '../data/training-records.js'

/** OpenAI refuses fine-tuning files with fewer examples than this. */
export const OPENAI_MIN_EXAMPLES = 10
/** gpt-4o-mini trains on examples of up to 65,536 tokens; beyond that OpenAI truncates them. */
const EXAMPLE_TOKEN_LIMIT = 65_536

export interface OpenAITrainingFile {
  /** The JSONL written for upload: one `{"messages": [...]}` per line, nothing else. */
  path: string
  /** sha256 of the written bytes: the job state pins the exact upload. */
  sha256: string
  bytes: Buffer
  examples: number
  warnings: string[]
}

/**
 * Checks a training file before anything is uploaded or paid for, and writes it the way OpenAI's
 * chat fine-tuning reads it. Any of the trainer's input shapes is accepted (chat records from
 * `ragtune dataset build`, instruction/input/output, prompt/completion); each becomes `messages`,
 * with ragtune's `metadata` left out (the platform rejects keys it does not know). A problem names
 * the line, so it is fixed here rather than discovered by a failed job minutes later.
 */
export async function writeOpenAITrainingFile(input: string, outDir: string, name = 'train.openai.jsonl'): Promise<OpenAITrainingFile> {
  const { records } = await readTrainingFile(input)
  const warnings: string[] = []
  const lines: string[] = []
  for (const r of records) {
    const messages = [...r.prompt, { role: 'assistant' as const, content: r.answer }]
    if (!messages.some((m) => m.role === 'user')) bad(input, r.line, 'a record needs a user message: OpenAI trains on user → assistant turns')
    const empty = messages.findIndex((m) => m.content.trim() === '')
    if (empty >= 0) bad(input, r.line, `message ${empty + 1} (${messages[empty]!.role}) is empty; OpenAI rejects empty content`)
    // ~4 characters per token for English text: a cheap check that flags what OpenAI would cut.
    const approxTokens = Math.ceil(messages.reduce((n, m) => n + m.content.length, 0) / 4)
    if (approxTokens > EXAMPLE_TOKEN_LIMIT) warnings.push(`${input}:${r.line}: about ${approxTokens} tokens, over OpenAI's ${EXAMPLE_TOKEN_LIMIT}-token example limit; it would be truncated`)
    lines.push(JSON.stringify({ messages }))
  }
  if (records.length < OPENAI_MIN_EXAMPLES) {
    throw new RagtuneError('DATASET_TOO_SMALL', `OpenAI fine-tuning needs at least ${OPENAI_MIN_EXAMPLES} examples, ${input} holds ${records.length}`, {
      details: { path: input, examples: records.length },
      hint: 'label more answers (`ragtune feedback`, `ragtune labels import`) and build the dataset again',
    })
  }
  const bytes = Buffer.from(lines.join('\n') + '\n', 'utf8')
  await mkdir(outDir, { recursive: true })
  const file = path.join(outDir, name)
  await writeFile(file, bytes)
  return { path: file, sha256: createHash('sha256').update(bytes).digest('hex'), bytes, examples: records.length, warnings }
}

function bad(file: string, line: number, message: string): never {
  throw new RagtuneError('DATASET_INVALID', `${file}:${line}: ${message}`, { details: { path: file, line }, hint: 'fix that record (or drop it) and run again; nothing was uploaded' })
}
