import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { JobOwner, JobRunRecord } from '../spec/job-run.js'

/** This process as the owner of the runs it starts; the token tells it apart from an earlier process with the same pid. */
const SELF: JobOwner = { pid: process.pid, hostname: hostname(), token: randomUUID() }

export function processOwner(): JobOwner {
  return SELF
}

/**
 * Why a `running` row can no longer be running, or null when it may be. On this host the owner's
 * pid tells (gone, or reused by this very process after a restart, as containers do); a row from
 * another host can only be judged by its heartbeat, which the owner refreshes every few seconds
 * while the run is alive. `staleAfterMs` must be well above the heartbeat interval.
 */
export function staleReason(run: JobRunRecord, opts: { self: JobOwner; now: Date; staleAfterMs: number }): string | null {
  const quietMs = opts.now.getTime() - Date.parse(run.heartbeatAt)
  const { owner } = run
  if (owner.hostname === opts.self.hostname) {
    if (owner.pid === opts.self.pid && owner.token !== opts.self.token) return `its owner (pid ${owner.pid}) is an earlier process that had this process's pid`
    if (owner.pid !== opts.self.pid && !isAlive(owner.pid)) return `its owner, process ${owner.pid} on this host, is gone`
  }
  if (quietMs > opts.staleAfterMs) return `no heartbeat from process ${owner.pid} on ${owner.hostname} for ${Math.round(quietMs / 1000)} s (limit ${Math.round(opts.staleAfterMs / 1000)} s)`
  return null
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
