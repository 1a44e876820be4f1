import { describe, expect, it } from 'vitest'
import { formatDuration, formatProgress } from './progress-bar.js'

describe('progress bar text', () => {
  it('shows counts, fields and ETA', () => {
    const line = formatProgress('indexing', { done: 5, total: 10, fields: ['320 chunks', '45.2 chunks/s'], etaSec: 75 }, 10)
    expect(line).toBe('indexing █████░░░░░ 5/10 · 320 chunks · 45.2 chunks/s · ETA 1m15s')
  })
  it('is full for an empty job and says when ETA is unknown', () => {
    expect(formatProgress('x', { done: 0, total: 0, fields: [], etaSec: null }, 4)).toBe('x ████ 0/0 · ETA --')
  })
  it('formats durations', () => {
    expect(formatDuration(0.4)).toBe('0s')
    expect(formatDuration(3725)).toBe('1h02m')
    expect(formatDuration(Infinity)).toBe('--')
  })
})
