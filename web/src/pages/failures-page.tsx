import { useState } from 'react'
import { queryString } from '../api'
import { BarChart, pct } from '../charts/bar-chart'
import { TrendChart } from '../charts/trend-chart'
import { Async, Empty } from '../components/state-views'
import { Link } from '../router'
import type { CategoryStats, FailureReport } from '../types'
import { useApi } from '../use-api'

/**
 * The failure report of `ragtune analyze` (GET /v1/analyze): failure rates by category, the trend,
 * example queries to read, and which failing categories lack the training examples a LoRA needs.
 */
export function FailuresPage() {
  const [since, setSince] = useState('30d')
  const state = useApi<FailureReport>(`/v1/analyze${queryString({ since })}`)
  return (
    <section>
      <h1>Failures</h1>
      <label className="inline">
        Window{' '}
        <select value={since} onChange={(e) => setSince(e.target.value)}>
          <option value="24h">last 24 h</option>
          <option value="7d">last 7 days</option>
          <option value="30d">last 30 days</option>
          <option value="">all time</option>
        </select>
      </label>
      <Async state={state} what="the failure report">
        {(r) => (r.queries === 0 ? <Empty>No queries in this window: nothing to analyze yet.</Empty> : <Report report={r} />)}
      </Async>
    </section>
  )
}

function Report({ report: r }: { report: FailureReport }) {
  return (
    <>
      <div className="stats">
        <Stat label="queries" value={r.queries} />
        <Stat label="answered" value={r.answered} />
        <Stat label="failing (any error finding)" value={r.failing} note={r.answered ? pct(r.failing / r.answered) : undefined} />
        <Stat label="failed requests" value={r.failedRequests} />
        <Stat label="training examples" value={r.coverage.trainingExamples} />
      </div>
      {r.categories.length === 0 ? (
        <Empty>No failures found by the detectors or labels in this window.</Empty>
      ) : (
        <BarChart
          title="Failure rate by category"
          bars={r.categories.map((c) => ({ label: c.category, value: c.rate, note: `${c.queries} quer${c.queries === 1 ? 'y' : 'ies'}`, tone: c.errors > 0 ? 'bad' : 'warn' }))}
        />
      )}
      <TrendChart trend={r.trend} />
      {r.categories.length > 0 && <CategoryTable categories={r.categories} minExamples={r.coverage.minExamples} />}
      {r.warnings.map((w) => (
        <p key={w} className="warning">
          {w}
        </p>
      ))}
    </>
  )
}

function CategoryTable({ categories, minExamples }: { categories: CategoryStats[]; minExamples: number }) {
  return (
    <table className="table" aria-label="Categories">
      <thead>
        <tr>
          <th>category</th>
          <th>rate</th>
          <th>errors / warnings</th>
          <th>rules</th>
          <th>training examples</th>
          <th>examples</th>
        </tr>
      </thead>
      <tbody>
        {categories.map((c) => (
          <tr key={c.category}>
            <td>{c.category}</td>
            <td className="num">{pct(c.rate)}</td>
            <td className="num">
              {c.errors} / {c.warnings}
            </td>
            <td>
              {Object.entries(c.rules)
                .map(([rule, n]) => `${rule} ×${n}`)
                .join(', ')}
            </td>
            <td className="num">
              {c.trainingExamples}
              {c.lacksExamples && <span className="badge warn" title={`fewer than ${minExamples}: label or correct more answers of this kind`}>lacks examples</span>}
            </td>
            <td>
              {c.exampleQueryIds.map((id) => (
                <Link key={id} to={`/logs/${id}`} className="id-link">
                  {id.slice(-6)}
                </Link>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function Stat({ label, value, note }: { label: string; value: number; note?: string | undefined }) {
  return (
    <div className="stat">
      <div className="stat-value">
        {value}
        {note && <span className="muted"> ({note})</span>}
      </div>
      <div className="stat-label">{label}</div>
    </div>
  )
}
