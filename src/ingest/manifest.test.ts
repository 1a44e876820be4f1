import { mkdtemp, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { diffManifest, sha256File } from './manifest.js'

describe('diffManifest', () => {
  const manifest = [
    { path: 'a.md', contentHash: 'h1' },
    { path: 'b.md', contentHash: 'h2' },
    { path: 'c.md', contentHash: 'h3' },
    { path: 'd.md', contentHash: 'h4' },
  ]

  it('sorts files into added, changed, deleted and unchanged', () => {
    const d = diffManifest(manifest, [
      { path: 'a.md', contentHash: 'h1' },
      { path: 'b.md', contentHash: 'h2-edited' },
      { path: 'e.md', contentHash: 'h5' },
    ])
    expect(d).toEqual({ added: ['e.md'], changed: ['b.md'], deleted: ['c.md', 'd.md'], unchanged: ['a.md'] })
  })

  it('treats a rename as a delete plus an add', () => {
    const d = diffManifest([{ path: 'old.md', contentHash: 'h' }], [{ path: 'new.md', contentHash: 'h' }])
    expect(d).toMatchObject({ added: ['new.md'], deleted: ['old.md'], changed: [] })
  })

  it('keeps files that still exist but were skipped this run', () => {
    const d = diffManifest(manifest, [{ path: 'a.md', contentHash: 'h1' }], ['b.md'])
    expect(d.deleted).toEqual(['c.md', 'd.md'])
  })

  it('keeps every file under a folder that could not be read', () => {
    const d = diffManifest([{ path: 'sub/x.md', contentHash: 'h' }, { path: 'subway.md', contentHash: 'h' }], [], ['sub'])
    expect(d.deleted).toEqual(['subway.md'])
  })
})

describe('sha256File', () => {
  it('hashes file bytes', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-hash-'))
    const file = path.join(dir, 'x.bin')
    const bytes = Buffer.from('héllo\u0000world')
    await writeFile(file, bytes)
    expect(await sha256File(file)).toBe(createHash('sha256').update(bytes).digest('hex'))
  })
})
