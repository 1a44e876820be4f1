import type { LoadedDocument, LoadInput, Loader } from '../../spec/loader.js'
import { RagtuneError, throwIfAborted } from '../../errors.js'
import { extractPdf, type PdfTextRun } from './pdf-extract.js'

/**
 * PDF text via pdfjs-dist (pure JS, no native build), run in a worker (see pdf-extract.ts). Each
 * page's text runs are joined into lines (a new line wherever pdfjs marks an end of line or the
 * baseline moves) and pages are separated by a blank line, so paragraphs survive for the chunker. A
 * file pdfjs cannot open is LOAD_CORRUPT; one that opens but has no text layer (a scan) is LOAD_EMPTY
 * with an OCR hint.
 */
export class PdfLoader implements Loader {
  readonly extensions = ['pdf'] as const

  async doLoad(input: LoadInput, opts: { signal?: AbortSignal } = {}): Promise<LoadedDocument> {
    throwIfAborted(opts.signal)
    const { pages, title } = await extractPdf(input.bytes, input.path, opts)
    const text = pages
      .map(pageText)
      .filter((p) => p !== '')
      .join('\n\n')
    if (text === '') {
      throw new RagtuneError('LOAD_EMPTY', `${input.path}: expected a PDF with a text layer, found ${pages.length} page(s) without text`, {
        details: { path: input.path, pages: pages.length },
        hint: 'the PDF is probably scanned images; run OCR on it (e.g. `ocrmypdf in.pdf out.pdf`) and index the result',
      })
    }
    const cleanTitle = title?.trim() ?? ''
    return cleanTitle === '' ? { text } : { text, title: cleanTitle }
  }
}

/** Joins one page's runs: pdfjs inserts spaces itself; a line ends on its EOL flag or a baseline move. */
export function pageText(runs: readonly PdfTextRun[]): string {
  let out = ''
  let lastY: number | undefined
  for (const [str, y, height, eol] of runs) {
    const moved = lastY !== undefined && Math.abs(y - lastY) > Math.max(1, height / 2)
    if (moved && !out.endsWith('\n') && str.trim() !== '') out += '\n'
    out += str
    if (eol) out += '\n'
    if (str !== '') lastY = y
  }
  return out
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}
