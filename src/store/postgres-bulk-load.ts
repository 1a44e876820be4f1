import { DROP_HNSW_INDEX_SQL, HNSW_INDEX_SQL } from './migrations.js'
import { advisoryKey, type PgDatabase } from './postgres-database.js'

/**
 * Set while a bulk load runs with the HNSW index dropped; a load that died leaves it set and the
 * next open rebuilds the index. Under the reserved prefix, so `setMeta` can never fake it.
 */
const ANN_PENDING_KEY = 'store.ann_index_pending'

/**
 * Bulk loads on a shared server. Only one runs at a time per schema (session advisory lock, held on
 * its own connection for the whole load). The HNSW index is dropped only when the table is empty
 * and the index exists: building it once afterwards is much cheaper than growing it row by row, and
 * with no rows there is no reader to slow down. On a store others are serving from, the index stays,
 * so their dense search never turns into a full scan while an indexer runs.
 */
export async function bulkLoadLocked<T>(db: PgDatabase, fn: () => Promise<T>): Promise<T> {
  const held = await db.withLock(advisoryKey(db.schema, 'bulk-load'), async () => {
    const dropped = await db.transaction(async (tx) => {
      const res = await tx.query<{ empty: boolean; ann: string | null }>(
        `SELECT NOT EXISTS (SELECT 1 FROM chunks) AS empty, to_regclass('chunks_embedding_hnsw')::text AS ann`,
      )
      const row = res.rows[0]
      if (!row?.empty || row.ann == null) return false
      await tx.exec(DROP_HNSW_INDEX_SQL)
      await tx.query(`INSERT INTO meta (key, value) VALUES ($1, '1') ON CONFLICT (key) DO UPDATE SET value = '1'`, [ANN_PENDING_KEY])
      return true
    })
    const result = await fn()
    if (dropped) await buildAnnIndex(db)
    return result
  })
  return held!.value
}

/**
 * Rebuilds the HNSW index a crashed bulk load left dropped, unless another process is bulk loading
 * right now (it builds the index itself when done).
 */
export async function repairAnnIndex(db: PgDatabase): Promise<void> {
  const pending = await db.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [ANN_PENDING_KEY])
  if (pending.rows[0]?.value !== '1') return
  await db.withLock(advisoryKey(db.schema, 'bulk-load'), () => buildAnnIndex(db), { wait: false })
}

async function buildAnnIndex(db: PgDatabase): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec(HNSW_INDEX_SQL)
    await tx.query('DELETE FROM meta WHERE key = $1', [ANN_PENDING_KEY])
  })
}
