import { RagtuneError } from '../../errors.js'
import { readLines } from '../../eval/datasets/dataset-io.js'
import { fileSha256 } from '../../models/llama/llama-runtime.js'
import type { ChatMessage } from '../../spec/generator.js'

/**
 * Training records from JSONL, in the three shapes teams already have: OpenAI chat
 * (`{"messages": [...]}`, the last message is the assistant's target; what `ragtune dataset build`
 * exports), the guide's `{"instruction", "input", "output"}`, and `{"prompt", "completion"}`.
 * Every record becomes chat messages, so training goes through the model's chat template exactly
 * as inference does.
 */

export interface TrainingRecord {
  /** 1-based line in the file, for error messages and the over-length report. */
  line: number
  /** Everything before the answer: system, user (with the retrieved sources), earlier turns. */
  prompt: ChatMessage[]
  /** The assistant answer the loss is computed on. */
  answer: string
}

export interface TrainingFile {
  records: TrainingRecord[]
  /** sha256 of the file bytes: the training report and checkpoints name the exact data. */
  sha256: string
}

const NOT_FOUND_HINT = 'build one with `ragtune dataset build`, or pass a JSONL file'

const ROLES = new Set(['system', 'user', 'assistant'])

function bad(path: string, line: number, message: string): never {
  throw new RagtuneError('DATASET_INVALID', `${path}:${line}: ${message}`, {
    details: { path, line },
    hint: 'each line must be {"messages":[...,{"role":"assistant","content":...}]}, {"instruction","input","output"} or {"prompt","completion"}',
  })
}

function asString(v: unknown): v is string {
  return typeof v === 'string'
}

/** One parsed line → a record; throws DATASET_INVALID naming the line and the problem. */
export function parseTrainingRecord(value: unknown, path: string, line: number): TrainingRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(path, line, 'expected a JSON object')
  const o = value as Record<string, unknown>
  if (Array.isArray(o.messages)) {
    const messages = o.messages.map((m, i): ChatMessage => {
      const r = m as Record<string, unknown>
      if (typeof m !== 'object' || m === null || !asString(r.role) || !ROLES.has(r.role) || !asString(r.content)) {
        bad(path, line, `messages[${i}] must be {"role": "system"|"user"|"assistant", "content": string}`)
      }
      return { role: r.role as ChatMessage['role'], content: r.content as string }
    })
    const last = messages.at(-1)
    if (!last || last.role !== 'assistant') bad(path, line, 'the last message must be the assistant answer to train on')
    if (messages.length < 2) bad(path, line, 'a record needs at least one user message before the answer')
    return { line, prompt: messages.slice(0, -1), answer: last.content }
  }
  if (asString(o.instruction) && asString(o.output)) {
    const input = asString(o.input) && o.input.trim() !== '' ? `\n\n${o.input}` : ''
    return { line, prompt: [{ role: 'user', content: `${o.instruction}${input}` }], answer: o.output }
  }
  if (asString(o.prompt) && asString(o.completion)) return { line, prompt: [{ role: 'user', content: o.prompt }], answer: o.completion }
  return bad(path, line, `unrecognized record with keys ${Object.keys(o).join(', ') || '(none)'}`)
}

/** Reads a JSONL training file; blank lines are skipped, anything else malformed is an error. */
export async function readTrainingFile(path: string): Promise<TrainingFile> {
  const records: TrainingRecord[] = []
  try {
    for await (const { line, text } of readLines(path, 'training dataset', NOT_FOUND_HINT)) {
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (e) {
        bad(path, line, `invalid JSON (${(e as Error).message})`)
      }
      records.push(parseTrainingRecord(value, path, line))
    }
  } catch (cause) {
    if (cause instanceof RagtuneError) throw cause
    throw new RagtuneError('DATASET_NOT_FOUND', `cannot read dataset ${path}: ${(cause as Error).message}`, { details: { path }, cause, hint: NOT_FOUND_HINT })
  }
  if (records.length === 0) bad(path, 1, 'the file holds no records')
  return { records, sha256: await fileSha256(path) }
}
