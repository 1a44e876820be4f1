import { createHash } from 'node:crypto'
import { promises } from 'node:fs'
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Loader } from '../spec/loader.js'
import { discoverFiles, loadFile, type DiscoveredFile } from './discover.js'
import { garbage, makeDocx, makePdf } from './loaders/loader.contract.js'
import { defaultLoaders } from './loaders/registry.js'

let root: string
const loaders = defaultLoaders()

const put = async (rel: string, data: string | Uint8Array): Promise<void> => {
  await mkdir(join(root, rel, '..'), { recursive: true })
  await writeFile(join(root, rel), data)
}
const fileAt = (rel: string): DiscoveredFile => ({ path: rel, absPath: join(root, rel), size: 0, mtimeMs: 0 })

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ragtune-discover-'))
  const pdf = makePdf([['A known sentence about ragtune.']])
  await put('docs/b.md', '# B\n')
  await put('docs/a.md', '# A\n')
  await put('docs/sub/c.html', '<h1>C</h1>')
  await put('docs/guide.pdf', pdf)
  await put('docs/guide.docx', makeDocx([{ text: 'Guide', style: 'Heading1' }, { text: 'Body.' }]))
  await put('docs/image.png', garbage(64))
  await put('docs/.hidden/h.txt', 'hidden but included')
  await put('node_modules/pkg/readme.md', '# dep')
  await put('deep/node_modules/x.md', '# dep')
  await put('.git/notes.txt', 'git')
  await put('big.txt', 'x'.repeat(50_000))
  await put('bad/corrupt.pdf', Buffer.concat([Buffer.from('%PDF-1.7\n'), garbage(3000, 5)]))
  await put('bad/truncated.pdf', pdf.slice(0, pdf.length >> 1))
  await put('bad/corrupt.docx', garbage(2000, 9))
  await put('bad/binary.txt', Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'latin1'))
  await put('bad/empty.txt', '')
  await put('bad/blank.md', '  \n\n\t\n')
  await put('bad/latin1.md', Buffer.from('caf\xe9', 'latin1'))
  await put('bad/records.jsonl', '{"a":1}\n{"a":}\n')
  await symlink(join(root, 'docs'), join(root, 'docs', 'sub', 'loop'))
  await symlink(join(root, 'docs', 'a.md'), join(root, 'link-to-a.md'))
  await symlink(join(root, 'missing.md'), join(root, 'dangling.md'))
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('discoverFiles', () => {
  it('lists known formats sorted by path, skipping oversized files, unknown extensions and default excludes', async () => {
    const { files, skipped } = await discoverFiles(root, { maxFileBytes: 40_000 })
    expect(files.map((f) => f.path)).toEqual([
      'bad/binary.txt', 'bad/blank.md', 'bad/corrupt.docx', 'bad/corrupt.pdf', 'bad/empty.txt', 'bad/latin1.md',
      'bad/records.jsonl', 'bad/truncated.pdf', 'docs/.hidden/h.txt', 'docs/a.md', 'docs/b.md', 'docs/guide.docx',
      'docs/guide.pdf', 'docs/sub/c.html', 'link-to-a.md',
    ])
    expect(skipped).toEqual([
      { path: 'big.txt', code: 'LOAD_TOO_LARGE', reason: expect.stringContaining('50000 bytes') },
      { path: 'dangling.md', code: 'LOAD_UNREADABLE', reason: 'broken symbolic link' },
    ])
    const a = files.find((f) => f.path === 'docs/a.md')
    expect(a).toMatchObject({ absPath: join(root, 'docs/a.md'), size: 4 })
    expect(a?.mtimeMs).toBeGreaterThan(0)
  })

  it('applies include and exclude globs (exclusion prunes folders)', async () => {
    const { files } = await discoverFiles(root, { include: ['docs/**/*.md', '**/*.html'], exclude: ['**/sub/**'] })
    expect(files.map((f) => f.path)).toEqual(['docs/a.md', 'docs/b.md'])
    const withDeps = await discoverFiles(root, { include: ['**/*.md'], exclude: [] })
    expect(withDeps.files.map((f) => f.path)).toContain('node_modules/pkg/readme.md')
    expect(withDeps.files.map((f) => f.path)).toContain('deep/node_modules/x.md')
  })

  it('returns the same order every time', async () => {
    const one = await discoverFiles(root)
    const two = await discoverFiles(root)
    expect(two).toEqual(one)
  })

  it('reports an unreadable folder as skipped and carries on', async () => {
    // chmod 000 does not stop root (CI containers run as root), so readdir is made to fail instead.
    const real = promises.readdir
    const spy = vi.spyOn(promises, 'readdir').mockImplementation(((path: string, opts: never) =>
      path.endsWith('/docs/sub')
        ? Promise.reject(Object.assign(new Error(`EACCES: permission denied, scandir '${path}'`), { code: 'EACCES' }))
        : real(path, opts)) as typeof promises.readdir)
    try {
      const { files, skipped } = await discoverFiles(root)
      expect(skipped).toContainEqual({ path: 'docs/sub', code: 'LOAD_UNREADABLE', reason: expect.stringContaining('EACCES') })
      expect(files.map((f) => f.path)).toContain('docs/a.md')
    } finally {
      spy.mockRestore()
    }
  })

  it('throws when the root is missing, instead of reporting an empty tree', async () => {
    await expect(discoverFiles(join(root, 'nope'))).rejects.toMatchObject({ code: 'DISCOVER_ROOT_MISSING' })
    await expect(discoverFiles(join(root, 'docs/a.md'))).rejects.toMatchObject({ code: 'DISCOVER_ROOT_MISSING' })
  })
})

describe('loadFile', () => {
  it('loads good files with their bytes and a sha256 of them', async () => {
    const md = await loadFile(fileAt('docs/a.md'), loaders)
    expect(md).toEqual({ ok: true, doc: { text: '# A\n' }, bytes: new Uint8Array(Buffer.from('# A\n')), contentHash: createHash('sha256').update('# A\n').digest('hex') })
    const pdf = await loadFile(fileAt('docs/guide.pdf'), loaders)
    expect(pdf.ok && pdf.doc.text).toBe('A known sentence about ragtune.')
    const docx = await loadFile(fileAt('docs/guide.docx'), loaders)
    expect(docx.ok && docx.doc.text).toBe('# Guide\n\nBody.')
  })

  it.each([
    ['bad/corrupt.pdf', 'LOAD_CORRUPT'],
    ['bad/truncated.pdf', 'LOAD_CORRUPT'],
    ['bad/corrupt.docx', 'LOAD_CORRUPT'],
    ['bad/binary.txt', 'LOAD_BINARY'],
    ['bad/empty.txt', 'LOAD_EMPTY'],
    ['bad/blank.md', 'LOAD_EMPTY'],
    ['bad/latin1.md', 'LOAD_NOT_UTF8'],
    ['bad/records.jsonl', 'LOAD_CORRUPT'],
    ['gone.md', 'LOAD_UNREADABLE'],
  ])('reports %s as %s without throwing', async (path, code) => {
    const res = await loadFile(fileAt(path), loaders)
    expect(res).toMatchObject({ ok: false, code, reason: expect.any(String) })
  })

  it('reports a file that grew past maxFileBytes as LOAD_TOO_LARGE', async () => {
    expect(await loadFile(fileAt('big.txt'), loaders, { maxFileBytes: 100 })).toMatchObject({ ok: false, code: 'LOAD_TOO_LARGE' })
  })

  it('gives up on a loader that hangs (LOAD_TIMEOUT) and maps unexpected errors to LOAD_FAILED', async () => {
    const hang: Loader = { extensions: ['md'], doLoad: () => new Promise(() => {}) }
    const t0 = Date.now()
    expect(await loadFile(fileAt('docs/a.md'), [hang], { timeoutMs: 50 })).toMatchObject({ ok: false, code: 'LOAD_TIMEOUT' })
    expect(Date.now() - t0).toBeLessThan(1000)
    const boom: Loader = { extensions: ['md'], doLoad: async () => { throw new TypeError('x is undefined') } }
    expect(await loadFile(fileAt('docs/a.md'), [boom])).toMatchObject({ ok: false, code: 'LOAD_FAILED', reason: expect.stringContaining('x is undefined') })
  })

  it('throws on abort, since that stops the run rather than one file', async () => {
    const ac = new AbortController()
    const hang: Loader = { extensions: ['md'], doLoad: () => new Promise(() => {}) }
    const pending = loadFile(fileAt('docs/a.md'), [hang], { signal: ac.signal })
    setTimeout(() => ac.abort(), 10)
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' })
  })
})
