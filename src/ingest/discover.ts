import { createHash } from 'node:crypto'
import { promises as fs, type Dirent } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import picomatch from 'picomatch'
import type { LoadedDocument, Loader } from '../spec/loader.js'
import { RagtuneError, throwIfAborted } from '../errors.js'
import { defaultLoaders, extensionOf, loadDocument } from './loaders/registry.js'

/** A file that will be handed to a loader. */
export interface DiscoveredFile {
  /** Relative to the root, forward slashes: the stable id of the document across machines. */
  path: string
  absPath: string
  size: number
  mtimeMs: number
}

/** A file (or folder) that was seen but will not be indexed, with the reason to show the user. */
export interface SkippedPath {
  path: string
  code: string
  reason: string
}

export interface DiscoverOptions {
  /** Globs relative to the root; a file must match one. */
  include?: string[]
  /** Globs relative to the root; a match excludes a file, and a folder with everything below it. */
  exclude?: string[]
  maxFileBytes?: number
  /** Only files some loader claims are candidates; defaults to the built-in loaders. */
  loaders?: readonly Loader[]
  signal?: AbortSignal
}

export const DEFAULT_INCLUDE = ['**/*']
export const DEFAULT_EXCLUDE = ['**/node_modules/**', '**/.git/**', '**/.ragtune/**']
export const DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024
export const DEFAULT_LOAD_TIMEOUT_MS = 30_000

/**
 * Lists the files under `root` that the indexer should load, sorted by path so two runs over the same
 * tree do the same work in the same order. Files of unknown formats are ignored silently (a docs
 * folder holds images and config too); oversized and unreadable ones are returned in `skipped` so a
 * report can say why they are missing. Symlinked files are followed; a symlinked folder is entered
 * at most once (by its real path), so link loops end.
 */
export async function discoverFiles(root: string, opts: DiscoverOptions = {}): Promise<{ files: DiscoveredFile[]; skipped: SkippedPath[] }> {
  const rootAbs = resolve(root)
  const include = picomatch(opts.include ?? DEFAULT_INCLUDE, { dot: true })
  const exclude = picomatch(opts.exclude ?? DEFAULT_EXCLUDE, { dot: true })
  const maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
  const extensions = new Set((opts.loaders ?? defaultLoaders()).flatMap((l) => l.extensions))
  const files: DiscoveredFile[] = []
  const skipped: SkippedPath[] = []
  const visited = new Set<string>()
  // A missing root must fail loudly: an empty listing would make the indexer delete the whole index.
  const rootStat = await fs.stat(rootAbs).catch((err: unknown) => {
    throw new RagtuneError('DISCOVER_ROOT_MISSING', `expected a folder to index at ${rootAbs}, found nothing readable (${errMessage(err)})`, {
      details: { root: rootAbs },
      hint: 'check the docs path in ragtune.config or on the command line',
      cause: err,
    })
  })
  if (!rootStat.isDirectory()) {
    throw new RagtuneError('DISCOVER_ROOT_MISSING', `expected a folder to index at ${rootAbs}, found a file`, {
      details: { root: rootAbs },
      hint: 'point the docs path at the folder that holds the file',
    })
  }

  const skip = (path: string, code: string, reason: string): void => void skipped.push({ path, code, reason })
  const rootReal = await fs.realpath(rootAbs).catch(() => rootAbs)

  const walk = async (dirAbs: string, dirRel: string): Promise<void> => {
    throwIfAborted(opts.signal)
    let entries: Dirent[]
    try {
      const real = await fs.realpath(dirAbs)
      if (visited.has(real)) return
      visited.add(real)
      entries = await fs.readdir(dirAbs, { withFileTypes: true })
    } catch (err) {
      // An unreadable root is no "empty folder": treating it as one would delete the whole index.
      if (dirRel === '') throw new RagtuneError('DISCOVER_ROOT_UNREADABLE', `cannot read the folder to index, ${dirAbs}: ${errMessage(err)}`, { details: { root: dirAbs }, hint: 'check its permissions (and that the mount is up), then index again', cause: err })
      return skip(dirRel, 'LOAD_UNREADABLE', `cannot read folder: ${errMessage(err)}`)
    }
    entries.sort((a, b) => compare(a.name, b.name))
    for (const entry of entries) {
      const rel = dirRel === '' ? entry.name : `${dirRel}/${entry.name}`
      const abs = join(dirAbs, entry.name)
      if (exclude(rel)) continue
      let isDir = entry.isDirectory()
      let isFile = entry.isFile()
      if (entry.isSymbolicLink()) {
        const target = await fs.stat(abs).catch(() => undefined)
        if (!target) {
          if (extensions.has(extensionOf(rel)) && include(rel)) skip(rel, 'LOAD_UNREADABLE', 'broken symbolic link')
          continue
        }
        isDir = target.isDirectory()
        isFile = target.isFile()
        // A link out of the root (`docs/up -> ..`, a link to ~) would index and serve files nobody chose.
        const real = await fs.realpath(abs).catch(() => abs)
        if (!isInside(real, rootReal)) {
          if (isDir || (extensions.has(extensionOf(rel)) && include(rel))) skip(rel, 'LOAD_OUTSIDE_ROOT', `symbolic link to ${real}, outside the indexed folder`)
          continue
        }
      }
      if (isDir) {
        await walk(abs, rel)
        continue
      }
      if (!isFile || !extensions.has(extensionOf(rel)) || !include(rel)) continue
      try {
        const st = await fs.stat(abs)
        if (st.size > maxFileBytes) skip(rel, 'LOAD_TOO_LARGE', tooLarge(st.size, maxFileBytes))
        else files.push({ path: rel, absPath: abs, size: st.size, mtimeMs: st.mtimeMs })
      } catch (err) {
        skip(rel, 'LOAD_UNREADABLE', `cannot stat file: ${errMessage(err)}`)
      }
    }
  }

  await walk(rootAbs, '')
  files.sort((a, b) => compare(a.path, b.path))
  skipped.sort((a, b) => compare(a.path, b.path))
  return { files, skipped }
}

export interface LoadFileOptions {
  maxFileBytes?: number
  /** Per-file limit, so one pathological PDF or .docx cannot stall a whole indexing run. */
  timeoutMs?: number
  signal?: AbortSignal
}

export type LoadFileResult =
  | { ok: true; doc: LoadedDocument; bytes: Uint8Array; contentHash: string }
  | { ok: false; code: string; reason: string }

/**
 * Reads and loads one discovered file and never throws for a bad file: the indexer skips it and
 * reports `code`/`reason` instead of failing the run. Errors that are not RagtuneErrors (a loader
 * bug, a library crash) become LOAD_FAILED. Only an abort of `signal` is thrown, because that stops
 * the run rather than one file.
 */
export async function loadFile(file: DiscoveredFile, loaders: readonly Loader[], opts: LoadFileOptions = {}): Promise<LoadFileResult> {
  const maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
  try {
    throwIfAborted(opts.signal)
    // Stat again: the file may have grown since discovery, and reading 2 GB to reject it is wasteful.
    const st = await fs.stat(file.absPath)
    if (st.size > maxFileBytes) return { ok: false, code: 'LOAD_TOO_LARGE', reason: tooLarge(st.size, maxFileBytes) }
    const buf = await fs.readFile(file.absPath, { signal: opts.signal })
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
    if (bytes.length > maxFileBytes) return { ok: false, code: 'LOAD_TOO_LARGE', reason: tooLarge(bytes.length, maxFileBytes) }
    const contentHash = createHash('sha256').update(bytes).digest('hex')
    const doc = await withTimeout(opts.timeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS, file.path, opts.signal, (signal) =>
      loadDocument({ path: file.path, bytes }, loaders, { signal }),
    )
    // Postgres text cannot hold NUL; a stray one (deep in a text file, in a JSON string, in PDF
    // output) would otherwise fail the document's write on every run.
    if (doc.text.includes('\u0000')) doc.text = doc.text.replaceAll('\u0000', '\uFFFD')
    if (doc.title?.includes('\u0000')) doc.title = doc.title.replaceAll('\u0000', '\uFFFD')
    return { ok: true, doc, bytes, contentHash }
  } catch (err) {
    throwIfAborted(opts.signal)
    if (err instanceof RagtuneError) return { ok: false, code: err.code, reason: err.message }
    const code = (err as { code?: unknown }).code
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'EPERM') {
      return { ok: false, code: 'LOAD_UNREADABLE', reason: `cannot read file: ${errMessage(err)}` }
    }
    // Parsers (HTML, JSON, mammoth's XML) recurse per nesting level: 100k nested tags is hostile.
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      return { ok: false, code: 'LOAD_TOO_DEEP', reason: `${file.path}: expected markup nested at most a few thousand levels deep, found deeper nesting (the parser ran out of stack); flatten or exclude the file` }
    }
    return { ok: false, code: 'LOAD_FAILED', reason: `${file.path}: loading failed unexpectedly: ${errMessage(err)}` }
  }
}

/**
 * Runs `fn` with a signal that fires on the caller's abort or after `ms`, and stops waiting at that
 * moment even when the loader ignores its signal (mammoth has no cancellation).
 */
async function withTimeout<T>(ms: number, path: string, outer: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController()
  const timer = setTimeout(() => {
    ac.abort(new RagtuneError('LOAD_TIMEOUT', `${path}: expected loading to finish within ${ms} ms, it was still running`, {
      details: { path, timeoutMs: ms },
      hint: 'the file is pathological or huge; exclude it, or raise the load timeout',
    }))
  }, ms)
  const forward = (): void => ac.abort(outer?.reason)
  outer?.addEventListener('abort', forward, { once: true })
  try {
    return await new Promise<T>((resolvePromise, reject) => {
      ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true })
      fn(ac.signal).then(resolvePromise, reject)
    })
  } finally {
    clearTimeout(timer)
    outer?.removeEventListener('abort', forward)
  }
}

function tooLarge(size: number, max: number): string {
  return `file is ${size} bytes, over the limit of ${max} bytes (maxFileBytes); raise the limit or exclude the file`
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Code-unit order: the same on every OS and locale, unlike localeCompare. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}
