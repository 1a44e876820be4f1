import { describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import { nextCronTime, parseCron, previousCronTime } from './cron.js'

const at = (iso: string): Date => new Date(iso)
const next = (expr: string, from: string): string | undefined => nextCronTime(parseCron(expr), at(from))?.toISOString()
const prev = (expr: string, from: string): string | undefined => previousCronTime(parseCron(expr), at(from))?.toISOString()

/** Every firing in [from, to), by brute force over minutes: the reference the search must agree with. */
function bruteForce(expr: string, from: string, count: number): string[] {
  const c = parseCron(expr)
  const out: string[] = []
  for (let t = Date.parse(from); out.length < count; t += 60_000) {
    const d = new Date(t)
    const dom = c.daysOfMonth.has(d.getUTCDate())
    const dow = c.daysOfWeek.has(d.getUTCDay())
    const day = c.dayOr ? dom || dow : dom && dow
    if (c.minutes.has(d.getUTCMinutes()) && c.hours.has(d.getUTCHours()) && c.months.has(d.getUTCMonth() + 1) && day) out.push(d.toISOString())
  }
  return out
}

describe('parseCron', () => {
  it('reads values, ranges, lists, steps, names and macros', () => {
    const c = parseCron('*/15 1-3,22 1,15 JAN-mar mon-fri')
    expect([...c.minutes]).toEqual([0, 15, 30, 45])
    expect([...c.hours]).toEqual([1, 2, 3, 22])
    expect([...c.daysOfMonth]).toEqual([1, 15])
    expect([...c.months]).toEqual([1, 2, 3])
    expect([...c.daysOfWeek]).toEqual([1, 2, 3, 4, 5])
    expect(c.dayOr).toBe(true)
    expect([...parseCron('0 0 * * 7').daysOfWeek]).toEqual([0])
    expect([...parseCron('5/20 * * * *').minutes]).toEqual([5, 25, 45])
    expect(parseCron('@daily')).toMatchObject({ source: '@daily', dayOr: false })
    expect([...parseCron('@hourly').minutes]).toEqual([0])
  })

  it('rejects malformed expressions with the field and the expected form', () => {
    for (const [expr, why] of [
      ['0 3 * *', /expected 5 fields, got 4/],
      ['60 * * * *', /minute expects 0-59, got "60"/],
      ['0 24 * * *', /hour expects 0-23/],
      ['0 0 0 * *', /day of month expects 1-31/],
      ['0 0 * 13 *', /month expects 1-12 or a name/],
      ['0 0 * * FUN', /day of week expects 0-7/],
      ['*/0 * * * *', /step must be at least 1/],
      ['5-1 * * * *', /runs backwards/],
      ['0 0 30 2 *', /matches no date/],
      ['0 0 ? * *', /is not a value/],
    ] as const) {
      const err = (() => { try { parseCron(expr) } catch (e) { return e } })()
      expect(err, expr).toBeInstanceOf(RagtuneError)
      expect((err as RagtuneError).code).toBe('CRON_INVALID')
      expect((err as RagtuneError).message).toMatch(why)
      expect((err as RagtuneError).message).toMatch(/fix: write five fields/)
    }
  })
})

describe('nextCronTime / previousCronTime (UTC)', () => {
  it('finds the next firing strictly after a time, and the last one at or before it', () => {
    expect(next('0 3 * * *', '2025-03-10T02:59:30Z')).toBe('2025-03-10T03:00:00.000Z')
    expect(next('0 3 * * *', '2025-03-10T03:00:00Z')).toBe('2025-03-11T03:00:00.000Z')
    expect(prev('0 3 * * *', '2025-03-10T03:00:00Z')).toBe('2025-03-10T03:00:00.000Z')
    expect(prev('0 3 * * *', '2025-03-10T02:59:59Z')).toBe('2025-03-09T03:00:00.000Z')
    expect(next('0 * * * *', '2025-12-31T23:30:00Z')).toBe('2026-01-01T00:00:00.000Z')
    expect(prev('30 9 1 * *', '2025-03-01T09:29:00Z')).toBe('2025-02-01T09:30:00.000Z')
  })

  it('has no daylight-saving gaps or repeats: 03:00 UTC fires once a day across the EU and US switches', () => {
    // 2025-03-09 (US) and 2025-03-30 (EU) spring forward, 2025-10-26 / 11-02 fall back, in local time.
    for (const day of ['2025-03-09', '2025-03-30', '2025-10-26', '2025-11-02']) {
      expect(next('0 3 * * *', `${day}T00:00:00Z`)).toBe(`${day}T03:00:00.000Z`)
      expect(next('30 2 * * *', `${day}T00:00:00Z`)).toBe(`${day}T02:30:00.000Z`)
    }
  })

  it('handles leap days, month ends and the either-day rule', () => {
    expect(next('0 0 29 2 *', '2025-01-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z')
    expect(prev('0 0 29 2 *', '2025-01-01T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z')
    expect(next('0 12 31 * *', '2025-04-01T00:00:00Z')).toBe('2025-05-31T12:00:00.000Z')
    // Day 13 OR a Friday (Vixie): 2025-06-06 is a Friday before the 13th.
    expect(next('0 0 13 * 5', '2025-06-01T00:00:00Z')).toBe('2025-06-06T00:00:00.000Z')
    // With day-of-month "*", only the weekday counts.
    expect(next('0 0 * * 1', '2025-06-01T00:00:00Z')).toBe('2025-06-02T00:00:00.000Z')
  })

  it('agrees with a brute-force minute scan', () => {
    for (const expr of ['*/7 */5 * * *', '15 4,16 1-7 * 1', '0 0 * 2,8 SUN', '59 23 28-31 * *', '@weekly']) {
      const want = bruteForce(expr, '2024-01-30T00:00:00Z', 12)
      const got: string[] = []
      let t = at('2024-01-29T23:59:59Z')
      for (let i = 0; i < 12; i++) {
        t = nextCronTime(parseCron(expr), t)!
        got.push(t.toISOString())
      }
      expect(got, expr).toEqual(want)
      // And backwards from the last one, each step lands on the one before.
      for (let i = want.length - 1; i > 0; i--) {
        expect(previousCronTime(parseCron(expr), new Date(Date.parse(want[i]!) - 1))?.toISOString(), expr).toBe(want[i - 1])
      }
    }
  })
})
