import { RagtuneError } from '../errors.js'
import { RESERVED_META_PREFIX, type SqlExecutor } from './migrations.js'

/**
 * The `meta` key/value table, shared by the embedded and the server store: user keys are free, keys
 * under RESERVED_META_PREFIX describe the schema and are written only by migrations.
 */
export async function readMeta(db: SqlExecutor, key: string): Promise<string | null> {
  const res = await db.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key])
  return res.rows[0]?.value ?? null
}

export async function writeMeta(db: SqlExecutor, key: string, value: string): Promise<void> {
  if (key.startsWith(RESERVED_META_PREFIX)) {
    throw new RagtuneError('STORE_META_RESERVED', `meta keys starting with "${RESERVED_META_PREFIX}" describe the schema and cannot be set, got "${key}"`, {
      details: { key },
      hint: 'pick a key outside that prefix',
    })
  }
  await db.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [key, value])
}
