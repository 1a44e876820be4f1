import { describe, expect, it } from 'vitest'
import { garbage, loaderContract, makePdf } from './loader.contract.js'
import { pageText, PdfLoader } from './pdf.js'

const sentence = 'The quick brown fox (really) jumps over the lazy dog.'
const twoPages = makePdf([[sentence, 'Second line of page one.'], ['Page two says hello.']], { title: 'Fox Facts' })

loaderContract(() => new PdfLoader(), { path: 'a.pdf', bytes: twoPages }, sentence)

const load = (bytes: Uint8Array) => new PdfLoader().doLoad({ path: 'docs/x.pdf', bytes })

describe('PdfLoader', () => {
  it('extracts every page, one line per text line, a blank line between pages, and the title', async () => {
    const doc = await load(twoPages)
    expect(doc).toEqual({ text: `${sentence}\nSecond line of page one.\n\nPage two says hello.`, title: 'Fox Facts' })
  })

  it('reports no title when the PDF has none', async () => {
    expect((await load(makePdf([['Hi there.']]))).title).toBeUndefined()
  })

  it('rejects random bytes behind a %PDF- header as LOAD_CORRUPT', async () => {
    const bytes = garbage(5000, 7)
    bytes.set(Buffer.from('%PDF-1.7\n'))
    await expect(load(bytes)).rejects.toMatchObject({ code: 'LOAD_CORRUPT', message: expect.stringMatching(/docs\/x\.pdf: expected a valid PDF/) })
  })

  it('rejects a truncated PDF as LOAD_CORRUPT', async () => {
    for (const keep of [0.3, 0.6, 0.9]) {
      await expect(load(twoPages.slice(0, Math.floor(twoPages.length * keep)))).rejects.toMatchObject({ code: 'LOAD_CORRUPT' })
    }
  })

  it('rejects a broken later page without leaving an unhandled rejection behind', async () => {
    // pdfjs 4 prefetches every top-level page object and never awaits the failed fetch; in-process
    // that rejection would crash Node. Same length, so the xref offsets stay right.
    const text = Buffer.from(twoPages).toString('latin1')
    const second = text.indexOf('/MediaBox', text.indexOf('/MediaBox') + 1)
    const broken = Buffer.from(`${text.slice(0, second)}/Media[ox${text.slice(second + 9)}`, 'latin1')
    await expect(load(broken)).rejects.toMatchObject({ code: 'LOAD_CORRUPT', details: { page: 2 } })
    await new Promise((r) => setTimeout(r, 50)) // an unhandled rejection would surface here and fail the run
  })

  it('reports a PDF without a text layer as LOAD_EMPTY with an OCR hint', async () => {
    await expect(load(makePdf([[]]))).rejects.toMatchObject({ code: 'LOAD_EMPTY', hint: expect.stringMatching(/OCR/) })
  })

  it('stops with ABORTED when the signal fires, and keeps working after it', async () => {
    const ac = new AbortController()
    const pending = new PdfLoader().doLoad({ path: 'a.pdf', bytes: twoPages }, { signal: ac.signal })
    // Aborted before the worker can answer (a 1 ms timer lost that race to a warm worker in CI runs).
    ac.abort()
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' })
    expect((await load(twoPages)).title).toBe('Fox Facts')
  })
})

describe('pageText', () => {
  it('breaks lines on EOL flags and baseline moves, ignoring small jitter', () => {
    expect(pageText([['Hello', 700, 12, false], [' ', 700, 0, false], ['world', 700.5, 12, true], ['Next', 686, 12, false], ['line', 672, 12, false]])).toBe('Hello world\nNext\nline')
    expect(pageText([['x', 10, 12, true], ['', 10, 0, true], ['', 10, 0, true], ['', 10, 0, true], ['y', 9, 12, false]])).toBe('x\n\ny')
  })
})
