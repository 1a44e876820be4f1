/** One row: B's gain over A (positive = better) with its confidence interval. */
export interface ForestRow {
  label: string
  mean: number
  low: number
  high: number
  verdict: 'better' | 'worse' | 'same'
  regression: boolean
  note?: string
}

const ROW = 30
const TOP = 8
const LABEL = 170
const PLOT = 360
const NOTE = 170
const WIDTH = LABEL + PLOT + NOTE

/**
 * A per-category A/B chart: a dot at the mean gain and whiskers over its paired-bootstrap interval,
 * against zero and the shaded regression tolerance. The same reading as the report.svg of `ragtune
 * eval compare`: a whisker wholly right of zero is a real gain, one reaching into the band a
 * possible regression.
 */
export function ForestChart({ title, rows, tolerance }: { title: string; rows: ForestRow[]; tolerance: number }) {
  const extent = Math.max(0.05, tolerance * 1.5, ...rows.flatMap((r) => [Math.abs(r.low), Math.abs(r.high)])) * 1.1
  const x = (v: number): number => LABEL + ((v + extent) / (2 * extent)) * PLOT
  const bottom = TOP + rows.length * ROW
  const height = bottom + 26
  return (
    <figure className="chart forest">
      <figcaption>{title}</figcaption>
      <svg role="img" aria-label={title} viewBox={`0 0 ${WIDTH} ${height}`} width="100%" style={{ maxWidth: WIDTH }}>
        {rows.map((_r, i) => (i % 2 === 1 ? <rect key={`s${i}`} x={0} y={TOP + i * ROW} width={WIDTH} height={ROW} className="stripe" /> : null))}
        {tolerance > 0 && <rect x={x(-extent)} y={TOP} width={x(-tolerance) - x(-extent)} height={bottom - TOP} className="tolerance" />}
        <line x1={x(0)} x2={x(0)} y1={TOP} y2={bottom} className="zero" />
        {rows.map((r, i) => {
          const y = TOP + i * ROW + ROW / 2
          const tone = r.regression ? 'worse' : r.verdict
          return (
            <g key={r.label} className={`ci ${tone}`}>
              <title>{`${r.label}: gain ${signed(r.mean)} [${signed(r.low)}, ${signed(r.high)}] ${r.regression ? 'regression' : r.verdict}`}</title>
              <text x={LABEL - 8} y={y} textAnchor="end" dominantBaseline="middle" fontWeight={i === 0 ? 600 : 400}>
                {r.label}
              </text>
              <line x1={x(r.low)} x2={x(r.high)} y1={y} y2={y} className="whisker" />
              <line x1={x(r.low)} x2={x(r.low)} y1={y - 6} y2={y + 6} className="whisker" />
              <line x1={x(r.high)} x2={x(r.high)} y1={y - 6} y2={y + 6} className="whisker" />
              <circle cx={x(r.mean)} cy={y} r={5} className="dot" />
              <text x={LABEL + PLOT + 10} y={y} dominantBaseline="middle" className="note">
                {r.note ?? signed(r.mean)}
                {r.regression ? ' · regression' : ''}
              </text>
            </g>
          )
        })}
        {[-extent / 1.1, 0, extent / 1.1].map((v) => (
          <text key={v} x={x(v)} y={bottom + 16} textAnchor="middle" className="axis">
            {signed(v)}
          </text>
        ))}
      </svg>
    </figure>
  )
}

function signed(v: number): string {
  return `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v).toFixed(3)}`
}
