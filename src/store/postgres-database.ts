import { createHash } from 'node:crypto'
import pg from 'pg'
import { RagtuneError } from '../errors.js'
import type { SqlExecutor } from './migrations.js'

export interface PgDatabaseOptions {
  /** postgres://user@host:5432/db; a password is better left to PGPASSWORD (or ~/.pgpass) than to a config file. */
  url: string
  /** Schema holding ragtune's tables (created when missing), so several indexes can share one database. */
  schema?: string
  /** Most connections this process opens (pg's pool, at least 2: a bulk load holds one for its lock); LISTEN uses one more. */
  poolSize?: number
}

/** A SqlExecutor that also says how many rows a write touched. */
export interface PgExecutor extends SqlExecutor {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>
}

/** Schema names go into SQL as identifiers: keep them to what needs no quoting rules. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/** Connection details for messages: never the password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparseable url)'
  }
}

/**
 * 64-bit advisory lock key of one purpose in one schema (`pg_advisory_lock(bigint)`): two indexes in
 * two schemas of one database never wait for each other, two processes on the same schema always do.
 */
export function advisoryKey(schema: string, purpose: string): string {
  return createHash('sha256').update(`ragtune:${schema}:${purpose}`).digest().readBigInt64BE(0).toString()
}

/**
 * A `pg` pool seen as the SqlExecutor the shared schema code expects, plus transactions on one
 * checked-out connection. Every connection gets the store's schema first on its search_path, and
 * `public` after it (where extensions such as pgvector usually live).
 */
export class PgDatabase implements PgExecutor {
  readonly schema: string

  private constructor(
    private readonly pool: pg.Pool,
    readonly url: string,
    schema: string,
  ) {
    this.schema = schema
  }

  /** Connects once to fail early with a clear error (bad URL, server down, wrong password). */
  static async connect(opts: PgDatabaseOptions): Promise<PgDatabase> {
    const schema = opts.schema ?? 'public'
    if (!SCHEMA_NAME.test(schema)) {
      throw new RagtuneError('CONFIG_INVALID', `expected store.schema to be a lowercase SQL name (letters, digits, _), got "${schema}"`, {
        details: { schema },
        hint: 'pick a name such as ragtune or docs_v2',
      })
    }
    // The search_path travels in the startup message, so every connection has it before its first
    // query; only for another schema than public (PgBouncer refuses unknown startup options by default).
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: Math.max(2, opts.poolSize ?? 10),
      application_name: 'ragtune',
      ...(schema === 'public' ? {} : { options: `-c search_path=${schema},public` }),
    })
    // An idle connection the server dropped: the pool replaces it; without a listener Node would crash.
    pool.on('error', () => undefined)
    const db = new PgDatabase(pool, opts.url, schema)
    let current: string | null | undefined
    try {
      if (schema !== 'public') await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      current = (await pool.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]?.s
    } catch (err) {
      await pool.end().catch(() => undefined)
      throw connectError(opts.url, err)
    }
    if (current !== schema) {
      await pool.end().catch(() => undefined)
      throw new RagtuneError('STORE_SCHEMA_IGNORED', `expected the connection's schema to be "${schema}", got "${current}": the server ignored the search_path startup option`, {
        details: { schema, current },
        hint: 'a pooler such as PgBouncer drops startup options (add `options` to its ignore_startup_parameters and set search_path on the role instead), or leave store.schema at "public"',
      })
    }
    return db
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<{ rows: T[]; affectedRows?: number }> {
    const res = await this.pool.query(sql, params)
    return { rows: res.rows as T[], affectedRows: res.rowCount ?? 0 }
  }

  async exec(sql: string): Promise<unknown> {
    return this.pool.query(sql)
  }

  /**
   * Runs `fn` in one transaction on one connection; any error rolls it back. Inside `fn` use only
   * `tx`: a query on the pool would run outside the transaction (and, with a pool of one, wait forever).
   */
  async transaction<T>(fn: (tx: PgExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    let broken: unknown = null
    try {
      await client.query('BEGIN')
      const result = await fn(clientExecutor(client))
      await client.query('COMMIT')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => (broken = rollbackErr))
      throw err
    } finally {
      // A connection whose rollback failed is in an unknown state: drop it rather than reuse it.
      client.release(broken instanceof Error ? broken : undefined)
    }
  }

  /**
   * Holds a session-level advisory lock while `fn` runs, on a connection of its own that `fn` never
   * sees; `wait: false` returns null at once when another session holds it.
   */
  async withLock<T>(key: string, fn: () => Promise<T>, opts: { wait?: boolean } = {}): Promise<{ value: T } | null> {
    const client = await this.pool.connect()
    let broken: Error | undefined
    try {
      if (opts.wait === false) {
        const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key])
        if (!got.rows[0]?.ok) return null
      } else {
        await client.query('SELECT pg_advisory_lock($1::bigint)', [key])
      }
      try {
        return { value: await fn() }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch((err: Error) => (broken = err))
      }
    } finally {
      // A lost unlock would keep the lock for the connection's life: close that connection instead.
      client.release(broken)
    }
  }

  /** A client outside the pool, for LISTEN: it must stay on one connection for as long as it listens. */
  newClient(): pg.Client {
    return new pg.Client({ connectionString: this.url, application_name: 'ragtune-listen' })
  }

  async close(): Promise<void> {
    await this.pool.end()
  }
}

function clientExecutor(client: pg.PoolClient): PgExecutor {
  return {
    async query<R>(sql: string, params: unknown[] = []) {
      const res = await client.query(sql, params)
      return { rows: res.rows as R[], affectedRows: res.rowCount ?? 0 }
    },
    exec: (sql: string) => client.query(sql),
  }
}

/** What a failed first connection means, with the fix for the usual causes. */
function connectError(url: string, err: unknown): RagtuneError {
  const e = err as { code?: string; message?: string }
  const where = redactUrl(url)
  const auth = e.code === '28P01' || e.code === '28000'
  return new RagtuneError('STORE_UNREACHABLE', `cannot use the Postgres store at ${where}: ${e.message ?? String(err)}`, {
    details: { url: where, code: e.code ?? null },
    hint: auth
      ? 'check the user in store.url and the password in PGPASSWORD (or ~/.pgpass)'
      : e.code === '3D000'
        ? 'create the database first (createdb), or point store.url at an existing one'
        : e.code === '42501'
          ? 'the user may not create the schema: create it once as its owner, or use another store.schema'
          : 'is the server running and reachable, and is store.url right (postgres://user@host:5432/db)?',
    cause: err,
  })
}
