import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { RagtuneError } from '../errors.js'
import { acquireDirLock, type DirLock } from '../store/dir-lock.js'

/**
 * Makes `dir` hold a generator's current output. A marker file written last records the output's
 * hash: a folder with the same hash is reused, any other is replaced. The new folder is staged and
 * moved in with one rename, so parallel test workers never see a half-written model. A lock file
 * beside the folder makes a second process wait for the first one's output instead of generating
 * it again (pre-training takes a minute).
 */
export async function ensureGeneratedDir(opts: { dir: string; marker: string; sha256: string; write: (staging: string) => Promise<void> }): Promise<void> {
  const { dir, marker, sha256 } = opts
  if ((await readMarkerHash(dir, marker)) === sha256) return
  const lock = await waitForLock(dir)
  try {
    if ((await readMarkerHash(dir, marker)) === sha256) return
    await generate(opts)
  } finally {
    await lock.release()
  }
}

/** Waits while another live process generates into `dir` (a dead one's lock is taken over). */
async function waitForLock(dir: string): Promise<DirLock> {
  await mkdir(dirname(dir), { recursive: true })
  for (;;) {
    try {
      return await acquireDirLock(dirname(dir), `${basename(dir)}.lock`)
    } catch (error) {
      if (!(error instanceof RagtuneError) || error.code !== 'STORE_LOCKED') throw error
      await sleep(250)
    }
  }
}

async function generate(opts: { dir: string; marker: string; sha256: string; write: (staging: string) => Promise<void> }): Promise<void> {
  const { dir, marker, sha256 } = opts
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
