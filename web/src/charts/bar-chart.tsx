/** One bar: a rate in 0..1 (or any value up to `max`). */
export interface Bar {
  label: string
  value: number
  note?: string
  tone?: 'bad' | 'warn' | 'neutral'
}

const ROW = 28
const LABEL = 170
const PLOT = 340
const NOTE = 150
const WIDTH = LABEL + PLOT + NOTE

/**
 * Horizontal bars, hand-written SVG (like src/eval/report-svg.ts): a handful of categories needs no
 * charting library, and the markup stays readable by tests and screen readers (each bar has a title).
 */
export function BarChart({ title, bars, max = 1, format = pct }: { title: string; bars: Bar[]; max?: number; format?: (v: number) => string }) {
  const height = bars.length * ROW + 8
  const scale = (v: number): number => (max > 0 ? Math.max(0, Math.min(1, v / max)) * PLOT : 0)
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg role="img" aria-label={title} viewBox={`0 0 ${WIDTH} ${height}`} width="100%" style={{ maxWidth: WIDTH }}>
        {bars.map((b, i) => {
          const y = i * ROW + 4
          return (
            <g key={b.label} className={`bar ${b.tone ?? 'neutral'}`}>
              <title>{`${b.label}: ${format(b.value)}${b.note ? ` (${b.note})` : ''}`}</title>
              <text x={LABEL - 8} y={y + ROW / 2 + 1} textAnchor="end" dominantBaseline="middle">
                {b.label}
              </text>
              <rect x={LABEL} y={y + 4} width={PLOT} height={ROW - 10} className="track" />
              <rect x={LABEL} y={y + 4} width={Math.max(1, scale(b.value))} height={ROW - 10} className="fill" />
              <text x={LABEL + PLOT + 8} y={y + ROW / 2 + 1} dominantBaseline="middle" className="note">
                {format(b.value)}
                {b.note ? ` · ${b.note}` : ''}
              </text>
            </g>
          )
        })}
      </svg>
    </figure>
  )
}

export function pct(v: number): string {
  return `${(v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0)}%`
}
