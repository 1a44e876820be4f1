import path from 'node:path'
import { mkdir } from 'node:fs/promises'
import type { LoadedConfig } from './config/load-config.js'
import { DEFAULT_RERANKER, type RagtuneConfig } from './config/schema.js'
import type { EmbeddingModel } from './spec/embedding-model.js'
import type { Generator } from './spec/generator.js'
import type { Reranker } from './spec/reranker.js'
import type { Store } from './spec/store.js'
import { RagtuneError } from './errors.js'
import { resolveModelFile } from './models/llama/lazy-llama.js'
import { ensureTinyLlama } from './models/tiny-llama/ensure-tiny-llama.js'
import { ensureTinyModels } from './models/tiny/ensure-tiny-models.js'
import { openStore } from './store/open-store.js'

/** Model id that names the tiny models ragtune generates itself (offline tests and demo). */
export const TINY_MODEL_ID = 'tiny'

/** What a command works on: the config, the opened store and the models it asked for. */
export interface Workspace {
  config: RagtuneConfig
  /** Absolute data folder (`dataDir` resolved against the config's folder). */
  dataDir: string
  store: Store
  embedder: EmbeddingModel | undefined
  reranker: Reranker | undefined
  close(): Promise<void>
}

export interface OpenWorkspaceOptions {
  embedder?: boolean
  reranker?: boolean
  /** Open the store in memory instead of under dataDir (eval scratch stores). */
  inMemory?: boolean
  /** Fail with NOT_INDEXED when the store was never indexed (commands that read the index). */
  requireIndex?: boolean
}

/** Whether the store has a schema (a first index run fixes its vector width). */
export async function isInitialised(store: Store): Promise<boolean> {
  try {
    await store.chunkCount()
    return true
  } catch (err) {
    if (err instanceof RagtuneError && err.code === 'STORE_NOT_INITIALISED') return false
    throw err
  }
}

/**
 * Opens the store and the models a command needs. The store is initialised with the embedder's
 * width and id, so a store built with another model refuses to mix vectors.
 */
export async function openWorkspace(loaded: LoadedConfig, opts: OpenWorkspaceOptions = {}): Promise<Workspace> {
  const { config } = loaded
  const dataDir = path.resolve(loaded.baseDir, config.dataDir)
  const embedder = opts.embedder === false ? undefined : await loadEmbedder(loaded, dataDir)
  let reranker: Reranker | undefined
  let store: Store | undefined
  try {
    reranker = opts.reranker && config.retrieval.rerank ? await loadReranker(loaded, dataDir) : undefined
    if (!opts.inMemory) await mkdir(dataDir, { recursive: true })
    store = await openStore(config, dataDir, opts.inMemory ? { inMemory: true } : {})
    // Dense vectors in Pinecone: never for in-memory scratch stores, which must not write to a shared index.
    if (!opts.inMemory && config.store.vectors.provider === 'pinecone') {
      const { openPineconeStore } = await import('./store/pinecone/pinecone-store.js')
      store = await openPineconeStore(store, config.store.vectors, { onWarning: (m) => process.emitWarning(m, { code: 'RAGTUNE_PINECONE' }) })
    }
    if (embedder) await store.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
    else if (opts.requireIndex && !(await isInitialised(store))) {
      throw new RagtuneError('NOT_INDEXED', `nothing is indexed in ${dataDir} yet`, { hint: 'run `ragtune index <folder>` first (or pass --data-dir / --config for another index)' })
    }
  } catch (err) {
    await Promise.allSettled([embedder?.dispose(), reranker?.dispose(), store?.close()])
    throw err
  }
  const opened = store
  return {
    config,
    dataDir,
    store: opened,
    embedder,
    reranker,
    async close() {
      await Promise.allSettled([embedder?.dispose(), reranker?.dispose()])
      await opened.close()
    },
  }
}

async function resolveModel(loaded: LoadedConfig, dataDir: string, model: string, role: 'embedder' | 'reranker'): Promise<string> {
  if (model === TINY_MODEL_ID) return (await ensureTinyModels(path.join(dataDir, 'models')))[role]
  const local = model.startsWith('.') || path.isAbsolute(model)
  return local ? path.resolve(loaded.baseDir, model) : model
}

/** Load options shared by the embedder and the reranker, from their config sections. */
async function transformersOptions(loaded: LoadedConfig, dataDir: string, role: 'embedder' | 'reranker') {
  const { models } = loaded.config
  const section = models[role]
  return {
    model: await resolveModel(loaded, dataDir, section.model, role),
    offline: models.offline,
    cacheDir: cacheDir(loaded, dataDir),
    batchSize: section.batchSize,
    ...(section.dtype ? { dtype: section.dtype } : {}),
  }
}

/** The configured embedding model; `tiny` is generated on first use. */
export async function loadEmbedder(loaded: LoadedConfig, dataDir: string): Promise<EmbeddingModel> {
  const { queryInstruction, provider } = loaded.config.models.embedder
  if (provider === 'openai') return loadRemoteEmbedder(loaded, dataDir)
  // The model backends load on first use: commands that need no model never import them.
  const { TransformersEmbeddingModel } = await import('./models/transformers/transformers-embedding-model.js')
  return TransformersEmbeddingModel.load({ ...(await transformersOptions(loaded, dataDir, 'embedder')), ...(queryInstruction !== undefined ? { queryInstruction } : {}) })
}

/** An OpenAI-compatible /v1/embeddings server (TEI, vLLM, Ollama, OpenAI). */
async function loadRemoteEmbedder(loaded: LoadedConfig, dataDir: string): Promise<EmbeddingModel> {
  const { models } = loaded.config
  const e = models.embedder
  const { loadOpenAIEmbedder } = await import('./models/openai/load-openai-embedder.js')
  const tokenizer = e.openai.tokenizer && (e.openai.tokenizer.startsWith('.') || path.isAbsolute(e.openai.tokenizer)) ? path.resolve(loaded.baseDir, e.openai.tokenizer) : e.openai.tokenizer
  return loadOpenAIEmbedder({
    model: e.model,
    batchSize: e.batchSize,
    config: { ...e.openai, ...(tokenizer ? { tokenizer } : {}) },
    offline: models.offline,
    cacheDir: cacheDir(loaded, dataDir),
    ...(e.queryInstruction !== undefined ? { queryInstruction: e.queryInstruction } : {}),
  })
}

export async function loadReranker(loaded: LoadedConfig, dataDir: string): Promise<Reranker> {
  const r = loaded.config.models.reranker
  if (r.provider === 'cohere') return loadCohereReranker(loaded)
  const { TransformersReranker } = await import('./models/transformers/transformers-reranker.js')
  return TransformersReranker.load(await transformersOptions(loaded, dataDir, 'reranker'))
}

/** Cohere Rerank: a hosted API, so `models.offline` (never touch the network) rules it out. */
async function loadCohereReranker(loaded: LoadedConfig): Promise<Reranker> {
  const { models } = loaded.config
  const r = models.reranker
  if (models.offline) {
    throw new RagtuneError('CONFIG_INVALID', 'models.reranker.provider is "cohere" (a hosted API), but models.offline says never to touch the network', {
      hint: 'set models.offline to false, or use models.reranker.provider "transformers" with a local cross-encoder',
    })
  }
  const [{ CohereReranker }, { DEFAULT_COHERE_RERANKER }, { requireApiKey }] = await Promise.all([
    import('./models/cohere/cohere-reranker.js'), import('./models/cohere/cohere-config.js'), import('./hosted/hosted-errors.js'),
  ])
  return new CohereReranker({
    apiKey: requireApiKey({ service: 'Cohere', keyEnv: r.cohere.apiKeyEnv }),
    apiKeyEnv: r.cohere.apiKeyEnv,
    model: r.model === DEFAULT_RERANKER ? DEFAULT_COHERE_RERANKER : r.model,
    topN: r.cohere.topN,
    ...(r.cohere.baseURL ? { baseURL: r.cohere.baseURL } : {}),
  })
}

/**
 * The configured generator. `tiny` is the generated tiny Llama (offline tests and demo); an `hf:`
 * URI is downloaded once into the model cache (never when offline); `adapterOverride` replaces the
 * configured adapter (`ask --adapter`, and later the registry's active adapter).
 */
export async function loadGenerator(loaded: LoadedConfig, dataDir: string, opts: { adapterOverride?: string | null; adapterId?: string } = {}): Promise<Generator> {
  const { generator: g } = loaded.config
  const adapter = opts.adapterOverride !== undefined ? opts.adapterOverride : g.adapter
  if (g.provider === 'openai') {
    if (!g.baseURL) throw new RagtuneError('CONFIG_INVALID', 'generator.provider "openai" needs generator.baseURL', { hint: 'set generator.baseURL, e.g. http://localhost:8000/v1' })
    const apiKey = process.env[g.apiKeyEnv]
    const { OpenAIGenerator } = await import('./models/openai/openai-generator.js')
    return new OpenAIGenerator({ baseURL: g.baseURL, model: g.model, adapter, ...(apiKey ? { apiKey } : {}) })
  }
  const modelPath = await generatorModelPath(loaded, dataDir)
  let adapterPath = adapter ? path.resolve(loaded.baseDir, adapter) : null
  if (g.model === TINY_MODEL_ID && adapter === TINY_MODEL_ID) adapterPath = (await ensureTinyLlama(path.join(dataDir, 'models'))).lora
  const { LlamaCppGenerator } = await import('./models/llama/llama-cpp-generator.js')
  return LlamaCppGenerator.load({
    modelPath,
    // The registry names its adapters `<name>@<sha>` (adapterId); a bare path gets `<file>@<sha>`.
    adapter: adapterPath ? { path: adapterPath, ...(opts.adapterId ? { id: opts.adapterId } : {}) } : null,
    ...(g.threads ? { threads: g.threads } : {}),
    ...(g.gpu !== false ? { gpu: g.gpu } : {}),
    // The tiny model's small vocabulary spends more tokens on the same sources than a real one.
    ...(g.contextSize ? { contextSize: g.contextSize } : g.model === TINY_MODEL_ID ? { contextSize: 8192 } : {}),
  })
}

/**
 * The local GGUF file of the configured generator (the trainer's default base): `tiny` → the
 * generated Q8_0 tiny Llama, `hf:` → the cached download (never fetched when offline), else a path.
 */
export async function generatorModelPath(loaded: LoadedConfig, dataDir: string): Promise<string> {
  const { generator: g, models } = loaded.config
  if (g.model === TINY_MODEL_ID) return (await ensureTinyLlama(path.join(dataDir, 'models'))).q8_0
  if (g.model.startsWith('hf:')) {
    if (models.offline) {
      throw new RagtuneError('MODEL_NOT_FOUND', `generator model ${g.model} would need a download, and models.offline is set`, {
        hint: 'download the GGUF where a network exists and set generator.model to its path, or turn offline off once',
      })
    }
    return resolveModelFile(g.model, { directory: cacheDir(loaded, dataDir), cli: false })
  }
  return path.resolve(loaded.baseDir, g.model)
}

function cacheDir(loaded: LoadedConfig, dataDir: string): string {
  const dir = loaded.config.models.cacheDir
  return dir ? path.resolve(loaded.baseDir, dir) : path.join(dataDir, 'models')
}
