import { describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import { parseSince } from './since.js'

const NOW = new Date('2025-03-15T12:00:00.000Z')
const iso = (text: string): string => parseSince(text, NOW).toISOString()

describe('parseSince', () => {
  it('reads ages back from now', () => {
    expect(iso('30m')).toBe('2025-03-15T11:30:00.000Z')
    expect(iso('12h')).toBe('2025-03-15T00:00:00.000Z')
    expect(iso('14d')).toBe('2025-03-01T12:00:00.000Z')
    expect(iso('2w')).toBe('2025-03-01T12:00:00.000Z')
    expect(iso('90s')).toBe('2025-03-15T11:58:30.000Z')
    expect(iso(' 2D ')).toBe('2025-03-13T12:00:00.000Z')
    expect(iso('0h')).toBe(NOW.toISOString())
  })

  it('reads ISO dates and date-times', () => {
    expect(iso('2025-01-31')).toBe('2025-01-31T00:00:00.000Z')
    expect(iso('2025-01-31T08:00Z')).toBe('2025-01-31T08:00:00.000Z')
    expect(iso('2025-01-31T08:00:05.250Z')).toBe('2025-01-31T08:00:05.250Z')
    expect(iso('2025-01-31T10:00:00+02:00')).toBe('2025-01-31T08:00:00.000Z')
    expect(iso('2025-01-31 08:00Z')).toBe('2025-01-31T08:00:00.000Z')
  })

  it('refuses anything else with a USAGE error naming both forms', () => {
    for (const bad of ['', 'yesterday', '2 days', '-3d', '1.5h', '10y', '2025-13-01', '2025-02-30x', 'd']) {
      const err = (() => {
        try {
          return parseSince(bad, NOW)
        } catch (e) {
          return e
        }
      })()
      expect(err, bad).toBeInstanceOf(RagtuneError)
      expect((err as RagtuneError).code).toBe('USAGE')
      expect((err as Error).message).toMatch(/30m, 12h or 14d.*ISO date/)
    }
  })
})
