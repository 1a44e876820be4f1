import type { JobRunRecord } from '../spec/job-run.js'

type Detail = Record<string, unknown>
const obj = (v: unknown): Detail => (v !== null && typeof v === 'object' ? (v as Detail) : {})

/**
 * One line saying what a run did, for `ragtune jobs`: the error of a failed run, why a run was
 * skipped, the counts of a re-index, the dataset, adapter and gate verdict of a retrain.
 */
export function jobSummary(run: JobRunRecord): string {
  const d = run.detail
  if (run.outcome === 'running') return `running (pid ${run.owner.pid} on ${run.owner.hostname}, heartbeat ${run.heartbeatAt.slice(11, 19)})`
  if (run.outcome === 'failed') {
    const e = obj(d.error)
    return `[${String(e.code ?? 'ERROR')}] ${String(e.message ?? 'failed').split('\n')[0]}${produced(d)}`
  }
  if (d.reason === 'already-running') return `another run (${String(d.runningId)}) was running`
  if (d.newLabels !== undefined && d.dataset === undefined) {
    const n = obj(d.newLabels)
    return `${String(n.count)} new labeled example(s), ${String(n.needed)} needed`
  }
  if (run.job === 'reindex' || d.added !== undefined) {
    const skipped = Array.isArray(d.skipped) ? d.skipped.length : 0
    return `${String(d.added)} added, ${String(d.changed)} changed, ${String(d.deleted)} deleted, ${String(d.chunksWritten)} chunk(s) written${skipped ? `, ${skipped} skipped` : ''}`
  }
  if (d.promoted !== undefined) {
    const a = obj(d.adapter)
    if (d.gate === undefined) return `${String(a.name)}, trained on this dataset, is already active`
    const gate = obj(d.gate)
    const primary = obj(gate.primary)
    const verdict = `${String(primary.metric)} ${Number(primary.a).toFixed(3)} → ${Number(primary.b).toFixed(3)}`
    return d.promoted ? `promoted ${String(a.name)} (${verdict})` : `kept ${String(a.name)} as candidate: gate rejected (${verdict})`
  }
  return ''
}

/** What a failed run left behind, so the operator knows what exists (a dataset, an adapter). */
function produced(d: Detail): string {
  const parts: string[] = []
  if (d.dataset) parts.push(`dataset ${String(obj(d.dataset).id)}`)
  if (d.adapter) parts.push(`adapter ${String(obj(d.adapter).name)}`)
  return parts.length ? ` (produced: ${parts.join(', ')})` : ''
}

/** "  reindex  0 3 * * *  next 2025-06-02 03:00" lines (UTC), for `schedule start` and `serve --schedule`. */
export function formatNextRuns(next: Array<{ job: string; cron: string | null; next: Date | null }>): string {
  return next.map((n) => `  ${n.job.padEnd(8)} ${n.cron ?? 'by hand only'}${n.next ? `  next ${n.next.toISOString().slice(0, 16).replace('T', ' ')}` : ''}`).join('\n')
}
