import { RagtuneError } from '../errors.js'
import type { ApiKeyRecord } from '../spec/api-key.js'
import type { SqlExecutor } from './migrations.js'

/*
 * The API key table over any SqlExecutor, shared by the embedded and the server store like the query
 * log. Every user value travels as a bind parameter.
 */

const COLUMNS = 'id, name, scope, key_hash, created_at, revoked_at'

/** DO NOTHING covers every unique index, the partial one on active names included. */
const INSERT_SQL = `
INSERT INTO api_keys (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL)
ON CONFLICT DO NOTHING
RETURNING id`

const REVOKE_SQL = `
UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL
RETURNING ${COLUMNS}`

interface KeyRow {
  id: string
  name: string
  scope: ApiKeyRecord['scope']
  key_hash: string
  created_at: Date | string
  revoked_at: Date | string | null
}

/** The API keys of one database; the owning store checks it is open and migrated first. */
export class ApiKeyTables {
  constructor(private readonly db: SqlExecutor) {}

  async add(key: ApiKeyRecord): Promise<void> {
    check(key)
    const res = await this.db.query<{ id: string }>(INSERT_SQL, [key.id, key.name, key.scope, key.keyHash, iso(key.createdAt, 'createdAt')])
    if (res.rows.length === 0) {
      throw new RagtuneError('API_KEY_EXISTS', `an active API key named "${key.name}" already exists`, {
        details: { name: key.name },
        hint: `pick another name, or revoke the old key first: ragtune keys revoke ${key.name}`,
      })
    }
  }

  async list(): Promise<ApiKeyRecord[]> {
    const res = await this.db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`)
    return res.rows.map(toRecord)
  }

  async revoke(name: string, at: string): Promise<ApiKeyRecord> {
    const res = await this.db.query<KeyRow>(REVOKE_SQL, [name, iso(at, 'at')])
    const row = res.rows[0]
    if (!row) {
      throw new RagtuneError('API_KEY_NOT_FOUND', `no active API key is named "${name}"`, {
        details: { name },
        hint: 'list the keys with `ragtune keys list`',
      })
    }
    return toRecord(row)
  }
}

function check(key: ApiKeyRecord): void {
  const bad = (field: string, expected: string, got: unknown): RagtuneError =>
    new RagtuneError('STORE_BAD_ARGUMENT', `expected ${field} to be ${expected}, got ${JSON.stringify(got)}`, { details: { field } })
  if (typeof key.id !== 'string' || key.id.trim() === '') throw bad('id', 'a non-empty string', key.id)
  if (typeof key.name !== 'string' || key.name.trim() === '' || key.name.includes('\u0000')) throw bad('name', 'a non-empty string', key.name)
  if (key.scope !== 'query' && key.scope !== 'admin') throw bad('scope', '"query" or "admin"', key.scope)
  if (typeof key.keyHash !== 'string' || !/^[0-9a-f]{64}$/.test(key.keyHash)) throw bad('keyHash', 'a lowercase hex sha256 (64 characters)', key.keyHash)
  if (key.revokedAt !== null) throw bad('revokedAt', 'null (keys are added active)', key.revokedAt)
}

function iso(time: string, field: string): string {
  const ms = typeof time === 'string' ? Date.parse(time) : NaN
  if (Number.isNaN(ms)) {
    throw new RagtuneError('STORE_BAD_ARGUMENT', `expected ${field} to be an ISO 8601 date, got ${JSON.stringify(time)}`, { details: { field } })
  }
  return new Date(ms).toISOString()
}

function toRecord(r: KeyRow): ApiKeyRecord {
  return {
    id: r.id,
    name: r.name,
    scope: r.scope,
    keyHash: r.key_hash,
    createdAt: new Date(r.created_at).toISOString(),
    revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at).toISOString(),
  }
}
