/**
 * The API key, entered once and kept in this browser's localStorage so a reload keeps the session.
 * Components subscribe (useSyncExternalStore) so every view refetches when the key changes.
 */
const STORAGE_KEY = 'ragtune.apiKey'
const listeners = new Set<() => void>()

export function getApiKey(): string {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? ''
  } catch {
    return ''
  }
}

/** Stores the key (an empty one forgets it) and tells every subscriber. */
export function setApiKey(key: string): void {
  const k = key.trim()
  if (k) localStorage.setItem(STORAGE_KEY, k)
  else localStorage.removeItem(STORAGE_KEY)
  for (const l of listeners) l()
}

export function subscribeApiKey(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}
