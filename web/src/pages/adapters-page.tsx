import { AdminAction } from '../components/admin-action'
import { Async, Empty } from '../components/state-views'
import { navigate } from '../router'
import type { AdapterList } from '../types'
import { useApi } from '../use-api'

/**
 * The adapter registry (GET /v1/adapters): what is served, every version with its lineage, and a
 * rollback to the previous adapter. Open an adapter for its A/B comparison and promotion.
 */
export function AdaptersPage() {
  const state = useApi<AdapterList>('/v1/adapters')
  return (
    <section>
      <h1>Adapters</h1>
      <Async state={state} what="adapters">
        {(list) => (
          <>
            <p className="meta">
              Serving <strong>{list.serving.model}</strong>
              {list.serving.adapter ? (
                <>
                  {' '}
                  + <strong>{list.serving.adapter}</strong>
                </>
              ) : (
                ' without an adapter'
              )}
              {list.active === null && ' · no adapter promoted yet (the config decides)'}
            </p>
            {list.data.length <= 1 ? (
              <Empty>No adapters registered: `ragtune train --register` or `ragtune adapter add &lt;name&gt; &lt;file.gguf&gt;`.</Empty>
            ) : (
              <table className="table clickable" aria-label="Adapters">
                <thead>
                  <tr>
                    <th>name</th>
                    <th>status</th>
                    <th>id</th>
                    <th>dataset</th>
                    <th>parent</th>
                    <th>created (UTC)</th>
                    <th>activated (UTC)</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.map((a) => (
                    <tr key={a.name} onClick={() => navigate(`/adapters/${encodeURIComponent(a.name)}`)} tabIndex={0} onKeyDown={(k) => k.key === 'Enter' && navigate(`/adapters/${encodeURIComponent(a.name)}`)}>
                      <td>{a.name}</td>
                      <td>
                        <span className={`badge ${a.status === 'active' ? 'good' : 'neutral'}`}>{a.status}</span>
                      </td>
                      <td>
                        <code>{a.id ?? '–'}</code>
                      </td>
                      <td>{a.datasetVersion ?? '–'}</td>
                      <td>{a.parent ?? '–'}</td>
                      <td className="nowrap">{a.createdAt.slice(0, 19).replace('T', ' ')}</td>
                      <td className="nowrap">{a.activatedAt?.slice(0, 19).replace('T', ' ') ?? '–'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {list.active !== null && <AdminAction label="Roll back" path="/v1/adapters/rollback" onDone={state.reload} />}
          </>
        )}
      </Async>
    </section>
  )
}
