import type { LoadedDocument, LoadInput, Loader } from '../../spec/loader.js'
import { throwIfAborted } from '../../errors.js'
import { decodeText } from './checks.js'

/**
 * Markdown is already the shape every loader aims for, so the text passes through untouched. Only
 * a YAML front-matter block is cut: it is metadata, and indexing it would make every chunk of a
 * site's pages look alike (same keys) to lexical search.
 */
export class MarkdownLoader implements Loader {
  readonly extensions = ['md', 'markdown', 'mdx'] as const

  async doLoad(input: LoadInput, opts: { signal?: AbortSignal } = {}): Promise<LoadedDocument> {
    throwIfAborted(opts.signal)
    const { body, title } = splitFrontMatter(decodeText(input))
    return title === undefined ? { text: body } : { text: body, title }
  }
}

const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/

/**
 * Splits a leading `---` YAML block from the body and reads its `title:` (the only key retrieval
 * uses). A full YAML parser is not needed for one scalar; quoted and plain values are handled.
 */
export function splitFrontMatter(text: string): { body: string; title?: string } {
  const m = FRONT_MATTER.exec(text)
  if (!m) return { body: text }
  const body = text.slice(m[0].length)
  const line = /^title:[ \t]*(.*?)[ \t]*$/m.exec(m[1] ?? '')
  const raw = line?.[1] ?? ''
  const title = /^(["']).*\1$/.test(raw) ? raw.slice(1, -1) : raw
  return title === '' ? { body } : { body, title }
}
