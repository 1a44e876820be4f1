import { describe, expect, it } from 'vitest'
import { strToU8, zipSync } from 'fflate'
import { DocxLoader } from './docx.js'
import { loaderContract, makeDocx } from './loader.contract.js'

const docx = makeDocx([
  { text: 'Install guide', style: 'Heading1' },
  { text: 'Run the installer & wait.' },
  { text: 'Options', style: 'Heading2' },
  { text: 'Use --fast for speed.' },
])

loaderContract(() => new DocxLoader(), { path: 'a.docx', bytes: docx }, '# Install guide')

const load = (bytes: Uint8Array) => new DocxLoader().doLoad({ path: 'w/x.docx', bytes })

describe('DocxLoader', () => {
  it('keeps Heading 1/2 paragraphs as # / ## lines', async () => {
    const doc = await load(docx)
    expect(doc.text).toBe('# Install guide\n\nRun the installer & wait.\n\n## Options\n\nUse --fast for speed.')
  })

  it('rejects a damaged zip as LOAD_CORRUPT', async () => {
    await expect(load(docx.slice(0, docx.length >> 1))).rejects.toMatchObject({ code: 'LOAD_CORRUPT', message: expect.stringContaining('w/x.docx') })
    await expect(load(Buffer.from('PK\x03\x04 not really a zip'))).rejects.toMatchObject({ code: 'LOAD_CORRUPT' })
  })

  it('rejects a zip that is not a Word document as LOAD_CORRUPT', async () => {
    await expect(load(zipSync({ 'readme.txt': strToU8('hello') }))).rejects.toMatchObject({ code: 'LOAD_CORRUPT' })
  })
})
