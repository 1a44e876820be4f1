import { existsSync, statSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import type { DataType, DeviceType, PreTrainedModel, PreTrainedTokenizer } from '@huggingface/transformers'
import { AutoTokenizer, ModelFileNotFoundError, env } from '@huggingface/transformers'
import { RagtuneError } from '../../errors.js'

/**
 * Loading through transformers.js, with its process-global `env` set explicitly for every load:
 * offline loads must never reach the network, whatever an earlier load left in `env`. Loads are
 * serialised because `env` is shared; inference afterwards does not read it.
 */

/** Options shared by the embedding model and the reranker. */
export interface TransformersLoadOptions {
  /** Hub id (`Xenova/bge-small-en-v1.5`) or a local model folder. */
  model: string
  /** Never touch the network: files must be in the local folder or the cache. */
  offline: boolean
  /** Where hub downloads are cached; defaults to transformers.js' own cache folder. */
  cacheDir?: string
  device?: DeviceType
  dtype?: DataType
}

/** Which configured model this is, so errors can name the setting to change. */
export type ModelRole = 'embedder' | 'reranker'

/** What `loadModel` receives: pass it to `AutoModel…from_pretrained` as is. */
export interface ModelLoadOptions {
  local_files_only: boolean
  cache_dir?: string
  device?: DeviceType
  dtype?: DataType
}

export interface LoadedTransformers<M> {
  tokenizer: PreTrainedTokenizer
  model: M
  /** The folder holding the model files when known (local folder or cache entry), for side files. */
  localDir: string | undefined
}

/** transformers.js' defaults, captured before any load changes `env`. */
const DEFAULT_CACHE_DIR = env.cacheDir
const DEFAULT_LOCAL_MODEL_PATH = env.localModelPath

/** Files every model needs besides its ONNX graph (whose name depends on dtype). */
const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json']

let queue: Promise<unknown> = Promise.resolve()

function isLocalPath(model: string): boolean {
  return isAbsolute(model) || model.startsWith('.') || model.includes('\\') || model.split('/').length > 2 || isDirectory(model)
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** Folders where transformers.js looks for a hub id's files without downloading. */
function hubCandidates(id: string, cacheDir: string | null): string[] {
  return [cacheDir, DEFAULT_LOCAL_MODEL_PATH].filter((d): d is string => typeof d === 'string').map((d) => join(d, id))
}

function notFound(role: ModelRole, options: TransformersLoadOptions, missing: string[], lookedIn: string[] = [], cause?: unknown): RagtuneError {
  const where = lookedIn.length > 0 ? ` (looked in ${lookedIn.join(' and ')})` : ''
  const why = options.offline ? 'offline mode is on, so nothing was downloaded' : 'it is neither on disk nor downloadable'
  return new RagtuneError('MODEL_NOT_FOUND', `${role} model '${options.model}' not found: missing ${missing.join(', ')}${where}; ${why}`, {
    details: { role, model: options.model, missing, lookedIn, offline: options.offline },
    hint:
      `download the model where a network exists (or run once without offline mode to fill the cache` +
      `${options.cacheDir ? ` at ${options.cacheDir}` : ''}), then point models.${role} to its folder ` +
      `(config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx)`,
    cause,
  })
}

/** Fails early with the list of missing files when they can be checked on disk. */
function checkFiles(role: ModelRole, options: TransformersLoadOptions, cacheDir: string | null): string | undefined {
  if (isLocalPath(options.model)) {
    const dir = resolve(options.model)
    if (!isDirectory(dir)) throw notFound(role, options, [`the folder ${dir}`])
    const missing = REQUIRED_FILES.filter((f) => !existsSync(join(dir, f))).map((f) => join(dir, f))
    if (missing.length > 0) throw notFound(role, options, missing)
    return dir
  }
  const found = hubCandidates(options.model, cacheDir).find((dir) => REQUIRED_FILES.every((f) => existsSync(join(dir, f))))
  if (found === undefined && options.offline) {
    throw notFound(role, options, REQUIRED_FILES, hubCandidates(options.model, cacheDir))
  }
  return found
}

/** fetch() failures (DNS, refused, offline) as opposed to a model that loaded but is wrong. */
function isNetworkError(error: unknown): boolean {
  const text = `${String(error)} ${String((error as { cause?: unknown })?.cause ?? '')}`
  return /fetch failed|ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|network/i.test(text)
}

/**
 * Loads the tokenizer and, through `loadModel`, the ONNX model, with `env` set for this call.
 * Missing files become `MODEL_NOT_FOUND`; other failures `MODEL_LOAD_FAILED`.
 */
export function loadTransformers<M extends PreTrainedModel>(
  role: ModelRole,
  options: TransformersLoadOptions,
  loadModel: (source: string, modelOptions: ModelLoadOptions) => Promise<M>,
): Promise<LoadedTransformers<M>> {
  const run = async (): Promise<LoadedTransformers<M>> => {
    const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR
    env.allowLocalModels = true
    env.allowRemoteModels = !options.offline
    env.useFSCache = true
    env.cacheDir = cacheDir
    env.localModelPath = DEFAULT_LOCAL_MODEL_PATH

    const localDir = checkFiles(role, options, cacheDir)
    // Offline, a cached hub model is loaded from its cache folder like any local folder.
    const source = localDir !== undefined && (options.offline || isLocalPath(options.model)) ? localDir : options.model
    const common = { local_files_only: options.offline, ...(options.cacheDir ? { cache_dir: options.cacheDir } : {}) }
    try {
      const tokenizer = await AutoTokenizer.from_pretrained(source, common)
      const model = await loadModel(source, {
        ...common,
        ...(options.device ? { device: options.device } : {}),
        ...(options.dtype ? { dtype: options.dtype } : {}),
      })
      return { tokenizer, model, localDir: localDir ?? hubCandidates(options.model, cacheDir).find(isDirectory) }
    } catch (error) {
      if (error instanceof ModelFileNotFoundError) {
        // transformers.js quotes the path it tried first; fall back to its whole message.
        const path = /"([^"]+)"/.exec(error.message)?.[1] ?? error.message
        throw notFound(role, options, [path], [], error)
      }
      if (!options.offline && isNetworkError(error)) {
        throw new RagtuneError('MODEL_DOWNLOAD_FAILED', `could not download ${role} model '${options.model}' from the Hugging Face hub: ${String(error)}`, {
          details: { role, model: options.model },
          hint: `run once where the hub is reachable (the model is cached under ${cacheDir}), or point models.${role}.model at a local folder with the model, or use the generated tiny models offline: \`ragtune init --tiny\``,
          cause: error,
        })
      }
      throw new RagtuneError('MODEL_LOAD_FAILED', `could not load ${role} model '${options.model}': ${String(error)}`, {
        details: { role, model: options.model },
        hint: 'check that the folder holds a transformers.js-compatible ONNX export',
        cause: error,
      })
    }
  }
  const result = queue.then(run, run)
  queue = result.catch(() => undefined)
  return result
}
