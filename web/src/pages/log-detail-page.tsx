import { FeedbackButtons } from '../components/feedback-buttons'
import { LabelBadge } from '../components/label-badge'
import { fromLoggedHit, SourcesList } from '../components/sources-list'
import { Async } from '../components/state-views'
import { Link } from '../router'
import type { LogDetail } from '../types'
import { useApi } from '../use-api'

/** One logged query in full (GET /v1/logs/:id): answer or error, sources with scores, prompt, labels. */
export function LogDetailPage({ id }: { id: string }) {
  const state = useApi<LogDetail>(`/v1/logs/${encodeURIComponent(id)}`)
  return (
    <section>
      <p>
        <Link to="/logs">← Query log</Link>
      </p>
      <Async state={state} what="the log entry">
        {(e) => (
          <article className="card" aria-label="Log entry">
            <h1 className="question">{e.question}</h1>
            <p className="meta">
              {e.time.replace('T', ' ').slice(0, 19)} UTC · {e.model ?? 'no model'}
              {e.adapter ? ` + ${e.adapter}` : ' (base)'} · {Math.round(e.timings.totalMs)} ms
              {e.client ? ` · ${e.client}` : ''} · <code>{e.id}</code>
            </p>
            {e.error ? (
              <p className="state error">
                <strong>{e.error.code}:</strong> {e.error.message}
              </p>
            ) : (
              <p className="answer-text">{e.answer}</p>
            )}
            <h2>Sources</h2>
            <SourcesList sources={(e.retrieval?.hits ?? []).map(fromLoggedHit)} />
            {e.prompt && (
              <details>
                <summary>Prompt ({e.prompt.template ?? 'custom'})</summary>
                {e.prompt.messages.map((m, i) => (
                  <pre key={i} className="prompt">
                    <strong>{m.role}</strong>
                    {'\n'}
                    {m.content}
                  </pre>
                ))}
              </details>
            )}
            <h2>Labels</h2>
            {e.labels.length === 0 ? (
              <p className="state empty">No feedback yet.</p>
            ) : (
              <ul className="labels">
                {e.labels.map((l) => (
                  <li key={l.id}>
                    <LabelBadge label={l} /> <span className="muted">{l.time.slice(0, 19).replace('T', ' ')} · {l.source}{l.author ? ` · ${l.author}` : ''}</span>
                    {l.correction && <div className="correction">{l.correction}</div>}
                  </li>
                ))}
              </ul>
            )}
            <FeedbackButtons queryId={e.id} onSaved={state.reload} />
          </article>
        )}
      </Async>
    </section>
  )
}
