import { useState, type FormEvent } from 'react'
import { setApiKey } from '../api-key'
import { useApiKey } from '../use-api'

/**
 * The API key field of the header: reads need any key, promote and rollback an admin key. The key
 * is shown only by its last characters once saved.
 */
export function KeyForm() {
  const key = useApiKey()
  const [editing, setEditing] = useState(false)
  const [draft, setDraft] = useState('')
  if (key && !editing) {
    return (
      <div className="key-form">
        <span className="muted">key …{key.slice(-4)}</span>
        <button type="button" className="link" onClick={() => setEditing(true)}>
          Change
        </button>
        <button type="button" className="link" onClick={() => setApiKey('')}>
          Forget
        </button>
      </div>
    )
  }
  const save = (e: FormEvent): void => {
    e.preventDefault()
    setApiKey(draft)
    setDraft('')
    setEditing(false)
  }
  return (
    <form className="key-form" onSubmit={save}>
      <input type="password" aria-label="API key" placeholder="API key (rt_…)" value={draft} onChange={(e) => setDraft(e.target.value)} autoComplete="off" />
      <button type="submit" disabled={!draft.trim()}>
        Save key
      </button>
      {editing && (
        <button type="button" className="link" onClick={() => setEditing(false)}>
          Cancel
        </button>
      )}
    </form>
  )
}
