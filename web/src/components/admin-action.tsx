import { useState, type FormEvent, type ReactNode } from 'react'
import { ApiError, apiFetch } from '../api'
import { SERVING_CHANGED } from '../serving-changed'
import { ErrorNotice } from './state-views'

/**
 * A registry change (promote, rollback) behind a confirm step with a reason, which the registry
 * records in its history. Needs an admin key: with a query key the server's 403 message is shown.
 * `force` adds the gate override that `ragtune adapter promote --force` offers.
 */
export function AdminAction({ label, path, allowForce = false, onDone, children }: { label: string; path: string; allowForce?: boolean; onDone: (result: unknown) => void; children?: ReactNode }) {
  const [open, setOpen] = useState(false)
  const [reason, setReason] = useState('')
  const [force, setForce] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const body = { ...(reason.trim() ? { reason: reason.trim() } : {}), ...(force ? { force: true } : {}) }
      const result = await apiFetch<unknown>(path, { method: 'POST', body })
      setOpen(false)
      setReason('')
      setForce(false)
      window.dispatchEvent(new Event(SERVING_CHANGED))
      onDone(result)
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)))
    } finally {
      setBusy(false)
    }
  }

  if (!open) {
    return (
      <div className="admin-action">
        <button type="button" onClick={() => setOpen(true)}>
          {label}…
        </button>
        {error && <ErrorNotice error={error} />}
      </div>
    )
  }
  return (
    <form className="admin-action open" onSubmit={(e) => void submit(e)} aria-label={label}>
      {children}
      <label>
        Reason {force ? '(required with force)' : '(recorded in the history)'}
        <input value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      {allowForce && (
        <label className="inline">
          <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> force past the gate
        </label>
      )}
      <div className="row">
        <button type="submit" className="primary" disabled={busy || (force && !reason.trim())}>
          {busy ? 'Working…' : `Confirm ${label.toLowerCase()}`}
        </button>
        <button type="button" className="link" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      {error && <ErrorNotice error={error} />}
    </form>
  )
}
