import { AdminAction } from '../components/admin-action'
import { ComparisonPanel } from '../components/comparison-panel'
import { Async, Empty } from '../components/state-views'
import { Link } from '../router'
import type { AdapterDetail, AdapterList } from '../types'
import { useApi } from '../use-api'

/**
 * One adapter (GET /v1/adapters/:name): its record, its eval runs, its A/B comparison against the
 * active adapter (or any other) as a per-category chart, the gate's verdict, promotion, history.
 */
export function AdapterDetailPage({ name }: { name: string }) {
  const state = useApi<AdapterDetail>(`/v1/adapters/${encodeURIComponent(name)}`)
  const list = useApi<AdapterList>('/v1/adapters')
  const reload = (): void => {
    state.reload()
    list.reload()
  }
  return (
    <section>
      <p>
        <Link to="/adapters">← Adapters</Link>
      </p>
      <Async state={state} what="the adapter">
        {({ adapter, evalRuns, history }) => {
          const others = (list.data?.data ?? []).map((a) => a.name).filter((n) => n !== adapter.name)
          const baseline = list.data?.active && list.data.active !== adapter.name ? list.data.active : 'base'
          return (
            <>
              <h1>
                {adapter.name} <span className={`badge ${adapter.status === 'active' ? 'good' : 'neutral'}`}>{adapter.status}</span>
              </h1>
              <p className="meta">
                <code>{adapter.id ?? 'base model'}</code>
                {adapter.datasetVersion && ` · dataset ${adapter.datasetVersion}`}
                {adapter.parent && ` · parent ${adapter.parent}`}
                {adapter.baseModel && ` · base ${adapter.baseModel}`}
              </p>
              <h2>A/B comparison</h2>
              {evalRuns.length === 0 ? (
                <Empty>No eval runs for {adapter.name} yet: `ragtune eval run --adapter {adapter.name} --set heldout.jsonl`.</Empty>
              ) : (
                <ComparisonPanel key={`${adapter.name}:${baseline}`} candidate={adapter.name} initialBaseline={baseline} baselines={others} />
              )}
              {adapter.status !== 'active' && (
                <AdminAction label={`Promote ${adapter.name}`} path={`/v1/adapters/${encodeURIComponent(adapter.name)}/promote`} allowForce onDone={reload} />
              )}
              <h2>Eval runs</h2>
              {evalRuns.length === 0 ? (
                <Empty>None.</Empty>
              ) : (
                <table className="table" aria-label="Eval runs">
                  <thead>
                    <tr>
                      <th>run</th>
                      <th>time (UTC)</th>
                      <th>set</th>
                      <th>examples</th>
                      <th>means</th>
                    </tr>
                  </thead>
                  <tbody>
                    {evalRuns.map((r) => (
                      <tr key={r.id}>
                        <td>
                          <code>{r.id}</code>
                        </td>
                        <td className="nowrap">{r.time.slice(0, 19).replace('T', ' ')}</td>
                        <td>
                          {r.setName} <code>{r.setSha256.slice(0, 8)}</code>
                        </td>
                        <td className="num">{r.examples}</td>
                        <td>
                          {Object.entries(r.summary)
                            .slice(0, 6)
                            .map(([k, v]) => `${k} ${v.toFixed(3)}`)
                            .join(' · ')}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <h2>History</h2>
              <ul className="history">
                {history.map((e) => (
                  <li key={e.id}>
                    <span className="nowrap">{e.time.slice(0, 19).replace('T', ' ')}</span> <strong>{e.action}</strong> {e.adapter}
                    {e.previous ? ` (was ${e.previous})` : ''}
                    {e.forced && <span className="badge warn">forced</span>}
                    {e.reason && <span className="muted"> · {e.reason}</span>}
                  </li>
                ))}
              </ul>
            </>
          )
        }}
      </Async>
    </section>
  )
}
