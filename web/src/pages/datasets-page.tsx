import { Async, Empty } from '../components/state-views'
import type { DatasetVersion, ListResponse } from '../types'
import { useApi } from '../use-api'

/**
 * Stored dataset versions (GET /v1/datasets), newest first: size of each split, content hash, and
 * what the build report says matters before training (leakage, categories lacking examples, warnings).
 */
export function DatasetsPage() {
  const state = useApi<ListResponse<DatasetVersion>>('/v1/datasets')
  return (
    <section>
      <h1>Datasets</h1>
      <Async state={state} what="datasets">
        {({ data }) =>
          data.length === 0 ? (
            <Empty>No dataset versions yet: label answers, then run `ragtune dataset build`.</Empty>
          ) : (
            <table className="table" aria-label="Datasets">
              <thead>
                <tr>
                  <th>dataset</th>
                  <th>created (UTC)</th>
                  <th>train</th>
                  <th>eval</th>
                  <th>hash</th>
                  <th>leakage</th>
                  <th>lacking categories</th>
                  <th>report</th>
                </tr>
              </thead>
              <tbody>
                {data.map((d) => (
                  <DatasetRow key={d.id} d={d} />
                ))}
              </tbody>
            </table>
          )
        }
      </Async>
    </section>
  )
}

function DatasetRow({ d }: { d: DatasetVersion }) {
  const report = d.report as { split?: { leakage?: number }; coverage?: { lacking?: Array<{ category: string; examples: number }> }; warnings?: string[] }
  const leakage = report.split?.leakage
  return (
    <tr>
      <td>
        {d.name ?? <span className="muted">unnamed</span>}
        <div className="muted">
          <code>{d.id}</code>
        </div>
      </td>
      <td className="nowrap">{d.createdAt.slice(0, 19).replace('T', ' ')}</td>
      <td className="num">{d.counts.train}</td>
      <td className="num">{d.counts.eval}</td>
      <td>
        <code title={d.hash}>{d.hash.slice(0, 12)}</code>
      </td>
      <td className="num">{leakage === undefined ? '–' : <span className={`badge ${leakage === 0 ? 'good' : 'bad'}`}>{leakage}</span>}</td>
      <td>{(report.coverage?.lacking ?? []).map((l) => `${l.category} (${l.examples})`).join(', ') || '–'}</td>
      <td>
        <details>
          <summary>{(report.warnings ?? []).length} warning(s)</summary>
          <pre className="json">{JSON.stringify({ report: d.report, lineage: d.lineage }, null, 2)}</pre>
        </details>
      </td>
    </tr>
  )
}
