import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { jsonlLine } from '../dataset/export-dataset.js'
import { RagtuneError } from '../errors.js'

/**
 * A held-out eval set: JSONL, one example per line, in either of two shapes.
 *
 * Plain: {"question": "...", "answer"?: "..." | ["...", ...], "label"?: "yes", "goldDocIds"?: ["guide.md"],
 *         "category"?: "format", "schema"?: {JSON Schema}, "id"?: "q1"}
 * Chat (what the dataset builder exports for OpenAI fine-tuning): {"messages": [...], "metadata": {...}}:
 * the last assistant message is the gold answer; the question is metadata.question, else the last
 * user message (its text after the final "Question: " when it holds a rendered sources block);
 * metadata may carry id, category (or categories: the first counts), label, schema and gold
 * documents or chunks (goldDocIds, goldDocuments, goldChunkIds, or gold: {documents, chunkIds}).
 *
 * The set is identified by its content hash, so two runs pair only when they saw the same examples.
 */
export interface EvalExample {
  id: string
  question: string
  /** Acceptable answers (SQuAD keeps several); empty when the set has no gold answer for it. */
  answers: string[]
  label: string | null
  /** Gold document paths (as indexed) or chunk ids; empty when unknown. */
  goldDocIds: string[]
  category: string
  schema: Record<string, unknown> | null
}

export interface EvalSet {
  name: string
  sha256: string
  examples: EvalExample[]
  /** Every distinct gold label, normalised to lower case: the words a label answer is read for. */
  labels: string[]
}

/** Category of examples that name none. */
export const DEFAULT_CATEGORY = 'uncategorized'

const jsonSchema = z.record(z.string(), z.unknown())
const plainRow = z.strictObject({
  id: z.union([z.string().min(1), z.number()]).optional(),
  question: z.string().trim().min(1),
  answer: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  label: z.string().trim().min(1).optional(),
  goldDocIds: z.array(z.string().min(1)).optional(),
  category: z.string().trim().min(1).optional(),
  schema: jsonSchema.optional(),
})
const chatRow = z.object({
  messages: z.array(z.object({ role: z.string(), content: z.string() })).min(1),
  metadata: z
    .looseObject({
      id: z.union([z.string().min(1), z.number()]).optional(),
      question: z.string().trim().min(1).optional(),
      category: z.string().trim().min(1).nullable().optional(),
      label: z.string().trim().min(1).nullable().optional(),
      schema: jsonSchema.nullable().optional(),
      /** The dataset builder's records: the failure categories the example teaches; the first is its category. */
      categories: z.array(z.string()).optional(),
      goldDocIds: z.array(z.string().min(1)).optional(),
      goldDocuments: z.array(z.string().min(1)).optional(),
      goldChunkIds: z.array(z.string().min(1)).optional(),
      gold: z.looseObject({ documents: z.array(z.string()).optional(), chunkIds: z.array(z.string()).optional() }).optional(),
    })
    .optional(),
})

/** Reads and checks an eval set file; every problem names its line. */
export async function loadEvalSet(file: string): Promise<EvalSet> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (err) {
    throw new RagtuneError('EVAL_SET_NOT_FOUND', `cannot read eval set ${file}: ${(err as Error).message}`, {
      details: { file },
      hint: 'pass a JSONL file with --set (one {"question": ...} per line; see `ragtune eval run --help`)',
    })
  }
  return parseEvalSet(bytes.toString('utf8'), { name: path.basename(file).replace(/\.jsonl?$/i, ''), sha256: createHash('sha256').update(bytes).digest('hex') })
}

/** Parses JSONL text; `meta` names the set. */
export function parseEvalSet(text: string, meta: { name: string; sha256: string }): EvalSet {
  const values: Array<{ value: unknown; where: string; at: number }> = []
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue
    const where = `${meta.name} line ${i + 1}`
    try {
      values.push({ value: JSON.parse(line), where, at: i + 1 })
    } catch (err) {
      throw badLine(where, `not JSON: ${(err as Error).message}`)
    }
  }
  return evalSetOf(values, meta)
}

/**
 * An eval set from records already parsed (a stored dataset version's eval split); the hash is over
 * the bytes `dataset export` writes for them (writeJsonl's lines), so `--set dataset:<id>` and the
 * same split exported to a file are the same set and their runs pair.
 */
export function evalSetFromRecords(records: readonly unknown[], name: string): EvalSet {
  const hash = createHash('sha256')
  for (const r of records) hash.update(jsonlLine(r))
  const sha256 = hash.digest('hex')
  return evalSetOf(records.map((value, i) => ({ value, where: `${name} record ${i + 1}`, at: i + 1 })), { name, sha256 })
}

function evalSetOf(values: Array<{ value: unknown; where: string; at: number }>, meta: { name: string; sha256: string }): EvalSet {
  const examples: EvalExample[] = []
  const ids = new Set<string>()
  for (const { value, where, at } of values) {
    const example = toExample(value, where)
    if (ids.has(example.id)) {
      if (explicitId(value)) throw badLine(where, `id "${example.id}" is used twice`)
      example.id = `${example.id}-${at}`
    }
    ids.add(example.id)
    examples.push(example)
  }
  if (examples.length === 0) {
    throw new RagtuneError('EVAL_SET_EMPTY', `eval set ${meta.name} holds no examples`, { hint: 'write one JSON object per line: {"question": "...", "answer": "..."}' })
  }
  const labels = [...new Set(examples.map((e) => e.label).filter((l): l is string => l !== null))]
  return { ...meta, examples, labels }
}

function toExample(value: unknown, where: string): EvalExample {
  if (value !== null && typeof value === 'object' && 'messages' in value) return fromChat(value, where)
  const parsed = plainRow.safeParse(value)
  if (!parsed.success) throw badLine(where, describe(parsed.error))
  const r = parsed.data
  const answers = r.answer === undefined ? [] : Array.isArray(r.answer) ? r.answer : [r.answer]
  return {
    id: r.id !== undefined ? String(r.id) : contentId(r.question, answers),
    question: r.question,
    answers,
    label: r.label?.toLowerCase() ?? null,
    goldDocIds: r.goldDocIds ?? [],
    category: r.category ?? DEFAULT_CATEGORY,
    schema: r.schema ?? null,
  }
}

function fromChat(value: unknown, where: string): EvalExample {
  const parsed = chatRow.safeParse(value)
  if (!parsed.success) throw badLine(where, describe(parsed.error))
  const { messages, metadata = {} } = parsed.data
  const last = messages.at(-1)!
  const answers = last.role === 'assistant' ? [last.content] : []
  const user = messages.filter((m) => m.role === 'user').at(-1)
  const question = metadata.question ?? (user ? questionOf(user.content) : '')
  if (question === '') throw badLine(where, 'no user message and no metadata.question: the question is unknown')
  const gold = firstNonEmpty(metadata.goldDocIds, metadata.goldDocuments, metadata.gold?.documents, metadata.goldChunkIds, metadata.gold?.chunkIds)
  return {
    id: metadata.id !== undefined ? String(metadata.id) : contentId(question, answers),
    question,
    answers,
    label: metadata.label?.toLowerCase() ?? null,
    goldDocIds: gold,
    category: metadata.category ?? metadata.categories?.[0] ?? DEFAULT_CATEGORY,
    schema: metadata.schema ?? null,
  }
}

function firstNonEmpty(...lists: Array<string[] | undefined>): string[] {
  return lists.find((l) => l !== undefined && l.length > 0) ?? []
}

/** A user turn rendered by buildMessages ends with "Question: <q>"; a bare turn is the question. */
function questionOf(content: string): string {
  const at = content.lastIndexOf('\n\nQuestion: ')
  return (at >= 0 ? content.slice(at + '\n\nQuestion: '.length) : content).trim()
}

function explicitId(value: unknown): boolean {
  const v = value as { id?: unknown; metadata?: { id?: unknown } }
  return v.id !== undefined || v.metadata?.id !== undefined
}

/** Stable across runs and edits elsewhere in the file, so results pair by content. */
function contentId(question: string, answers: string[]): string {
  return createHash('sha256').update(JSON.stringify([question, answers])).digest('hex').slice(0, 16)
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0]!
  const at = issue.path.length ? issue.path.join('.') : 'the line'
  if (issue.code === 'unrecognized_keys') return `unknown field "${issue.keys[0]}" (known: id, question, answer, label, goldDocIds, category, schema)`
  return `${at}: ${issue.message}`
}

function badLine(where: string, problem: string): RagtuneError {
  return new RagtuneError('EVAL_SET_INVALID', `${where}: ${problem}`, {
    details: { where },
    hint: 'each line is {"question", "answer"?, "label"?, "goldDocIds"?, "category"?, "schema"?, "id"?} or {"messages": [...], "metadata": {...}}',
  })
}
