import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RagtuneError } from '../../errors.js'
import type { TinyModelOptions } from './tiny-model.js'
import { buildTinyModelFiles, hashTinyModelFiles, writeTinyModelFiles } from './tiny-model.js'

/**
 * The shared tiny embedder and reranker that tests and the offline demo load. Folders are
 * regenerated whenever their content hash changes (generator edits included), and replaced by an
 * atomic rename so parallel test workers never see a half-written model.
 */

/** Written last into each folder; its hash says which generator output the folder holds. */
export const TINY_MARKER_FILE = '.ragtune-tiny.json'

/** The shared embedder: the tiny shape with bag-of-words weights, so retrieval tests have right answers. */
export const TINY_EMBEDDER_OPTIONS: Partial<TinyModelOptions> = { kind: 'encoder' }
/** The shared reranker: random weights; its scores are stable but mean nothing. */
export const TINY_RERANKER_OPTIONS: Partial<TinyModelOptions> = { kind: 'cross-encoder' }

export interface TinyModelDirs {
  embedder: string
  reranker: string
}

/** Makes sure `rootDir/tiny-embedder` and `rootDir/tiny-reranker` hold the current generator's output. */
export async function ensureTinyModels(rootDir: string): Promise<TinyModelDirs> {
  await mkdir(rootDir, { recursive: true })
  return {
    embedder: await ensureTinyModel(join(rootDir, 'tiny-embedder'), TINY_EMBEDDER_OPTIONS),
    reranker: await ensureTinyModel(join(rootDir, 'tiny-reranker'), TINY_RERANKER_OPTIONS),
  }
}

async function readMarkerHash(dir: string): Promise<string | undefined> {
  try {
    const marker = JSON.parse(await readFile(join(dir, TINY_MARKER_FILE), 'utf8')) as { sha256?: unknown }
    return typeof marker.sha256 === 'string' ? marker.sha256 : undefined
  } catch {
    return undefined
  }
}

/** Generating a tiny model takes milliseconds, so the hash is always recomputed from fresh output. */
async function ensureTinyModel(dir: string, options: Partial<TinyModelOptions>): Promise<string> {
  const files = buildTinyModelFiles(options)
  const sha256 = hashTinyModelFiles(files)
  if ((await readMarkerHash(dir)) === sha256) return dir

  const unique = `${process.pid}-${randomBytes(4).toString('hex')}`
  const staging = `${dir}.tmp-${unique}`
  await writeTinyModelFiles(staging, files)
  await writeFile(join(staging, TINY_MARKER_FILE), `${JSON.stringify({ sha256 })}\n`)
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await rename(staging, dir)
        return dir
      } catch (error) {
        if (!isDirectoryTaken(error)) throw error
      }
      // Another worker may have just finished the same job; otherwise move the stale copy aside.
      if ((await readMarkerHash(dir)) === sha256) return dir
      const stale = `${dir}.stale-${unique}`
      await rename(dir, stale).catch(() => undefined)
      await rm(stale, { recursive: true, force: true })
    }
    throw new RagtuneError('TINY_MODEL_WRITE_FAILED', `could not replace ${dir} with a freshly generated tiny model`, {
      details: { dir },
      hint: `delete ${dir} and run again`,
    })
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

function isDirectoryTaken(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ENOTEMPTY' || code === 'EEXIST'
}
