import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { ensureGeneratedDir } from './generated-dir.js'

describe('ensureGeneratedDir', () => {
  it('generates once when two callers ask at the same time; the second waits for the first', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ragtune-gen-'))
    const dir = join(root, 'model')
    let writes = 0
    const write = async (staging: string): Promise<void> => {
      writes++
      await sleep(300)
      await mkdir(staging, { recursive: true })
      await writeFile(join(staging, 'weights.bin'), 'w')
    }
    const opts = { dir, marker: '.marker.json', sha256: 'abc', write }
    await Promise.all([ensureGeneratedDir(opts), ensureGeneratedDir(opts)])
    expect(writes).toBe(1)
    expect(await readFile(join(dir, 'weights.bin'), 'utf8')).toBe('w')
    expect((await readdir(root)).sort()).toEqual(['model']) // no staging folder or lock left behind
    await ensureGeneratedDir({ ...opts, sha256: 'def' })
    expect(writes).toBe(2) // another hash regenerates
  })
})
