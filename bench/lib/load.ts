import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'

/** Busy and total CPU time of the whole machine from /proc/stat, in ms; null off Linux. */
function machineCpu(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields
    const tick = 10 // USER_HZ is 100 on every Linux Node supports
    return { busy: (user + nice + system + irq + softirq + steal) * tick, total: (user + nice + system + idle + iowait + irq + softirq + steal) * tick }
  } catch {
    return null
  }
}

/**
 * Starts watching how much of the machine OTHER processes use; the returned function gives that
 * share (0..100% of all cores) since the start. On a shared machine this says which runs were
 * disturbed; NaN where /proc/stat is missing.
 */
export function watchForeignLoad(): () => number {
  const m0 = machineCpu()
  const p0 = process.cpuUsage()
  const t0 = performance.now()
  return () => {
    const m1 = machineCpu()
    if (!m0 || !m1) return NaN
    const own = process.cpuUsage(p0)
    const wall = (performance.now() - t0) * cpus().length
    return Math.max(0, (100 * (m1.busy - m0.busy - (own.user + own.system) / 1000)) / wall)
  }
}
