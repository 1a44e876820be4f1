import { describe, expect, it } from 'vitest'
import { loaderContract } from './loader.contract.js'
import { MarkdownLoader, splitFrontMatter } from './markdown.js'
import { TextLoader } from './text.js'

const md = '---\ntitle: "Install guide"\ntags: [a, b]\n---\n# Install\n\nRun it.\r\n'
loaderContract(() => new MarkdownLoader(), { path: 'docs/a.md', bytes: Buffer.from(md) }, '# Install\n\nRun it.')
loaderContract(() => new TextLoader(), { path: 'notes.txt', bytes: Buffer.from('plain\r\ntext') }, 'plain\ntext')

describe('MarkdownLoader', () => {
  it('strips front matter and takes its title', async () => {
    const doc = await new MarkdownLoader().doLoad({ path: 'a.md', bytes: Buffer.from(md) })
    expect(doc).toEqual({ text: '# Install\n\nRun it.\n', title: 'Install guide' })
  })

  it('keeps text without front matter as is, including later --- rules', () => {
    expect(splitFrontMatter('# A\n\n---\ntitle: no\n---\n')).toEqual({ body: '# A\n\n---\ntitle: no\n---\n' })
  })

  it('accepts front matter without a title and with a ... terminator', () => {
    expect(splitFrontMatter("---\ndraft: true\n...\nBody")).toEqual({ body: 'Body' })
    expect(splitFrontMatter("---\ntitle: 'Plain'\n---")).toEqual({ body: '', title: 'Plain' })
  })
})
