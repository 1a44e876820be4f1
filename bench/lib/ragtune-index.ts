import { configSchema } from '../../src/config/schema.js'
import { discoverFiles, loadFile } from '../../src/ingest/discover.js'
import { indexFolder, type IndexReport } from '../../src/ingest/indexer.js'
import { RecursiveSplitter } from '../../src/ingest/chunk/recursive-splitter.js'
import { defaultLoaders } from '../../src/ingest/loaders/registry.js'
import type { EmbeddingModel } from '../../src/spec/embedding-model.js'
import { PGliteStore } from '../../src/store/pglite-store.js'
import { instrumentEmbedder, instrumentLoaders, instrumentStore, newStageTimes, type StageTimes } from './instrument.js'

/** ragtune's shipped defaults (512/64 chunks, batch 32, include/exclude), exactly as `ragtune index` uses them. */
export const DEFAULTS = configSchema.parse({})

export interface RagtuneRun {
  report: IndexReport
  /** indexFolder's wall time: discovery, hashing, loading, chunking, embedding, store writes. */
  ms: number
  /** Process CPU time (all threads, ONNX Runtime's included) during indexFolder. */
  cpuMs: number
  /** Opening Postgres (WebAssembly boot) and init; not part of `ms`. */
  openMs: number
  /** Flushing and closing the store; not part of `ms`. */
  closeMs: number
  times: StageTimes
}

/** One `indexFolder` into the PGlite store at `storeDir` (fresh or existing), instrumented. */
export async function ragtuneIndexRun(root: string, storeDir: string, embedder: EmbeddingModel, batchSize: number): Promise<RagtuneRun> {
  const t0 = performance.now()
  const store = await PGliteStore.open({ dataDir: storeDir })
  try {
    await store.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
    const openMs = performance.now() - t0
    const times = newStageTimes()
    const t1 = performance.now()
    const cpu0 = process.cpuUsage()
    const report = await indexFolder({
      root,
      store: instrumentStore(store, times),
      embedder: instrumentEmbedder(embedder, times),
      loaders: instrumentLoaders(defaultLoaders(), times),
      chunking: DEFAULTS.chunking,
      include: DEFAULTS.docs.include,
      exclude: DEFAULTS.docs.exclude,
      maxFileBytes: DEFAULTS.docs.maxFileBytes,
      batchSize,
    })
    const ms = performance.now() - t1
    const cpuMs = cpuSince(cpu0)
    const t2 = performance.now()
    await store.close()
    return { report, ms, cpuMs, openMs, closeMs: performance.now() - t2, times }
  } finally {
    await store.close()
  }
}

/**
 * The chunk texts indexFolder produces for `root`, in its order, through the same discovery, loaders
 * and splitter: the input of the encoder-alone measurement.
 */
export async function chunkTextsLikeIndexer(root: string, embedder: EmbeddingModel): Promise<string[]> {
  const loaders = defaultLoaders()
  const { files } = await discoverFiles(root, { include: DEFAULTS.docs.include, exclude: DEFAULTS.docs.exclude, maxFileBytes: DEFAULTS.docs.maxFileBytes, loaders })
  const splitter = new RecursiveSplitter(embedder)
  const texts: string[] = []
  for (const file of files) {
    const loaded = await loadFile(file, loaders, { maxFileBytes: DEFAULTS.docs.maxFileBytes })
    if (!loaded.ok) throw new Error(`bench corpus file ${file.path} failed to load: ${loaded.reason}`)
    for (const c of splitter.chunk({ documentPath: file.path, text: loaded.doc.text }, DEFAULTS.chunking)) texts.push(c.text)
  }
  return texts
}

/** Tokens the encoder actually runs on: content truncated to the model limit, plus [CLS] and [SEP]. */
export function embeddedTokens(texts: readonly string[], embedder: EmbeddingModel): number {
  return texts.reduce((n, t) => n + Math.min(embedder.countTokens(t), embedder.maxInputTokens) + 2, 0)
}

/** User + system CPU milliseconds of this process since `start` (a process.cpuUsage() value). */
export function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start)
  return (d.user + d.system) / 1000
}

/** Tokens the encoder computes for `lengths` cut into batches in order: every row padded to its batch's longest. */
export function paddedTokens(lengths: readonly number[], batchSize: number): number {
  let total = 0
  for (let i = 0; i < lengths.length; i += batchSize) {
    const batch = lengths.slice(i, i + batchSize)
    total += batch.length * Math.max(...batch)
  }
  return total
}

/** The same, if each window of `window` consecutive inputs were sorted by length before batching. */
export function paddedTokensSorted(lengths: readonly number[], batchSize: number, window: number): number {
  let total = 0
  for (let i = 0; i < lengths.length; i += window) total += paddedTokens([...lengths.slice(i, i + window)].sort((a, b) => a - b), batchSize)
  return total
}
