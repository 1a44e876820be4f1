import { Async, Empty } from '../components/state-views'
import type { JobRunRecord, ListResponse } from '../types'
import { useApi } from '../use-api'

const TONE: Record<JobRunRecord['outcome'], string> = { ok: 'good', failed: 'bad', skipped: 'neutral', running: 'warn' }

/** The scheduler's runs (GET /v1/jobs), newest first: re-index and retrain, why they ran, how they ended. */
export function JobsPage() {
  const state = useApi<ListResponse<JobRunRecord>>('/v1/jobs')
  return (
    <section>
      <h1>Jobs</h1>
      {/* A server without the scheduler's route answers 404: that is simply no runs. */}
      <Async state={state.error?.status === 404 ? { ...state, error: null, data: { object: 'list', data: [] } } : state} what="scheduler runs">
        {({ data }) =>
          data.length === 0 ? (
            <Empty>No scheduler runs recorded.</Empty>
          ) : (
            <table className="table" aria-label="Jobs">
              <thead>
                <tr>
                  <th>job</th>
                  <th>outcome</th>
                  <th>trigger</th>
                  <th>started (UTC)</th>
                  <th>duration</th>
                  <th>detail</th>
                </tr>
              </thead>
              <tbody>
                {data.map((r) => (
                  <tr key={r.id}>
                    <td>{r.job}</td>
                    <td>
                      <span className={`badge ${TONE[r.outcome]}`}>{r.outcome}</span>
                    </td>
                    <td>{r.trigger}</td>
                    <td className="nowrap">{r.startedAt.slice(0, 19).replace('T', ' ')}</td>
                    <td className="num">{r.finishedAt ? `${((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)} s` : '…'}</td>
                    <td>
                      <code className="truncate">{JSON.stringify(r.detail)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Async>
    </section>
  )
}
