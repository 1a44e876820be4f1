import { useState, type FormEvent } from 'react'
import { FAILURE_CATEGORIES } from '../../../src/analyze/finding.js'
import { ApiError, apiFetch } from '../api'
import type { Label } from '../types'
import { ErrorNotice } from './state-views'

/**
 * Good / Bad on one logged answer (POST /v1/feedback). "Bad" asks for a category and an optional
 * correction: a correction becomes a training target, a category tells the failure report why.
 */
export function FeedbackButtons({ queryId, onSaved }: { queryId: string; onSaved?: (label: Label) => void }) {
  const [mode, setMode] = useState<'idle' | 'bad'>('idle')
  const [category, setCategory] = useState('')
  const [correction, setCorrection] = useState('')
  const [busy, setBusy] = useState(false)
  const [saved, setSaved] = useState<Label | null>(null)
  const [error, setError] = useState<ApiError | null>(null)

  const send = async (body: Record<string, unknown>): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      const label = await apiFetch<Label>('/v1/feedback', { method: 'POST', body: { queryId, ...body } })
      setSaved(label)
      setMode('idle')
      onSaved?.(label)
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)))
    } finally {
      setBusy(false)
    }
  }
  const sendBad = (e: FormEvent): void => {
    e.preventDefault()
    void send({ rating: 'bad', category: category || null, correction: correction.trim() || null })
  }

  return (
    <div className="feedback">
      <div className="row">
        <span className="muted">Was this answer right?</span>
        <button type="button" disabled={busy} onClick={() => void send({ rating: 'good' })}>
          Good
        </button>
        <button type="button" disabled={busy} onClick={() => setMode(mode === 'bad' ? 'idle' : 'bad')}>
          Bad…
        </button>
        {saved && (
          <span className="saved" role="status">
            Recorded as {saved.rating ?? saved.category ?? 'feedback'}
          </span>
        )}
      </div>
      {mode === 'bad' && (
        <form className="bad-form" onSubmit={sendBad}>
          <label>
            Category
            <select value={category} onChange={(e) => setCategory(e.target.value)}>
              <option value="">(none)</option>
              {FAILURE_CATEGORIES.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
          <label>
            Correction (the right answer, optional)
            <textarea rows={3} value={correction} onChange={(e) => setCorrection(e.target.value)} />
          </label>
          <button type="submit" disabled={busy}>
            Send as bad
          </button>
        </form>
      )}
      {error && <ErrorNotice error={error} />}
    </div>
  )
}
