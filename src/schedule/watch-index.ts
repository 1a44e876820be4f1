import { watch } from 'node:fs'
import path from 'node:path'
import picomatch from 'picomatch'
import type { IndexReport } from '../ingest/indexer.js'
import { RagtuneError } from '../errors.js'

export interface WatchIndexOptions {
  root: string
  /** One change-detecting index run (indexFolder): only added, changed and deleted files are touched. */
  reindex: (signal: AbortSignal) => Promise<IndexReport>
  /** Paths (relative to root, forward slashes) whose changes never start a run: docs.exclude, the data folder. */
  ignore: (relPath: string) => boolean
  /** Quiet time after the last change before a run starts; default 300 ms (an editor's save is several events). */
  debounceMs?: number
  /** Stops watching; resolves once the run in progress has ended. */
  signal: AbortSignal
  onReport?: (report: IndexReport) => void
  /** A failed run is reported and watching goes on (the next change tries again). */
  onError?: (err: unknown) => void
}

/**
 * `ragtune index --watch`: re-indexes when files under `root` change. Events are coalesced (debounce)
 * and never start a second run beside the running one: changes during a run start one more run when
 * it ends. The run itself is the indexer's hash-based change detection, so an event storm over
 * unchanged files costs hashing, never embedding. Resolves when `signal` aborts; rejects when the
 * folder cannot be watched any more (deleted, unmounted).
 */
export function watchIndex(opts: WatchIndexOptions): Promise<void> {
  const debounceMs = opts.debounceMs ?? 300
  const runs = new AbortController()
  let timer: ReturnType<typeof setTimeout> | null = null
  let running: Promise<void> | null = null
  let dirty = false

  const runOnce = async (): Promise<void> => {
    do {
      dirty = false
      try {
        opts.onReport?.(await opts.reindex(runs.signal))
      } catch (err) {
        if (runs.signal.aborted) return
        opts.onError?.(err)
      }
    } while (dirty && !runs.signal.aborted)
  }
  const trigger = (): void => {
    timer = null
    if (running) return void (dirty = true)
    running = runOnce().finally(() => (running = null))
  }

  return new Promise<void>((resolve, reject) => {
    let watcher: ReturnType<typeof watch>
    const stop = async (err?: unknown): Promise<void> => {
      opts.signal.removeEventListener('abort', onAbort)
      watcher?.close()
      if (timer) clearTimeout(timer)
      runs.abort(opts.signal.reason)
      await running
      if (err) reject(err)
      else resolve()
    }
    const onAbort = (): void => void stop()
    try {
      watcher = watch(opts.root, { recursive: true }, (_event, filename) => {
        const rel = filename === null ? null : filename.toString().split('\\').join('/')
        if (rel !== null && opts.ignore(rel)) return
        if (timer) clearTimeout(timer)
        timer = setTimeout(trigger, debounceMs)
      })
    } catch (cause) {
      reject(new RagtuneError('WATCH_FAILED', `cannot watch ${opts.root}: ${(cause as Error).message}`, { cause, hint: 'check that the folder exists and is readable' }))
      return
    }
    watcher.on('error', (cause) => {
      void stop(new RagtuneError('WATCH_FAILED', `stopped watching ${opts.root}: ${cause.message}`, { cause, hint: 'the folder was removed or unmounted; start `ragtune index --watch` again' }))
    })
    if (opts.signal.aborted) void stop()
    else opts.signal.addEventListener('abort', onAbort)
  })
}

/**
 * Which changed paths `index --watch` ignores: those docs.exclude leaves out (a folder counts when
 * everything in it is excluded) and the data folder when it lies inside the indexed one, whose
 * database writes would otherwise start a run after every run.
 */
export function watchIgnore(opts: { root: string; exclude: string[]; dataDir: string }): (relPath: string) => boolean {
  const excluded = picomatch(opts.exclude, { dot: true })
  const data = path.relative(path.resolve(opts.root), path.resolve(opts.dataDir)).split(path.sep).join('/')
  const inside = data !== '' && !data.startsWith('..') && !path.isAbsolute(data)
  return (rel) => (inside && (rel === data || rel.startsWith(`${data}/`))) || excluded(rel) || excluded(`${rel}/_`)
}
