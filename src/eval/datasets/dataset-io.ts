import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { z } from 'zod'
import { RagtuneError, throwIfAborted } from '../../errors.js'

/**
 * Shared reading and validation for the dataset parsers, so every format reports a bad record the
 * same way: DATASET_INVALID naming the file, the record (JSON path, key or line) and the field.
 */

/** Where a record sits in its file, as a person would look for it: `line 12`, `PMID 123`, `data[3]`. */
export interface RecordLocation {
  file: string
  record: string
}

/** Throws the DATASET_INVALID error every parser uses, with the location in message and details. */
export function datasetInvalid(at: RecordLocation, field: string | undefined, problem: string, hint: string): never {
  const where = field ? `${at.record}, field "${field}"` : at.record
  throw new RagtuneError('DATASET_INVALID', `${at.file}: ${where}: ${problem}`, {
    details: { file: at.file, record: at.record, field, problem },
    hint,
  })
}

/**
 * Validates one record against its zod schema and returns the parsed value; on failure reports the
 * first issue only, since one precise location is more useful than a wall of follow-on errors.
 */
export function parseRecord<S extends z.ZodType>(schema: S, value: unknown, at: RecordLocation, hint: string): z.output<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const field = issue && issue.path.length > 0 ? formatPath(issue.path) : undefined
  return datasetInvalid(at, field, issue?.message ?? 'invalid record', hint)
}

/** `['qas', 0, 'question']` -> `qas[0].question`, the way the record would be written in JS. */
function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('')
}

/** Fails early with DATASET_NOT_FOUND, which streams would otherwise report late and vaguely. */
async function requireFile(file: string, what: string, hint: string): Promise<void> {
  const info = await stat(file).catch(() => undefined)
  if (!info?.isFile()) {
    throw new RagtuneError('DATASET_NOT_FOUND', `${what} not found: expected a file at ${file}`, { details: { file }, hint })
  }
}

/**
 * Reads and parses a whole JSON file in one pass; a syntax error names its line and column, because
 * "position 1834211" is useless in a 40 MB file. The JSON engine does not always report a position
 * (V8's "Unexpected token … is not valid JSON" has none), so then a small validating scan finds it.
 */
export async function readJsonFile(file: string, what: string, hint: string, signal?: AbortSignal): Promise<unknown> {
  await requireFile(file, what, hint)
  const text = stripBom(await readFile(file, { encoding: 'utf8', signal }).catch((err: unknown) => rethrowAbort(err, signal)))
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    // V8 quotes the text around the error, newlines included: keep the message to one line.
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!
    const reported = /at position (\d+)/.exec(message)?.[1]
    const position = reported === undefined ? firstSyntaxError(text) : Number(reported)
    const record = position === undefined ? 'JSON syntax' : lineColumn(text, position)
    return datasetInvalid({ file, record }, undefined, `not valid JSON (${message})`, hint)
  }
}

/**
 * Offset of the first JSON syntax error in `text` (text.length when it ends too early), or undefined
 * when the text nests too deeply to scan. Exported for its tests.
 */
export function firstSyntaxError(text: string): number | undefined {
  let i = 0
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++
  }
  const fail = (): never => {
    throw i
  }
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length
    else fail()
  }
  const string = (): void => {
    i++
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++
      else if (text.charCodeAt(i) < 0x20) fail()
      i++
    }
    if (i >= text.length) fail()
    i++
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      ws()
      if (text[i] === '}') return void i++
      for (;;) {
        ws()
        if (text[i] !== '"') fail()
        string()
        ws()
        if (text[i] !== ':') fail()
        i++
        value()
        ws()
        if (text[i] === ',') i++
        else if (text[i] === '}') return void i++
        else fail()
      }
    } else if (c === '[') {
      i++
      ws()
      if (text[i] === ']') return void i++
      for (;;) {
        value()
        ws()
        if (text[i] === ',') i++
        else if (text[i] === ']') return void i++
        else fail()
      }
    } else if (c === '"') string()
    else if (c === 't') literal('true')
    else if (c === 'f') literal('false')
    else if (c === 'n') literal('null')
    else {
      const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 64))
      if (!m) fail()
      i += m![0].length
    }
  }
  try {
    value()
    ws()
    return i < text.length ? i : text.length
  } catch (at) {
    // A number is where the scan failed; anything else is the stack running out on deep nesting.
    return typeof at === 'number' ? Math.min(at, text.length) : undefined
  }
}

/** Streams a text file line by line (1-based numbers, blank lines skipped): JSONL corpora can exceed
 * the largest string Node can hold, and this reads each file exactly once. */
export async function* readLines(file: string, what: string, hint: string, signal?: AbortSignal): AsyncGenerator<{ line: number; text: string }> {
  await requireFile(file, what, hint)
  throwIfAborted(signal)
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8', signal }), crlfDelay: Infinity })
  let line = 0
  try {
    for await (const raw of lines) {
      line++
      throwIfAborted(signal)
      const text = line === 1 ? stripBom(raw) : raw
      if (text.trim() !== '') yield { line, text }
    }
  } catch (err) {
    rethrowAbort(err, signal)
  } finally {
    lines.close()
  }
  throwIfAborted(signal)
}

/** Parses one JSONL line, reporting bad JSON at its line number. */
export function parseJsonLine(text: string, at: RecordLocation, hint: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    return datasetInvalid(at, undefined, `not valid JSON (${err instanceof Error ? err.message : String(err)})`, hint)
  }
}

/** Two records with one id would silently merge their judgments; refuse instead. */
export function assertUniqueId(seen: Set<string>, id: string, at: RecordLocation, field: string, hint: string): void {
  if (seen.has(id)) datasetInvalid(at, field, `duplicate id "${id}"`, hint)
  seen.add(id)
}

/** Node reports an aborted read as its own AbortError; ragtune callers match on code ABORTED. */
function rethrowAbort(err: unknown, signal: AbortSignal | undefined): never {
  throwIfAborted(signal)
  throw err
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

function lineColumn(text: string, position: number): string {
  const before = text.slice(0, position)
  const line = before.split('\n').length
  const column = position - before.lastIndexOf('\n')
  return `line ${line}, column ${column}`
}
