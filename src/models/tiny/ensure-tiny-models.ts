import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureGeneratedDir } from '../generated-dir.js'
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

/** Generating a tiny model takes milliseconds, so the hash is always recomputed from fresh output. */
async function ensureTinyModel(dir: string, options: Partial<TinyModelOptions>): Promise<string> {
  const files = buildTinyModelFiles(options)
  await ensureGeneratedDir({ dir, marker: TINY_MARKER_FILE, sha256: hashTinyModelFiles(files), write: (staging) => writeTinyModelFiles(staging, files).then(() => undefined) })
  return dir
}
