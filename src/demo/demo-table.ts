import type { Comparison, MetricComparison } from '../eval/compare.js'
import type { GateDecision } from '../eval/gate.js'

/** What `ragtune eval compare --out` writes as report.json. */
export interface CompareReport {
  comparison: Comparison
  decision: GateDecision | null
}

const signed = (x: number, digits = 3): string => (x > 0 ? '+' : x < 0 ? '−' : '±') + Math.abs(x).toFixed(digits)

/** Latency is in milliseconds, everything else a rate or score in 0..1. */
function value(m: MetricComparison, x: number): string {
  return m.metric === 'latency_ms' ? `${x.toFixed(0)} ms` : x.toFixed(3)
}

function change(m: MetricComparison): string {
  const digits = m.metric === 'latency_ms' ? 0 : 3
  return `${signed(m.diff.mean, digits)} [${signed(m.diff.low, digits)}, ${signed(m.diff.high, digits)}]`
}

/**
 * The before/after table: every metric the paired comparison measured, the gate's primary metric
 * first, each with the base model's mean, the adapter's, the paired difference with its 95%
 * bootstrap interval and the verdict. Rows are plain text, one metric per line.
 */
export function beforeAfterTable(report: CompareReport): string {
  const { comparison: c, decision } = report
  const primary = decision?.primary.metric
  const metrics = [...c.overall].sort((x, y) => Number(y.metric === primary) - Number(x.metric === primary))
  const pct = Math.round((1 - c.options.alpha) * 100)
  const rows = [
    ['metric', `before (${c.a.adapter})`, `after (${c.b.adapter})`, `change [${pct}% CI]`, 'verdict'],
    ...metrics.map((m) => [
      `${m.metric}${m.metric === primary ? ' *' : ''}${m.higherIsBetter ? '' : ' ↓'}`,
      value(m, m.a),
      value(m, m.b),
      change(m),
      m.regression ? 'REGRESSION' : m.verdict,
    ]),
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const lines = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd())
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '))
  return [
    ...lines,
    '',
    `${c.pairs} held-out examples, paired; * = the gate's primary metric; ↓ = lower is better; intervals: paired bootstrap (${c.options.resamples} resamples), McNemar for 0/1 metrics.`,
  ].join('\n')
}
