import { describe, expect, it } from 'vitest'
import type { Loader } from '../../spec/loader.js'
import { defaultLoaders, extensionOf, loadDocument, loaderFor } from './registry.js'

describe('loader registry', () => {
  const loaders = defaultLoaders()

  it('maps every built-in extension to exactly one loader', () => {
    const exts = loaders.flatMap((l) => l.extensions)
    expect(new Set(exts).size).toBe(exts.length)
    expect(exts.sort()).toEqual(['docx', 'htm', 'html', 'json', 'jsonl', 'markdown', 'md', 'mdx', 'pdf', 'text', 'txt'])
  })

  it('picks by case-insensitive extension and ignores unknown ones and dotfiles', () => {
    expect(loaderFor('a/B.MD', loaders)?.extensions).toContain('md')
    expect(loaderFor('x.png', loaders)).toBeUndefined()
    expect(loaderFor('.md', loaders)).toBeUndefined()
    expect(extensionOf('dir.v2\\file')).toBe('')
  })

  it('lets an earlier custom loader override a default', async () => {
    const custom: Loader = { extensions: ['md'], doLoad: async () => ({ text: 'custom' }) }
    expect(loaderFor('a.md', [custom, ...loaders])).toBe(custom)
  })
})

describe('loadDocument', () => {
  const loaders = defaultLoaders()
  const load = (path: string, text: string) => loadDocument({ path, bytes: Buffer.from(text) }, loaders)

  it('reports empty and whitespace-only files as LOAD_EMPTY', async () => {
    await expect(load('a.txt', '')).rejects.toMatchObject({ code: 'LOAD_EMPTY', message: expect.stringContaining('0 bytes') })
    await expect(load('a.md', ' \n\t\n')).rejects.toMatchObject({ code: 'LOAD_EMPTY' })
    await expect(load('a.md', '---\ntitle: x\n---\n\n')).rejects.toMatchObject({ code: 'LOAD_EMPTY' })
    await expect(load('a.html', '<script>x()</script>')).rejects.toMatchObject({ code: 'LOAD_EMPTY' })
  })

  it('reports an unknown extension as LOAD_UNSUPPORTED', async () => {
    await expect(load('a.png', 'x')).rejects.toMatchObject({ code: 'LOAD_UNSUPPORTED' })
  })
})
