import { RagtuneError } from '../errors.js'

/**
 * A parsed 5-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC.
 * UTC on purpose: a local-time schedule skips or repeats runs when daylight saving time shifts the
 * clock, and servers rarely agree on their zone. `0 3 * * *` means 03:00 UTC every day, all year.
 */
export interface CronSchedule {
  /** The expression as given (trimmed). */
  readonly source: string
  readonly minutes: ReadonlySet<number>
  readonly hours: ReadonlySet<number>
  readonly daysOfMonth: ReadonlySet<number>
  readonly months: ReadonlySet<number>
  /** 0 = Sunday … 6 = Saturday (7 is accepted in the text and stored as 0). */
  readonly daysOfWeek: ReadonlySet<number>
  /** Vixie cron's rule: when both day fields are restricted, a day matches if EITHER matches. */
  readonly dayOr: boolean
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
}
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']

interface FieldSpec {
  name: string
  min: number
  max: number
  names?: string[]
  /** Value of names[0] (JAN = 1, SUN = 0). */
  nameBase?: number
}
const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAY_NAMES, nameBase: 0 },
]

const HELP = 'five fields "minute hour day-of-month month day-of-week" in UTC, e.g. "0 3 * * *" (03:00 daily), "*/15 * * * *", "0 9 * * MON-FRI", or @hourly / @daily / @weekly / @monthly / @yearly'

/** Parses a cron expression; a malformed one is CRON_INVALID naming the field and the expected form. */
export function parseCron(expression: string): CronSchedule {
  const source = expression.trim()
  const text = MACROS[source.toLowerCase()] ?? source
  const parts = text.split(/\s+/).filter(Boolean)
  if (parts.length !== 5) throw invalid(source, `expected 5 fields, got ${parts.length}`)
  const sets = parts.map((p, i) => parseField(p, FIELDS[i]!, source))
  const dow = new Set([...sets[4]!].map((d) => d % 7))
  const schedule: CronSchedule = {
    source, minutes: sets[0]!, hours: sets[1]!, daysOfMonth: sets[2]!, months: sets[3]!, daysOfWeek: dow,
    dayOr: !parts[2]!.startsWith('*') && !parts[4]!.startsWith('*'),
  }
  // "0 0 30 2 *" parses but never fires; a leap day fires at least once in any 8 years.
  if (nextCronTime(schedule, new Date(Date.UTC(2000, 0, 1))) === null) throw invalid(source, 'it matches no date at all (e.g. February 30)')
  return schedule
}

function parseField(text: string, spec: FieldSpec, source: string): Set<number> {
  const out = new Set<number>()
  for (const item of text.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(item)
    if (!m) throw invalid(source, `${spec.name} "${item}" is not a value, range, list or step`)
    const step = m[2] === undefined ? 1 : Number(m[2])
    if (step < 1) throw invalid(source, `${spec.name} step must be at least 1, got ${m[2]}`)
    let lo: number
    let hi: number
    if (m[1] === '*') [lo, hi] = [spec.min, spec.max === 7 ? 6 : spec.max]
    else {
      const [a, b] = m[1]!.split('-')
      lo = value(a!, spec, source)
      // "5/15" means from 5 to the end, as in Vixie cron.
      hi = b !== undefined ? value(b, spec, source) : m[2] !== undefined ? spec.max : lo
      if (hi < lo) throw invalid(source, `${spec.name} range ${m[1]} runs backwards`)
    }
    for (let v = lo; v <= hi; v += step) out.add(v)
  }
  return out
}

function value(text: string, spec: FieldSpec, source: string): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1
  const n = named >= 0 ? named + spec.nameBase! : /^\d+$/.test(text) ? Number(text) : NaN
  if (!(n >= spec.min && n <= spec.max)) throw invalid(source, `${spec.name} expects ${spec.min}-${spec.max}${spec.names ? ` or a name (${spec.names.slice(0, 3).join(', ')}…)` : ''}, got "${text}"`)
  return n
}

function invalid(source: string, why: string): RagtuneError {
  return new RagtuneError('CRON_INVALID', `invalid cron expression "${source}": ${why}`, { details: { expression: source }, hint: `write ${HELP}` })
}

const MINUTE = 60_000
/** Far enough to cover the 8-year gap between leap days; past it an expression never fires. */
const SEARCH_YEARS = 9

function dayMatches(c: CronSchedule, d: Date): boolean {
  const dom = c.daysOfMonth.has(d.getUTCDate())
  const dow = c.daysOfWeek.has(d.getUTCDay())
  return c.dayOr ? dom || dow : dom && dow
}

/** The first time strictly after `after` (whole UTC minutes) that the schedule fires, or null when none within 9 years. */
export function nextCronTime(c: CronSchedule, after: Date): Date | null {
  let t = Math.floor(after.getTime() / MINUTE) * MINUTE + MINUTE
  const limit = after.getTime() + SEARCH_YEARS * 366 * 24 * 60 * MINUTE
  while (t <= limit) {
    const d = new Date(t)
    const [y, mo, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()]
    if (!c.months.has(mo + 1)) t = Date.UTC(y, mo + 1, 1)
    else if (!dayMatches(c, d)) t = Date.UTC(y, mo, day + 1)
    else if (!c.hours.has(h)) t = Date.UTC(y, mo, day, h + 1)
    else if (!c.minutes.has(d.getUTCMinutes())) t += MINUTE
    else return d
  }
  return null
}

/** The last time at or before `at` (whole UTC minutes) that the schedule fired, or null when none within 9 years. */
export function previousCronTime(c: CronSchedule, at: Date): Date | null {
  let t = Math.floor(at.getTime() / MINUTE) * MINUTE
  const limit = at.getTime() - SEARCH_YEARS * 366 * 24 * 60 * MINUTE
  while (t >= limit) {
    const d = new Date(t)
    const [y, mo, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()]
    // Step back to the last minute of the previous month / day / hour.
    if (!c.months.has(mo + 1)) t = Date.UTC(y, mo, 1) - MINUTE
    else if (!dayMatches(c, d)) t = Date.UTC(y, mo, day) - MINUTE
    else if (!c.hours.has(h)) t = Date.UTC(y, mo, day, h) - MINUTE
    else if (!c.minutes.has(d.getUTCMinutes())) t -= MINUTE
    else return d
  }
  return null
}
