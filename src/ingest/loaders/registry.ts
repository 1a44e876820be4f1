import { posix } from 'node:path'
import type { LoadedDocument, LoadInput, Loader } from '../../spec/loader.js'
import { RagtuneError } from '../../errors.js'
import { assertHasText } from './checks.js'
import { DocxLoader } from './docx.js'
import { HtmlLoader } from './html.js'
import { JsonLoader, JsonlLoader } from './json.js'
import { MarkdownLoader } from './markdown.js'
import { PdfLoader } from './pdf.js'
import { TextLoader } from './text.js'

/** Every built-in format; a fresh list each call so callers may add or drop loaders freely. */
export function defaultLoaders(): Loader[] {
  return [new MarkdownLoader(), new TextLoader(), new HtmlLoader(), new PdfLoader(), new DocxLoader(), new JsonLoader(), new JsonlLoader()]
}

/** Lower-case extension without the dot (`''` when there is none); dotfiles like `.md` have none. */
export function extensionOf(path: string): string {
  const ext = posix.extname(path.replaceAll('\\', '/'))
  return ext === '' ? '' : ext.slice(1).toLowerCase()
}

/**
 * Picks the loader by extension (the first one that claims it, so a custom loader placed before the
 * defaults overrides them). Content sniffing is not used: it guesses wrong on text formats.
 */
export function loaderFor(path: string, loaders: readonly Loader[]): Loader | undefined {
  const ext = extensionOf(path)
  if (ext === '') return undefined
  return loaders.find((l) => l.extensions.includes(ext))
}

/**
 * Loads one file's bytes with the checks every format shares (an unknown extension, an empty file,
 * a document with no visible text), so loaders only deal with their own format.
 */
export async function loadDocument(input: LoadInput, loaders: readonly Loader[], opts: { signal?: AbortSignal } = {}): Promise<LoadedDocument> {
  const loader = loaderFor(input.path, loaders)
  if (!loader) {
    const known = [...new Set(loaders.flatMap((l) => l.extensions))].join(', ')
    throw new RagtuneError('LOAD_UNSUPPORTED', `${input.path}: expected one of the extensions ${known}, found "${extensionOf(input.path)}"`, {
      details: { path: input.path },
      hint: 'convert the file to a supported format or register a Loader for this extension',
    })
  }
  if (input.bytes.length === 0) assertHasText('', input.path, 'the file is 0 bytes')
  const doc = await loader.doLoad(input, opts)
  assertHasText(doc.text, input.path)
  return doc
}
