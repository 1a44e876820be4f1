import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { BGE_SMALL_SHAPE, buildTinyModelFiles, hashTinyModelFiles, writeTinyModelFiles, type TinyModelOptions } from '../../src/models/tiny/tiny-model.js'
import { CACHE_DIR } from './results.js'

/** bge-small-en-v1.5's exact tensor shapes, random weights: speed only, never quality. */
export const BGE_SMALL_ENCODER: Partial<TinyModelOptions> = { ...BGE_SMALL_SHAPE, kind: 'encoder' }
/** ms-marco-MiniLM-L-6-v2's shape (hidden 384, 6 layers, 12 heads, intermediate 1536), random weights. */
export const MINILM_L6_CROSS_ENCODER: Partial<TinyModelOptions> = { ...BGE_SMALL_SHAPE, kind: 'cross-encoder', layers: 6 }

const MARKER = '.bench-model.json'

/**
 * Generates a model folder under bench/.cache/models once; later runs rebuild it in memory (about a
 * second), compare hashes and rewrite only when the generator's output changed.
 */
export async function ensureBenchModel(name: string, options: Partial<TinyModelOptions>): Promise<string> {
  const dir = join(CACHE_DIR, 'models', name)
  const files = buildTinyModelFiles(options)
  const sha256 = hashTinyModelFiles(files)
  const marker = await readFile(join(dir, MARKER), 'utf8').then((t) => (JSON.parse(t) as { sha256?: string }).sha256, () => undefined)
  if (marker === sha256) return dir
  await rm(dir, { recursive: true, force: true })
  await writeTinyModelFiles(dir, files)
  await writeFile(join(dir, MARKER), `${JSON.stringify({ sha256, options })}\n`)
  return dir
}
