import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RagtuneError } from '../../errors.js'

/**
 * How a sentence-transformers model turns token vectors into one vector. The model folder says it
 * (modules.json + the Pooling module's config.json); reading it avoids silently using the wrong
 * pooling, which would give plausible but wrong vectors.
 */

export type Pooling = 'cls' | 'mean'

export interface PoolingConfig {
  pooling: Pooling
  normalize: boolean
}

interface StModule {
  path?: string
  type?: string
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new RagtuneError('MODEL_CONFIG_INVALID', `could not read ${path}: ${String(error)}`, { details: { path }, cause: error })
  }
}

export interface StoredPoolingConfig extends Partial<PoolingConfig> {
  /** Set when the folder asks for a pooling mode other than CLS or mean: the file that says so. */
  unsupportedPooling?: string
}

/** Reads pooling and normalisation from a model folder; fields the folder does not state are absent. */
export async function readSentenceTransformersConfig(dir: string): Promise<StoredPoolingConfig> {
  const modules = (await readJson(join(dir, 'modules.json'))) as StModule[] | undefined
  const poolingModule = modules?.find((m) => m.type?.endsWith('.Pooling'))
  const poolingPath = join(dir, poolingModule?.path ?? '1_Pooling', 'config.json')
  const pooling = (await readJson(poolingPath)) as Record<string, unknown> | undefined

  const result: StoredPoolingConfig = {}
  if (modules) result.normalize = modules.some((m) => m.type?.endsWith('.Normalize'))
  if (pooling) {
    if (pooling.pooling_mode_cls_token === true) result.pooling = 'cls'
    else if (pooling.pooling_mode_mean_tokens === true) result.pooling = 'mean'
    else result.unsupportedPooling = poolingPath
  }
  return result
}
