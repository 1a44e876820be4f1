import type { Comparison, MetricComparison } from './compare.js'

const ROW = 30
const TOP = 64
const LEFT = 210
const PLOT = 360
const RIGHT = 190
const WIDTH = LEFT + PLOT + RIGHT
const COLORS = { better: '#1a7f37', worse: '#cf222e', same: '#57606a', regression: '#cf222e' }

/**
 * A forest plot of one metric, overall and per category: each row is B's gain over A (positive =
 * better, also for lower-is-better metrics) with its interval, against zero and the regression
 * tolerance. Hand-written SVG, so reports need no charting dependency and render anywhere.
 */
export function comparisonSvg(c: Comparison, metric: string): string {
  const rows: Array<{ label: string; m: MetricComparison }> = []
  const overall = c.overall.find((m) => m.metric === metric)
  if (overall) rows.push({ label: `all (${overall.n})`, m: overall })
  for (const cat of c.categories) {
    const m = cat.metrics.find((x) => x.metric === metric)
    if (m) rows.push({ label: `${cat.category} (${m.n})`, m })
  }
  const gains = rows.map(({ m }) => gainOf(m))
  const tolerance = metric === 'latency_ms' ? 0 : c.options.tolerance
  const extent = Math.max(0.05, tolerance * 1.5, ...gains.flatMap((g) => [Math.abs(g.low), Math.abs(g.high)])) * 1.1
  const x = (v: number): number => LEFT + ((v + extent) / (2 * extent)) * PLOT
  const height = TOP + rows.length * ROW + 48
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="600">${esc(`${metric}: ${c.b.adapter} (B) vs ${c.a.adapter} (A)`)}</text>`,
    `<text x="12" y="42" fill="#57606a">${esc(`gain of B over A, ${Math.round((1 - c.options.alpha) * 100)}% paired-bootstrap interval; positive = better; set ${c.set.name}, ${c.pairs} pairs`)}</text>`,
  ]
  const plotTop = TOP - 8
  const plotBottom = TOP + rows.length * ROW
  // Background first (row stripes, the tolerance band, zero), then the rows on top of it.
  rows.forEach((_row, i) => {
    if (i % 2 === 1) out.push(`<rect x="0" y="${TOP + i * ROW}" width="${WIDTH}" height="${ROW}" fill="#f6f8fa"/>`)
  })
  if (tolerance > 0) {
    out.push(`<rect x="${f(LEFT)}" y="${plotTop}" width="${f(x(-tolerance) - LEFT)}" height="${plotBottom - plotTop}" fill="#cf222e" fill-opacity="0.06"/>`)
    out.push(`<line x1="${f(x(-tolerance))}" y1="${plotTop}" x2="${f(x(-tolerance))}" y2="${plotBottom}" stroke="#cf222e" stroke-dasharray="4 3"/>`)
  }
  out.push(`<line x1="${f(x(0))}" y1="${plotTop}" x2="${f(x(0))}" y2="${plotBottom}" stroke="#24292f"/>`)
  rows.forEach(({ label, m }, i) => {
    const y = TOP + i * ROW + ROW / 2
    const g = gains[i]!
    const color = m.regression ? COLORS.regression : COLORS[m.verdict]
    out.push(`<text x="12" y="${y + 4}"${i === 0 ? ' font-weight="600"' : ''}>${esc(label)}</text>`)
    out.push(`<line x1="${f(x(g.low))}" y1="${y}" x2="${f(x(g.high))}" y2="${y}" stroke="${color}" stroke-width="2"/>`)
    out.push(`<circle cx="${f(x(g.mean))}" cy="${y}" r="5" fill="${color}"/>`)
    const note = `${num(m.a, metric)} → ${num(m.b, metric)}${m.regression ? '  regression' : ''}`
    out.push(`<text x="${LEFT + PLOT + 12}" y="${y + 4}" fill="${color}">${esc(note)}</text>`)
  })
  const axisY = plotBottom + 18
  for (const v of [-extent / 1.1, 0, extent / 1.1]) out.push(`<text x="${f(x(v))}" y="${axisY}" text-anchor="middle" fill="#57606a">${esc(signed(v, metric))}</text>`)
  if (tolerance > 0) out.push(`<text x="${f(x(-tolerance))}" y="${axisY + 16}" text-anchor="middle" fill="#cf222e">−tolerance</text>`)
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/** B's gain over A (positive = better) with its interval, flipped for lower-is-better metrics. */
function gainOf(m: MetricComparison): { mean: number; low: number; high: number } {
  return m.higherIsBetter ? { mean: m.diff.mean, low: m.diff.low, high: m.diff.high } : { mean: -m.diff.mean, low: -m.diff.high, high: -m.diff.low }
}

function num(v: number, metric: string): string {
  return metric === 'latency_ms' ? `${v.toFixed(0)} ms` : v.toFixed(3)
}

function signed(v: number, metric: string): string {
  return (v > 0 ? '+' : v < 0 ? '−' : '') + (metric === 'latency_ms' ? Math.abs(v).toFixed(0) : Math.abs(v).toFixed(2))
}

function f(v: number): string {
  return v.toFixed(1)
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
