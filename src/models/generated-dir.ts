import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RagtuneError } from '../errors.js'

/**
 * Makes `dir` hold a generator's current output. A marker file written last records the output's
 * hash: a folder with the same hash is reused, any other is replaced. The new folder is staged and
 * moved in with one rename, so parallel test workers never see a half-written model.
 */
export async function ensureGeneratedDir(opts: { dir: string; marker: string; sha256: string; write: (staging: string) => Promise<void> }): Promise<void> {
  const { dir, marker, sha256 } = opts
  if ((await readMarkerHash(dir, marker)) === sha256) return
  const unique = `${process.pid}-${randomBytes(4).toString('hex')}`
  const staging = `${dir}.tmp-${unique}`
  try {
    await opts.write(staging)
    await writeFile(join(staging, marker), `${JSON.stringify({ sha256 })}\n`)
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await rename(staging, dir)
        return
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
      }
      // Another worker may have just finished the same job; otherwise move the stale copy aside.
      if ((await readMarkerHash(dir, marker)) === sha256) return
      const stale = `${dir}.stale-${unique}`
      await rename(dir, stale).catch(() => undefined)
      await rm(stale, { recursive: true, force: true })
    }
    throw new RagtuneError('TINY_MODEL_WRITE_FAILED', `could not replace ${dir} with freshly generated files`, { details: { dir }, hint: `delete ${dir} and run again` })
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

async function readMarkerHash(dir: string, marker: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, marker), 'utf8')) as { sha256?: unknown }
    return typeof parsed.sha256 === 'string' ? parsed.sha256 : undefined
  } catch {
    return undefined
  }
}
