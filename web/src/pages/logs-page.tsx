import { useEffect, useState, type FormEvent } from 'react'
import { ApiError, apiFetch, queryString } from '../api'
import { LabelBadge } from '../components/label-badge'
import { Empty, ErrorNotice, Loading } from '../components/state-views'
import { navigate } from '../router'
import { useApiKey } from '../use-api'
import type { ListResponse, LogListEntry } from '../types'

interface Filters {
  since: string
  status: string
  rating: string
  adapter: string
  q: string
}
const NO_FILTERS: Filters = { since: '', status: '', rating: '', adapter: '', q: '' }
type Page = ListResponse<LogListEntry> & { next: string | null }

/**
 * The query log, newest first (GET /v1/logs): filter by age, outcome, rating, adapter and question
 * text; open an entry to see its sources and prompt and to give feedback.
 */
export function LogsPage() {
  const key = useApiKey()
  const [draft, setDraft] = useState<Filters>(NO_FILTERS)
  const [filters, setFilters] = useState<Filters>(NO_FILTERS)
  const [rows, setRows] = useState<LogListEntry[] | null>(null)
  const [next, setNext] = useState<string | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const [busy, setBusy] = useState(false)

  const load = async (after: string | null, signal?: AbortSignal): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      const page = await apiFetch<Page>(`/v1/logs${queryString({ ...filters, limit: 50, after })}`, { signal })
      setRows((old) => (after && old ? [...old, ...page.data] : page.data))
      setNext(page.next)
    } catch (err) {
      if (signal?.aborted) return
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)))
    } finally {
      if (!signal?.aborted) setBusy(false)
    }
  }
  useEffect(() => {
    const ctrl = new AbortController()
    void load(null, ctrl.signal)
    return () => ctrl.abort()
    // Reloads when the applied filters or the key change; `load` reads the same filters.
  }, [filters, key])

  const set = (k: keyof Filters, v: string, apply = false): void => {
    const d = { ...draft, [k]: v }
    setDraft(d)
    if (apply) setFilters(d)
  }
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    setFilters(draft)
  }
  const filtered = Object.values(filters).some((v) => v !== '')

  return (
    <section>
      <h1>Query log</h1>
      <form className="filters" onSubmit={submit} aria-label="Filters">
        <Select label="Since" value={draft.since} onChange={(v) => set('since', v, true)} options={[['', 'all time'], ['1h', 'last hour'], ['24h', 'last 24 h'], ['7d', 'last 7 days'], ['30d', 'last 30 days']]} />
        <Select label="Outcome" value={draft.status} onChange={(v) => set('status', v, true)} options={[['', 'any'], ['ok', 'answered'], ['error', 'failed']]} />
        <Select label="Rating" value={draft.rating} onChange={(v) => set('rating', v, true)} options={[['', 'any'], ['good', 'good'], ['bad', 'bad'], ['unlabeled', 'not rated']]} />
        <label>
          Adapter
          <input value={draft.adapter} placeholder="name@sha or base" onChange={(e) => set('adapter', e.target.value)} />
        </label>
        <label>
          Question contains
          <input type="search" value={draft.q} onChange={(e) => set('q', e.target.value)} />
        </label>
        <button type="submit">Apply</button>
      </form>
      {error && <ErrorNotice error={error} onRetry={() => void load(null)} />}
      {rows === null && !error && <Loading what="the query log" />}
      {rows !== null && rows.length === 0 && <Empty>{filtered ? 'No queries match these filters.' : 'No queries logged yet: ask one on the Ask page.'}</Empty>}
      {rows !== null && rows.length > 0 && (
        <table className="table clickable" aria-label="Query log">
          <thead>
            <tr>
              <th>time (UTC)</th>
              <th>question</th>
              <th>answer</th>
              <th>adapter</th>
              <th>latency</th>
              <th>label</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id} onClick={() => navigate(`/logs/${e.id}`)} tabIndex={0} onKeyDown={(k) => k.key === 'Enter' && navigate(`/logs/${e.id}`)}>
                <td className="nowrap">{e.time.slice(0, 19).replace('T', ' ')}</td>
                <td>{e.question}</td>
                <td className="truncate">{e.error ? <span className="badge bad">{e.error.code}</span> : e.answer}</td>
                <td className="nowrap">{e.adapter ?? 'base'}</td>
                <td className="nowrap num">{Math.round(e.timings.totalMs)} ms</td>
                <td>
                  <LabelBadge label={e.labels[e.labels.length - 1]} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" disabled={busy} onClick={() => void load(next)}>
          {busy ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  )
}

function Select({ label, value, onChange, options }: { label: string; value: string; onChange: (v: string) => void; options: Array<[string, string]> }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  )
}
