import type { ChunkOptions } from '../spec/chunker.js'
import type { EmbeddingModel } from '../spec/embedding-model.js'
import type { Loader } from '../spec/loader.js'
import type { ChunkRecord, DocumentRecord, Store } from '../spec/store.js'
import { RagtuneError, throwIfAborted } from '../errors.js'
import { RecursiveSplitter } from './chunk/recursive-splitter.js'
import { discoverFiles, loadFile, type DiscoveredFile } from './discover.js'
import { defaultLoaders } from './loaders/registry.js'
import { diffManifest, sha256File, type ManifestDiff } from './manifest.js'

export interface SkippedFile {
  path: string
  code: string
  reason: string
  /** True when an earlier good version of the file stays in the index. */
  keptPrevious?: boolean
}

export interface IndexProgress {
  phase: 'scan' | 'index' | 'done'
  filesTotal: number
  filesDone: number
  chunksDone: number
  chunksPerSec: number
  /** Seconds left, from bytes still to index at the rate so far; null until there is a rate. */
  etaSec: number | null
}

export interface IndexOptions {
  root: string
  store: Store
  embedder: EmbeddingModel
  chunking: ChunkOptions
  include: string[]
  exclude: string[]
  maxFileBytes: number
  batchSize: number
  loaders?: Loader[]
  /** Plan only: report adds, changes and deletes without touching the store. */
  dryRun?: boolean
  signal?: AbortSignal
  onProgress?: (p: IndexProgress) => void
}

export interface IndexReport {
  root: string
  dryRun: boolean
  plan: ManifestDiff
  indexed: Array<{ path: string; chunks: number }>
  skipped: SkippedFile[]
  chunksWritten: number
  chunksDeleted: number
  durationMs: number
  finishedAt: string
}

/** Embedding batches sorted by length together (see `drain`). */
const SORT_WINDOW_BATCHES = 4

/** Above this share of the index being rewritten, a bulk load (index rebuilt once) wins. */
const BULK_FRACTION = 0.2

interface PendingDoc {
  file: DiscoveredFile
  record: DocumentRecord
  chunks: ChunkRecord[]
  missing: number
}

/**
 * Brings the store in line with a folder: only added and changed files are loaded, chunked and
 * embedded; deleted files lose their chunks. Each document is written in one store transaction, so a
 * run killed anywhere leaves every document old or new, and the next run redoes what is missing.
 * Embedding batches span documents, and the next file is loaded while a batch runs.
 */
export async function indexFolder(opts: IndexOptions): Promise<IndexReport> {
  const t0 = performance.now()
  const loaders = opts.loaders ?? defaultLoaders()
  const found = await discoverFiles(opts.root, { include: opts.include, exclude: opts.exclude, maxFileBytes: opts.maxFileBytes, loaders, signal: opts.signal })
  const skipped: SkippedFile[] = found.skipped.map((s) => ({ ...s }))
  const hashes = new Map<string, string>()
  for (const f of found.files) {
    throwIfAborted(opts.signal)
    try {
      hashes.set(f.path, await sha256File(f.absPath))
    } catch (err) {
      // Vanished (a checkout mid-run) or unreadable since discovery: skip it, keep what was indexed.
      skipped.push({ path: f.path, code: 'LOAD_UNREADABLE', reason: `cannot read file: ${(err as Error).message}` })
    }
  }
  const manifest = await opts.store.listDocuments()
  const known = new Set(manifest.map((d) => d.path))
  const plan = diffManifest(manifest, [...hashes].map(([path, contentHash]) => ({ path, contentHash })), skipped.map((s) => s.path))
  for (const s of skipped) if (known.has(s.path)) s.keptPrevious = true

  const report: IndexReport = { root: opts.root, dryRun: !!opts.dryRun, plan, indexed: [], skipped, chunksWritten: 0, chunksDeleted: 0, durationMs: 0, finishedAt: '' }
  const todo = new Set([...plan.added, ...plan.changed])
  const files = found.files.filter((f) => todo.has(f.path) && hashes.has(f.path))
  const progress: IndexProgress = { phase: 'scan', filesTotal: files.length, filesDone: 0, chunksDone: 0, chunksPerSec: 0, etaSec: null }
  opts.onProgress?.({ ...progress })
  if (opts.dryRun) return finish(report, t0)

  const before = new Map(manifest.map((d) => [d.path, d.chunkCount]))
  for (const path of plan.deleted) {
    throwIfAborted(opts.signal)
    await opts.store.deleteDocument(path)
    report.chunksDeleted += before.get(path) ?? 0
  }

  const splitter = new RecursiveSplitter(opts.embedder)
  const totalBytes = files.reduce((n, f) => n + f.size, 0)
  let bytesDone = 0
  const tIndex = performance.now()
  const queue: Array<{ doc: PendingDoc; index: number }> = []
  let inflight: Promise<void> = Promise.resolve()

  const tick = (): void => {
    const secs = (performance.now() - tIndex) / 1000
    progress.phase = 'index'
    progress.chunksPerSec = secs > 0 ? progress.chunksDone / secs : 0
    progress.etaSec = bytesDone > 0 ? ((totalBytes - bytesDone) * secs) / bytesDone : null
    opts.onProgress?.({ ...progress })
  }

  const embedBatch = async (batch: Array<{ doc: PendingDoc; index: number }>): Promise<void> => {
    const vectors = await opts.embedder.doEmbed(batch.map((b) => b.doc.chunks[b.index]!.text), { kind: 'document', signal: opts.signal })
    for (const [i, b] of batch.entries()) {
      b.doc.chunks[b.index]!.embedding = vectors[i]!
      if (--b.doc.missing === 0) await writeDoc(b.doc)
    }
    progress.chunksDone += batch.length
    tick()
  }

  // Batches pad every text to the longest one in the batch: sorting a window of a few batches by
  // length cuts that waste (documents' last chunks are short) without holding many chunks back.
  const drain = async (final: boolean): Promise<void> => {
    while (queue.length >= opts.batchSize * SORT_WINDOW_BATCHES || (final && queue.length > 0)) {
      const window = queue.splice(0, opts.batchSize * SORT_WINDOW_BATCHES)
      window.sort((a, b) => a.doc.chunks[a.index]!.tokenCount - b.doc.chunks[b.index]!.tokenCount)
      for (let i = 0; i < window.length; i += opts.batchSize) {
        await inflight
        inflight = embedBatch(window.slice(i, i + opts.batchSize))
        inflight.catch(() => {}) // awaited on the next turn; this only keeps Node from calling it unhandled
      }
    }
  }

  const writeDoc = async (doc: PendingDoc): Promise<void> => {
    try {
      await opts.store.replaceDocument(doc.record, doc.chunks)
    } catch (err) {
      // A document the store refuses is skipped like a bad file; a broken store still stops the run.
      if (!(err instanceof RagtuneError && err.code === 'STORE_BAD_CHUNK')) throw err
      skipped.push({ path: doc.record.path, code: err.code, reason: err.message, ...(known.has(doc.record.path) ? { keptPrevious: true } : {}) })
      progress.filesDone++
      bytesDone += doc.file.size
      return
    }
    report.indexed.push({ path: doc.record.path, chunks: doc.chunks.length })
    report.chunksWritten += doc.chunks.length
    if (plan.changed.includes(doc.record.path)) report.chunksDeleted += before.get(doc.record.path) ?? 0
    progress.filesDone++
    bytesDone += doc.file.size
  }

  // Writing many chunks: defer the vector index and build it once (far cheaper than per-row upkeep).
  const bulk = files.length > 0 && (manifest.length === 0 || files.length > BULK_FRACTION * (manifest.length + plan.added.length))
  const work = async (): Promise<void> => {
    for (const file of files) {
      throwIfAborted(opts.signal)
      const loaded = await loadFile(file, loaders, { maxFileBytes: opts.maxFileBytes, signal: opts.signal })
      if (!loaded.ok) {
        skipped.push({ path: file.path, code: loaded.code, reason: loaded.reason, ...(known.has(file.path) ? { keptPrevious: true } : {}) })
        progress.filesDone++
        bytesDone += file.size
        continue
      }
      const pieces = splitter.chunk({ documentPath: file.path, text: loaded.doc.text }, opts.chunking)
      const doc: PendingDoc = {
        file,
        record: {
          path: file.path,
          contentHash: loaded.contentHash,
          size: file.size,
          format: file.path.slice(file.path.lastIndexOf('.') + 1).toLowerCase(),
          ...(loaded.doc.title ? { title: loaded.doc.title } : {}),
          chunkCount: pieces.length,
          indexedAt: new Date().toISOString(),
        },
        chunks: pieces.map((c) => ({ id: c.id, documentPath: file.path, ordinal: c.ordinal, text: c.text, headingPath: c.headingPath, tokenCount: c.tokenCount, embedding: new Float32Array(0) })),
        missing: pieces.length,
      }
      if (pieces.length === 0) {
        skipped.push({ path: file.path, code: 'LOAD_EMPTY', reason: 'no text to index after loading' })
        progress.filesDone++
        bytesDone += file.size
        continue
      }
      doc.chunks.forEach((_, index) => queue.push({ doc, index }))
      await drain(false)
    }
    await drain(true)
    await inflight
  }
  const guarded = async (): Promise<void> => {
    try {
      await work()
    } finally {
      // On failure (Ctrl-C, a loader crash) the batch in flight must not write after we return.
      await inflight.catch(() => {})
    }
  }
  await (bulk && opts.store.bulkLoad ? opts.store.bulkLoad(guarded) : guarded())
  progress.phase = 'done'
  tick()
  report.indexed.sort((a, b) => (a.path < b.path ? -1 : 1))
  finish(report, t0)
  await opts.store.setMeta(LAST_INDEX_KEY, JSON.stringify(report))
  return report
}

/** Meta key under which the last full run's report is kept, for `ragtune status`. */
export const LAST_INDEX_KEY = 'last_index_report'

function finish(report: IndexReport, t0: number): IndexReport {
  report.skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  report.durationMs = performance.now() - t0
  report.finishedAt = new Date().toISOString()
  return report
}
