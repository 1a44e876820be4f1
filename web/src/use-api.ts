import { useCallback, useEffect, useState, useSyncExternalStore } from 'react'
import { getApiKey, subscribeApiKey } from './api-key'
import { ApiError, apiFetch } from './api'

export interface Loadable<T> {
  data: T | null
  error: ApiError | null
  loading: boolean
  reload(): void
}

/** The current API key as React state: views that read data refetch when it changes. */
export function useApiKey(): string {
  return useSyncExternalStore(subscribeApiKey, getApiKey)
}

/**
 * GETs `path` (null: nothing yet) and refetches when the path, the key or `reload()` changes it;
 * a superseded request is aborted so a slow old answer never overwrites a newer one.
 */
export function useApi<T>(path: string | null): Loadable<T> {
  const key = useApiKey()
  const [tick, setTick] = useState(0)
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({ data: null, error: null, loading: path !== null })
  useEffect(() => {
    if (path === null) return
    const ctrl = new AbortController()
    setState((s) => ({ ...s, loading: true, error: null }))
    apiFetch<T>(path, { signal: ctrl.signal }).then(
      (data) => setState({ data, error: null, loading: false }),
      (err: unknown) => {
        if (ctrl.signal.aborted) return
        setState({ data: null, error: err instanceof ApiError ? err : new ApiError(0, 'client', String(err)), loading: false })
      },
    )
    return () => ctrl.abort()
  }, [path, key, tick])
  const reload = useCallback(() => setTick((t) => t + 1), [])
  return { ...state, reload }
}
