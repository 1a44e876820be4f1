import type { FailureReport } from '../types'

const HEIGHT = 120
const BAR = 18
const GAP = 6
const LEFT = 8

/**
 * Queries per day or week (grey) and, over them, the queries with at least one finding in the
 * worst bucket's category set (red): whether things got worse after a change shows at a glance.
 */
export function TrendChart({ trend }: { trend: FailureReport['trend'] }) {
  const buckets = trend.buckets.slice(-40)
  if (buckets.length === 0) return null
  const max = Math.max(1, ...buckets.map((b) => b.queries))
  const width = LEFT * 2 + buckets.length * (BAR + GAP)
  const h = (n: number): number => (n / max) * (HEIGHT - 30)
  return (
    <figure className="chart">
      <figcaption>Queries per {trend.bucket} (red: with a failure of the most frequent category)</figcaption>
      <svg role="img" aria-label={`queries per ${trend.bucket}`} viewBox={`0 0 ${Math.max(width, 200)} ${HEIGHT}`} width="100%" style={{ maxWidth: Math.max(width, 200) }}>
        {buckets.map((b, i) => {
          const x = LEFT + i * (BAR + GAP)
          const failing = Math.max(0, ...Object.values(b.failures))
          return (
            <g key={b.start}>
              <title>{`${b.start.slice(0, 10)}: ${b.queries} queries, ${failing} failing`}</title>
              <rect x={x} y={HEIGHT - 20 - h(b.queries)} width={BAR} height={h(b.queries)} className="trend-all" />
              <rect x={x} y={HEIGHT - 20 - h(failing)} width={BAR} height={h(failing)} className="trend-fail" />
            </g>
          )
        })}
        <text x={LEFT} y={HEIGHT - 5} className="axis">
          {buckets[0]!.start.slice(0, 10)}
        </text>
        <text x={width - LEFT} y={HEIGHT - 5} textAnchor="end" className="axis">
          {buckets[buckets.length - 1]!.start.slice(0, 10)}
        </text>
      </svg>
    </figure>
  )
}
