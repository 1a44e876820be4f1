import { useState, type FormEvent } from 'react'
import { ApiError, apiFetch } from '../api'
import { FeedbackButtons } from '../components/feedback-buttons'
import { SourcesList } from '../components/sources-list'
import { ErrorNotice } from '../components/state-views'
import { Link } from '../router'
import type { AnswerResponse } from '../types'

/**
 * Ask a question the way production does (POST /v1/answer: same retrieval, prompt, adapter and
 * log), see the answer with its numbered sources, and judge it on the spot.
 */
export function AskPage() {
  const [question, setQuestion] = useState('')
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<AnswerResponse | null>(null)
  const [error, setError] = useState<ApiError | null>(null)

  const ask = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (!question.trim()) return
    setBusy(true)
    setError(null)
    setResult(null)
    try {
      setResult(await apiFetch<AnswerResponse>('/v1/answer', { method: 'POST', body: { question } }))
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)))
    } finally {
      setBusy(false)
    }
  }

  return (
    <section>
      <h1>Ask</h1>
      <form className="ask-form" onSubmit={(e) => void ask(e)}>
        <textarea aria-label="Question" rows={3} placeholder="How do I rotate keys?" value={question} onChange={(e) => setQuestion(e.target.value)} />
        <button type="submit" disabled={busy || !question.trim()}>
          {busy ? 'Answering…' : 'Ask'}
        </button>
      </form>
      {busy && (
        <p className="state loading" role="status">
          Retrieving and generating…
        </p>
      )}
      {error && <ErrorNotice error={error} />}
      {result && (
        <article className="card answer" aria-label="Answer">
          <p className="answer-text">{result.answer || <span className="muted">(empty answer)</span>}</p>
          <p className="meta">
            {result.model}
            {result.adapter ? ` + ${result.adapter}` : ' (base)'} · {Math.round(result.timings.totalMs)} ms · {result.usage.completionTokens} tokens ·{' '}
            {result.finishReason} · <Link to={`/logs/${result.queryId}`}>log entry {result.queryId}</Link>
          </p>
          {result.warnings.map((w) => (
            <p key={w} className="warning">
              {w}
            </p>
          ))}
          <h2>Sources</h2>
          <SourcesList sources={result.sources} cited={result.citations} />
          <FeedbackButtons queryId={result.queryId} />
        </article>
      )}
    </section>
  )
}
