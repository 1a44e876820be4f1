import { useState } from 'react'
import { queryString } from '../api'
import { ForestChart, type ForestRow } from '../charts/forest-chart'
import type { CompareResponse, Comparison, MetricComparison } from '../types'
import { useApi } from '../use-api'
import { Async } from './state-views'

/**
 * The paired A/B comparison of a candidate against a baseline (GET /v1/eval/compare): the gate's
 * verdict, a per-category chart of one metric with its intervals, and every metric overall.
 */
export function ComparisonPanel({ candidate, initialBaseline, baselines }: { candidate: string; initialBaseline: string; baselines: string[] }) {
  const [baseline, setBaseline] = useState(initialBaseline)
  const [metric, setMetric] = useState<string | null>(null)
  const state = useApi<CompareResponse>(`/v1/eval/compare${queryString({ a: baseline, b: candidate })}`)
  const options = [...new Set(['base', initialBaseline, ...baselines])]
  return (
    <div className="card comparison">
      <label className="inline">
        {candidate} (B) against{' '}
        <select aria-label="Baseline" value={baseline} onChange={(e) => setBaseline(e.target.value)}>
          {options.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>{' '}
        (A)
      </label>
      <Async state={state} what="the comparison">
        {({ comparison, decision }) => {
          const chosen = metric ?? decision?.primary.metric ?? comparison.overall[0]?.metric ?? ''
          return (
            <>
              {decision && (
                <p className={`verdict ${decision.pass ? 'good' : 'bad'}`}>
                  Gate: <strong>{decision.pass ? 'pass' : 'reject'}</strong> on {decision.primary.metric} ({decision.primary.n} pairs)
                  {decision.reasons.map((r) => (
                    <span key={r} className="reason">
                      {r}
                    </span>
                  ))}
                </p>
              )}
              <label className="inline">
                Metric{' '}
                <select aria-label="Metric" value={chosen} onChange={(e) => setMetric(e.target.value)}>
                  {comparison.overall.map((m) => (
                    <option key={m.metric} value={m.metric}>
                      {m.metric}
                    </option>
                  ))}
                </select>
              </label>
              <ForestChart
                title={`${chosen}: gain of ${comparison.b.adapter} over ${comparison.a.adapter} per category, ${Math.round((1 - comparison.options.alpha) * 100)}% interval (set ${comparison.set.name}, ${comparison.pairs} pairs)`}
                rows={rowsFor(comparison, chosen)}
                tolerance={chosen === 'latency_ms' ? 0 : comparison.options.tolerance}
              />
              <OverallTable overall={comparison.overall} />
              {comparison.warnings.map((w) => (
                <p key={w} className="warning">
                  {w}
                </p>
              ))}
            </>
          )
        }}
      </Async>
    </div>
  )
}

/** Overall first, then each category; gains signed so that right of zero is better for every metric. */
function rowsFor(c: Comparison, metric: string): ForestRow[] {
  const rows: ForestRow[] = []
  const overall = c.overall.find((m) => m.metric === metric)
  if (overall) rows.push(row(`all (${overall.n})`, overall))
  for (const cat of c.categories) {
    const m = cat.metrics.find((x) => x.metric === metric)
    if (m) rows.push(row(`${cat.category} (${m.n})`, m))
  }
  return rows
}

function row(label: string, m: MetricComparison): ForestRow {
  const s = m.higherIsBetter ? 1 : -1
  const [low, high] = s > 0 ? [m.diff.low, m.diff.high] : [-m.diff.high, -m.diff.low]
  return { label, mean: s * m.diff.mean, low, high, verdict: m.verdict, regression: m.regression, note: `${fmt(m.a, m.metric)} → ${fmt(m.b, m.metric)}` }
}

function OverallTable({ overall }: { overall: MetricComparison[] }) {
  return (
    <table className="table" aria-label="Metrics overall">
      <thead>
        <tr>
          <th>metric</th>
          <th>A</th>
          <th>B</th>
          <th>B − A [interval]</th>
          <th>p (McNemar)</th>
          <th>verdict</th>
        </tr>
      </thead>
      <tbody>
        {overall.map((m) => (
          <tr key={m.metric}>
            <td>{m.metric}</td>
            <td className="num">{fmt(m.a, m.metric)}</td>
            <td className="num">{fmt(m.b, m.metric)}</td>
            <td className="num">
              {m.diff.mean.toFixed(3)} [{m.diff.low.toFixed(3)}, {m.diff.high.toFixed(3)}]
            </td>
            <td className="num">{m.mcnemar ? m.mcnemar.pValue.toPrecision(2) : '–'}</td>
            <td>
              <span className={`badge ${m.regression || m.verdict === 'worse' ? 'bad' : m.verdict === 'better' ? 'good' : 'neutral'}`}>{m.regression ? 'regression' : m.verdict}</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function fmt(v: number, metric: string): string {
  return metric === 'latency_ms' ? `${v.toFixed(0)} ms` : v.toFixed(3)
}
