import { describe, expect, it } from 'vitest'
import { strToU8, zipSync } from 'fflate'
import type { Loader, LoadInput } from '../../spec/loader.js'
import { RagtuneError } from '../../errors.js'

/**
 * The behaviour every Loader must share, run by each loader's test file; plus builders of tiny but
 * valid PDF and .docx files, so no binary fixtures live in the repository.
 */
export function loaderContract(make: () => Loader, sample: LoadInput, expected: string): void {
  describe(`Loader contract: ${make().constructor.name}`, () => {
    it('declares lower-case extensions without a dot', () => {
      const { extensions } = make()
      expect(extensions.length).toBeGreaterThan(0)
      for (const ext of extensions) expect(ext).toMatch(/^[a-z0-9]+$/)
    })

    it('loads a valid sample to text with \\n line ends', async () => {
      const doc = await make().doLoad(sample)
      expect(doc.text).toContain(expected)
      expect(doc.text).not.toContain('\r')
    })

    it('leaves the input bytes intact (callers hash them afterwards)', async () => {
      const copy = sample.bytes.slice()
      await make().doLoad(sample)
      expect(sample.bytes.byteLength).toBe(copy.byteLength)
      expect(Buffer.compare(Buffer.from(sample.bytes), Buffer.from(copy))).toBe(0)
    })

    it('rejects garbage bytes with a LOAD_* RagtuneError', async () => {
      const err = await make().doLoad({ path: sample.path, bytes: garbage(4096) }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RagtuneError)
      expect((err as RagtuneError).code).toMatch(/^LOAD_/)
      expect((err as RagtuneError).message).toContain(sample.path)
    })

    it('throws ABORTED for an aborted signal', async () => {
      const ac = new AbortController()
      ac.abort()
      await expect(make().doLoad(sample, { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' })
    })
  })
}

/** Deterministic pseudo-random bytes (NULs included), for corrupt-file tests. */
export function garbage(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

/** A minimal valid PDF (Helvetica, one text line per entry) with exact xref offsets. */
export function makePdf(pages: string[][], opts: { title?: string } = {}): Uint8Array {
  const esc = (s: string): string => s.replace(/[\\()]/g, (c) => `\\${c}`)
  const objs = ['<< /Type /Catalog /Pages 2 0 R >>', '', '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>']
  const kids: string[] = []
  for (const lines of pages) {
    const pageId = objs.length + 1
    kids.push(`${pageId} 0 R`)
    const stream = `BT /F1 12 Tf 72 720 Td 16 TL ${lines.map((l) => `(${esc(l)}) Tj T*`).join(' ')} ET`
    objs.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${pageId + 1} 0 R >>`)
    objs.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`)
  }
  objs[1] = `<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages.length} >>`
  if (opts.title !== undefined) objs.push(`<< /Title (${esc(opts.title)}) >>`)
  let pdf = '%PDF-1.4\n'
  const offsets = objs.map((body, i) => {
    const at = pdf.length
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`
    return at
  })
  const xref = pdf.length
  pdf += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`
  const info = opts.title !== undefined ? ` /Info ${objs.length} 0 R` : ''
  pdf += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R${info} >>\nstartxref\n${xref}\n%%EOF\n`
  return strToU8(pdf) // ASCII only, so string offsets are byte offsets
}

const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main'
const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

/** A minimal valid .docx: paragraphs with an optional style id (Heading1, Heading2 are defined). */
export function makeDocx(paragraphs: Array<{ text: string; style?: string }>): Uint8Array {
  const xmlEsc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const body = paragraphs
    .map(({ text, style }) => `<w:p>${style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : ''}<w:r><w:t xml:space="preserve">${xmlEsc(text)}</w:t></w:r></w:p>`)
    .join('')
  const style = (id: string, name: string): string => `<w:style w:type="paragraph" w:styleId="${id}"><w:name w:val="${name}"/></w:style>`
  return zipSync({
    '[Content_Types].xml': strToU8(
      `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>`,
    ),
    '_rels/.rels': strToU8(
      `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
    ),
    'word/_rels/document.xml.rels': strToU8(
      `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`,
    ),
    'word/styles.xml': strToU8(`${XML}<w:styles xmlns:w="${W}">${style('Heading1', 'heading 1')}${style('Heading2', 'heading 2')}</w:styles>`),
    'word/document.xml': strToU8(`${XML}<w:document xmlns:w="${W}"><w:body>${body}</w:body></w:document>`),
  })
}
