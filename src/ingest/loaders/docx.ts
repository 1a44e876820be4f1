import type { LoadedDocument, LoadInput, Loader } from '../../spec/loader.js'
import { RagtuneError, throwIfAborted } from '../../errors.js'
import { htmlToDocument } from './html.js'
import { inflatedZipSize } from './zip-size.js'

/**
 * Most bytes the XML parts of one .docx may inflate to. mammoth inflates and parses them in memory
 * (about 6x their size), so a zip bomb (a few KB inflating to GBs) would take the indexer down; a
 * real document's XML stays far below this.
 */
export const DOCX_MAX_XML_BYTES = 64 * 1024 * 1024

/**
 * Word documents go through mammoth to html and then through the html loader's conversion, because
 * mammoth maps Heading 1..6 paragraph styles to h1..h6: that keeps the headings the chunker splits
 * on, which mammoth's raw-text mode throws away. Images are dropped (no text to index).
 */
export class DocxLoader implements Loader {
  readonly extensions = ['docx'] as const

  async doLoad(input: LoadInput, opts: { signal?: AbortSignal } = {}): Promise<LoadedDocument> {
    throwIfAborted(opts.signal)
    checkInflatedSize(input)
    const { default: mammoth } = await import('mammoth')
    let html: string
    try {
      const result = await mammoth.convertToHtml(
        { buffer: Buffer.from(input.bytes) },
        // Never read files a document links to, and skip base64-encoding images we would discard.
        { externalFileAccess: false, convertImage: mammoth.images.imgElement(async () => ({ src: '' })) },
      )
      html = result.value
    } catch (err) {
      throw new RagtuneError('LOAD_CORRUPT', `${input.path}: expected a .docx (zip of WordprocessingML), could not read it (${err instanceof Error ? err.message : String(err)})`, {
        details: { path: input.path },
        hint: 'the file is damaged, truncated or an old binary .doc renamed to .docx; re-save it from Word as .docx, or exclude it',
        cause: err,
      })
    }
    throwIfAborted(opts.signal)
    // A .docx has no html <title>; its core-properties title is rarely set, so none is reported.
    return { text: htmlToDocument(html).text }
  }
}

/** Refuses a .docx whose XML parts inflate past DOCX_MAX_XML_BYTES, or that cannot be measured. */
function checkInflatedSize(input: LoadInput): void {
  const size = inflatedZipSize(input.bytes, DOCX_MAX_XML_BYTES, (name) => /\.(xml|rels)$/i.test(name))
  if (typeof size === 'string') {
    throw new RagtuneError('LOAD_CORRUPT', `${input.path}: expected a .docx (zip of WordprocessingML), could not read it (${size})`, {
      details: { path: input.path },
      hint: 'the file is damaged, truncated or an old binary .doc renamed to .docx; re-save it from Word as .docx, or exclude it',
    })
  }
  if (size.over) {
    throw new RagtuneError('LOAD_TOO_LARGE', `${input.path}: expected a .docx whose XML inflates to at most ${DOCX_MAX_XML_BYTES} bytes, found more (a zip bomb or a giant document)`, {
      details: { path: input.path, limitBytes: DOCX_MAX_XML_BYTES },
      hint: 'split the document, or exclude the file',
    })
  }
}
