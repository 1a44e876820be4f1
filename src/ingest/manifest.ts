import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import type { DocumentRecord } from '../spec/store.js'

/** What a re-index must do, from comparing the files on disk with the manifest in the store. */
export interface ManifestDiff {
  added: string[]
  changed: string[]
  deleted: string[]
  unchanged: string[]
}

export interface CurrentFile {
  path: string
  contentHash: string
}

/**
 * Pure comparison by content hash (mtime lies after checkouts and copies). Paths present on disk but
 * skipped this run (`keep`: files, or folders that could not be read) are neither deleted nor
 * re-indexed: their last good version stays.
 */
export function diffManifest(manifest: Pick<DocumentRecord, 'path' | 'contentHash'>[], current: CurrentFile[], keep: Iterable<string> = []): ManifestDiff {
  const known = new Map(manifest.map((d) => [d.path, d.contentHash]))
  const kept = [...keep]
  const seen = new Set<string>(kept)
  const keptFolders = kept.map((k) => k.replace(/\/?$/, '/'))
  const diff: ManifestDiff = { added: [], changed: [], deleted: [], unchanged: [] }
  for (const f of current) {
    seen.add(f.path)
    const old = known.get(f.path)
    if (old === undefined) diff.added.push(f.path)
    else if (old !== f.contentHash) diff.changed.push(f.path)
    else diff.unchanged.push(f.path)
  }
  for (const path of known.keys()) {
    if (!seen.has(path) && !keptFolders.some((f) => path.startsWith(f))) diff.deleted.push(path)
  }
  for (const list of Object.values(diff)) list.sort()
  return diff
}

/** sha256 hex of a file, streamed so large files do not sit in memory twice. */
export async function sha256File(absPath: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(absPath)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
