import { randomUUID } from 'node:crypto'
import { link, readFile, unlink, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { RagtuneError } from '../errors.js'

/** File name of the lock inside a store's data directory. */
export const LOCK_FILE = 'ragtune-store.lock'

interface LockInfo {
  pid: number
  hostname: string
  token: string
  since: string
}

/** A held lock; `release` is idempotent and only removes the file while it is still ours. */
export interface DirLock {
  readonly path: string
  release(): Promise<void>
}

/**
 * PGlite runs Postgres single-user inside the process and takes no lock on its data directory: two
 * processes opening one directory would corrupt it. This lock file (pid + host) stops the second,
 * and a lock left by a dead process on this host is taken over instead of blocking forever.
 * `file` names the lock file (other folders than a store's use the same mechanism).
 */
export async function acquireDirLock(dir: string, file = LOCK_FILE): Promise<DirLock> {
  const path = join(dir, file)
  const info: LockInfo = { pid: process.pid, hostname: hostname(), token: randomUUID(), since: new Date().toISOString() }
  // Written aside, then hard-linked into place: the link is atomic and fails if a lock exists, so
  // nobody ever reads a half-written lock file.
  const tmp = `${path}.${info.token}`
  await writeFile(tmp, JSON.stringify(info))
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, path)
        return lockHandle(path, info.token)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const holder = await readLock(path)
      if (attempt === 0 && holder && isStale(holder)) {
        await unlink(path).catch(() => undefined)
        continue
      }
      throw lockedError(path, holder)
    }
  } finally {
    await unlink(tmp).catch(() => undefined)
  }
}

function lockHandle(path: string, token: string): DirLock {
  let released = false
  return {
    path,
    async release() {
      if (released) return
      released = true
      const holder = await readLock(path)
      if (holder?.token === token) await unlink(path).catch(() => undefined)
    },
  }
}

async function readLock(path: string): Promise<LockInfo | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockInfo>
    if (typeof parsed.pid !== 'number' || typeof parsed.hostname !== 'string') return null
    return { pid: parsed.pid, hostname: parsed.hostname, token: String(parsed.token), since: String(parsed.since) }
  } catch {
    return null
  }
}

/** Only a lock from this host can be judged: another host's pid means nothing here. */
function isStale(holder: LockInfo): boolean {
  if (holder.hostname !== hostname()) return false
  try {
    process.kill(holder.pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

function lockedError(path: string, holder: LockInfo | null): RagtuneError {
  const who = holder ? `process ${holder.pid} on ${holder.hostname} (since ${holder.since})` : 'another process'
  return new RagtuneError('STORE_LOCKED', `the store's data directory is in use by ${who}; a second opener would corrupt it`, {
    details: { lockFile: path, holder },
    hint: `stop the other ragtune process, or delete ${path} if you are sure none is running`,
  })
}
