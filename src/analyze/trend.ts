/** Trend buckets of the failure report: UTC days, or ISO weeks starting on Monday. */
export type BucketSize = 'day' | 'week'

export interface TrendBucket {
  /** ISO 8601 start of the bucket (UTC midnight; Mondays for weeks). */
  start: string
  queries: number
  /** Queries with at least one finding, per category. */
  failures: Record<string, number>
}

const DAY = 86_400_000

/** Days for windows up to a month (a daily line is readable there), weeks beyond. */
export function chooseBucket(from: Date, until: Date): BucketSize {
  return until.getTime() - from.getTime() <= 31 * DAY ? 'day' : 'week'
}

export function bucketStart(t: Date, size: BucketSize): Date {
  const day = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate())
  if (size === 'day') return new Date(day)
  const sinceMonday = (new Date(day).getUTCDay() + 6) % 7
  return new Date(day - sinceMonday * DAY)
}

/** Every bucket from `from` to `until`, empty ones included: a quiet day is data too. */
export function emptyBuckets(from: Date, until: Date, size: BucketSize): TrendBucket[] {
  const out: TrendBucket[] = []
  const step = size === 'day' ? DAY : 7 * DAY
  const end = bucketStart(until, size).getTime()
  for (let t = bucketStart(from, size).getTime(); t <= end; t += step) out.push({ start: new Date(t).toISOString(), queries: 0, failures: {} })
  return out
}
