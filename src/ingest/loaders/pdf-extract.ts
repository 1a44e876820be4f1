import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { RagtuneError, throwIfAborted } from '../../errors.js'

/** One text item of a page as pdfjs reports it: text, baseline y, glyph height, end-of-line flag. */
export type PdfTextRun = [str: string, y: number, height: number, eol: boolean]

export interface PdfExtract {
  pages: PdfTextRun[][]
  title?: string
}

/** What the worker sends back: the extract, or the pdfjs error (name, message, failing page). */
type Reply = PdfExtract & { error?: { name: string; message: string; page?: number } }

/**
 * pdfjs runs inside a worker thread, for three reasons found by fuzzing and reading pdfjs 4:
 * - on some broken files it leaves rejected promises nobody awaits (page-tree prefetch in
 *   Catalog.getPageDict); in the main thread Node's default policy turns that into a crash;
 * - its "fake worker" otherwise parses on the main thread, where a pathological file could block the
 *   event loop so that no timeout can fire; `terminate()` stops a worker even mid-loop;
 * - resourceLimits cap the heap, so a PDF that explodes in memory kills the worker, not the indexer.
 * Its console chatter (font and polyfill warnings) is muted there too.
 * The worker is plain JavaScript passed with `eval`, so it runs the same from src/ (vitest) and dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
console.log = console.warn = console.info = console.error = () => {}
process.on('unhandledRejection', () => {})
const pdfjs = import(workerData.pdfjsUrl)
parentPort.on('message', async ({ bytes }) => {
  let task
  let page = 0
  try {
    const { getDocument } = await pdfjs
    task = getDocument({ data: bytes, verbosity: 0, isEvalSupported: false, disableFontFace: true,
      useSystemFonts: false, useWorkerFetch: false, stopAtErrors: false })
    const doc = await task.promise
    const pages = []
    for (page = 1; page <= doc.numPages; page++) {
      const p = await doc.getPage(page)
      const content = await p.getTextContent()
      pages.push(content.items.filter((i) => typeof i.str === 'string')
        .map((i) => [i.str, Number(i.transform[5]) || 0, Number(i.height) || 0, i.hasEOL === true]))
      p.cleanup()
    }
    page = 0
    const meta = await doc.getMetadata().catch(() => null)
    const title = meta && meta.info && typeof meta.info.Title === 'string' ? meta.info.Title : undefined
    parentPort.postMessage({ pages, title })
  } catch (e) {
    const err = { name: String((e && e.name) || 'Error'), message: String((e && e.message) || e), page: page || undefined }
    parentPort.postMessage({ pages: [], error: err })
  } finally {
    if (task) await task.destroy().catch(() => {})
  }
})
`

/** Heap cap of one pdf worker; text extraction of a 20 MiB PDF stays far below it. */
const WORKER_HEAP_MB = 1024
/** Workers kept warm between files (pdfjs takes ~100 ms to import). */
const MAX_IDLE = 1
const idle: Worker[] = []
let pdfjsUrl: string | undefined

function spawn(): Worker {
  pdfjsUrl ??= pathToFileURL(createRequire(import.meta.url).resolve('pdfjs-dist/legacy/build/pdf.mjs')).href
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pdfjsUrl }, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } })
  worker.once('exit', () => {
    const i = idle.indexOf(worker)
    if (i >= 0) idle.splice(i, 1)
  })
  return worker
}

/**
 * Extracts the raw text runs of every page in an isolated worker. pdfjs errors come back as
 * LOAD_CORRUPT / LOAD_ENCRYPTED; a worker that dies (heap cap, crash) is LOAD_CORRUPT too; an abort
 * terminates the worker and throws ABORTED.
 */
export async function extractPdf(bytes: Uint8Array, path: string, opts: { signal?: AbortSignal } = {}): Promise<PdfExtract> {
  throwIfAborted(opts.signal)
  const worker = idle.pop() ?? spawn()
  worker.ref() // an idle worker is unref'd so it never holds the process open; a busy one must
  const reply = await new Promise<Reply>((resolve, reject) => {
    const settle = (): void => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit)
      opts.signal?.removeEventListener('abort', onAbort)
    }
    const onMessage = (msg: Reply): void => {
      settle()
      worker.unref()
      if (idle.length < MAX_IDLE) idle.push(worker)
      else void worker.terminate()
      resolve(msg)
    }
    const onError = (err: Error): void => {
      settle()
      void worker.terminate()
      resolve({ pages: [], error: { name: 'WorkerCrash', message: `the pdf reader crashed: ${err.message}` } })
    }
    const onExit = (code: number): void => {
      settle()
      resolve({ pages: [], error: { name: 'WorkerCrash', message: `the pdf reader exited with code ${code}` } })
    }
    const onAbort = (): void => {
      settle()
      void worker.terminate()
      reject(new RagtuneError('ABORTED', 'the operation was aborted', { cause: opts.signal?.reason }))
    }
    worker.on('message', onMessage).on('error', onError).on('exit', onExit)
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    // A copy is transferred: the caller keeps its bytes (it hashes and may store them).
    const copy = bytes.slice()
    worker.postMessage({ bytes: copy }, [copy.buffer])
  })
  if (reply.error) throw toLoadError(reply.error, path)
  return reply.title === undefined ? { pages: reply.pages } : { pages: reply.pages, title: reply.title }
}

function toLoadError(err: NonNullable<Reply['error']>, path: string): RagtuneError {
  if (err.name === 'PasswordException') {
    return new RagtuneError('LOAD_ENCRYPTED', `${path}: expected a readable PDF, found a password-protected one`, {
      details: { path },
      hint: 'remove the password (e.g. `qpdf --decrypt in.pdf out.pdf`) or exclude the file',
    })
  }
  const where = err.page === undefined ? '' : ` on page ${err.page}`
  return new RagtuneError('LOAD_CORRUPT', `${path}: expected a valid PDF, could not read it${where} (${err.name}: ${err.message})`, {
    details: { path, ...(err.page === undefined ? {} : { page: err.page }) },
    hint: 'the file is damaged or truncated; re-export or re-download it, or exclude it',
  })
}
