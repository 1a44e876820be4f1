import type { LoadedDocument, LoadInput, Loader } from '../../spec/loader.js'
import { RagtuneError, throwIfAborted } from '../../errors.js'
import { decodeText } from './checks.js'

/**
 * JSON becomes `key.path: value` lines. Raw JSON punctuation adds nothing a reader (or an embedding
 * model) needs, while the dotted key keeps the context of a value that sits deep in a record. A
 * top-level array is treated like jsonl: one record per item, separated by a blank line.
 */
export class JsonLoader implements Loader {
  readonly extensions = ['json'] as const

  async doLoad(input: LoadInput, opts: { signal?: AbortSignal } = {}): Promise<LoadedDocument> {
    throwIfAborted(opts.signal)
    const source = decodeText(input)
    let value: unknown
    try {
      value = JSON.parse(source)
    } catch (err) {
      throw corrupt(input.path, `valid JSON, found a syntax error (${(err as Error).message})`, err)
    }
    const records = Array.isArray(value) ? value : [value]
    return { text: records.map(flattenJson).filter((r) => r !== '').join('\n\n') }
  }
}

/** JSON Lines: one record per non-blank line; a bad line names its number so it can be fixed. */
export class JsonlLoader implements Loader {
  readonly extensions = ['jsonl'] as const

  async doLoad(input: LoadInput, opts: { signal?: AbortSignal } = {}): Promise<LoadedDocument> {
    throwIfAborted(opts.signal)
    const records: string[] = []
    const lines = decodeText(input).split(/\r?\n/)
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (err) {
        throw corrupt(input.path, `one JSON value per line, found invalid JSON on line ${i + 1} (${(err as Error).message})`, err, i + 1)
      }
      const text = flattenJson(value)
      if (text !== '') records.push(text)
    }
    return { text: records.join('\n\n') }
  }
}

/**
 * Flattens one JSON value to `key: value` lines: nested object keys joined by dots, array items as
 * `key[i]`. Empty objects and arrays carry no text and are left out.
 */
export function flattenJson(value: unknown): string {
  const lines: string[] = []
  visit(value, '', lines)
  return lines.join('\n')
}

function visit(value: unknown, key: string, lines: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => visit(item, `${key}[${i}]`, lines))
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) visit(v, key === '' ? k : `${key}.${k}`, lines)
  } else {
    const text = typeof value === 'string' ? value : String(value)
    lines.push(key === '' ? text : `${key}: ${text}`)
  }
}

function corrupt(path: string, expected: string, cause: unknown, line?: number): RagtuneError {
  return new RagtuneError('LOAD_CORRUPT', `${path}: expected ${expected}`, {
    details: line === undefined ? { path } : { path, line },
    hint: 'fix the JSON syntax at that place (a validator such as `jq . file` shows it), or exclude the file',
    cause,
  })
}
