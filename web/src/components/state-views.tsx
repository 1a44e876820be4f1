import type { ReactNode } from 'react'
import type { ApiError } from '../api'
import type { Loadable } from '../use-api'

/** Every view shows the same three non-data states, so an empty log never looks like a broken one. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status">
      Loading {what}…
    </p>
  )
}

export function ErrorNotice({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  const hint = error.status === 401 ? ' Enter an API key above (ragtune keys create <name>).' : ''
  return (
    <div className="state error" role="alert">
      <strong>{error.status ? `${error.status} ${error.code}` : error.code}:</strong> {error.message}
      {hint}
      {onRetry && (
        <button type="button" className="link" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  )
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>
}

/** Loading, then the error or `render(data)`. */
export function Async<T>({ state, what, children }: { state: Loadable<T>; what: string; children: (data: T) => ReactNode }) {
  if (state.error) return <ErrorNotice error={state.error} onRetry={state.reload} />
  if (state.data === null) return <Loading what={what} />
  return <>{children(state.data)}</>
}
