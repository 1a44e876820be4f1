import { readFile, stat } from 'node:fs/promises'
import { RagtuneError } from '../../errors.js'
import { datasetInvalid } from '../../eval/datasets/dataset-io.js'

/**
 * Reads a whole JSON label file. A syntax error names its line and column: JSON.parse does not
 * always report a position (V8's "Unexpected token … is not valid JSON" has none), so the first bad
 * offset is found by a small validating scan.
 */
export async function readJsonLabels(file: string, what: string, hint: string, signal?: AbortSignal): Promise<unknown> {
  if (!(await stat(file).catch(() => null))?.isFile()) {
    throw new RagtuneError('DATASET_NOT_FOUND', `${what} not found: expected a file at ${file}`, { details: { file }, hint })
  }
  const raw = await readFile(file, { encoding: 'utf8', signal })
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    const at = firstSyntaxError(text)
    const before = text.slice(0, at)
    const line = before.split('\n').length
    const column = at - before.lastIndexOf('\n')
    return datasetInvalid({ file, record: `line ${line}, column ${column}` }, undefined, `not valid JSON (${(err as Error).message.split('\n')[0]})`, hint)
  }
}

/** Offset of the first JSON syntax error in `text` (text.length when it ends too early). */
export function firstSyntaxError(text: string): number {
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
    return Math.min(at as number, text.length)
  }
}
