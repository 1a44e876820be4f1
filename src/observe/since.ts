import { RagtuneError } from '../errors.js'

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/**
 * Reads a point in time the way people type it after `--since`: an age (`30m`, `12h`, `14d`, `2w`,
 * `90s`, counted back from `now`) or an ISO 8601 date or date-time (`2025-01-31`, UTC when no zone
 * is given for a date alone, as `Date.parse` does). One function so the CLI, the server and retention
 * agree on what "2d" means. Anything else is a USAGE error naming both accepted forms.
 */
export function parseSince(text: string, now: Date = new Date()): Date {
  const s = text.trim()
  const age = /^(\d+)\s*([smhdw])$/i.exec(s)
  if (age) return new Date(now.getTime() - Number(age[1]) * UNIT_MS[age[2]!.toLowerCase()]!)
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(s)) {
    const ms = Date.parse(s.replace(' ', 'T'))
    if (!Number.isNaN(ms)) return new Date(ms)
  }
  throw new RagtuneError('USAGE', `expected an age like 30m, 12h or 14d, or an ISO date like 2025-01-31 or 2025-01-31T08:00Z, got "${text}"`, {
    details: { value: text },
    hint: 'units: s, m (minutes), h, d, w',
  })
}
