/**
 * What a key may do. `query`: answer, chat, models, feedback. `admin`: everything `query` may, plus
 * metrics and admin routes. Two levels keep a leaked dashboard key from reading the whole log.
 */
export type ApiKeyScope = 'query' | 'admin'

/**
 * One API key of the HTTP server. Only the key's sha256 is stored: a copy of the database (or a
 * backup) must not let anyone call the server. Revoked keys stay as rows, so `keys list` can say
 * when a name stopped working and the name can be issued again.
 */
export interface ApiKeyRecord {
  /** Time-sortable id (ULID). */
  id: string
  /** Unique among active keys; shown in `keys list` and recorded as the query log's `client`. */
  name: string
  scope: ApiKeyScope
  /** sha256 of the whole key (prefix included), lowercase hex. */
  keyHash: string
  /** ISO 8601, normalised to UTC with millisecond precision. */
  createdAt: string
  /** When it was revoked; null while the key works. */
  revokedAt: string | null
}
