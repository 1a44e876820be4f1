import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'

/**
 * A throwaway PostgreSQL server for tests: initdb into a temp folder, `postgres` on a free loopback
 * port, trust auth, no fsync. Uses the newest Debian-packaged server (/usr/lib/postgresql/N/bin) or
 * initdb on PATH. Postgres refuses to run as root, so under root (CI) it runs as the `postgres`
 * system user the Debian package creates.
 */
export interface PostgresServer {
  /** postgres://ragtune@127.0.0.1:PORT/postgres */
  url: string
  port: number
  version: string
  /** Runs SQL as the superuser (CREATE DATABASE, pg_terminate_backend, ...). */
  admin<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>
  /** URL of a new, empty database on this server. */
  createDatabase(name: string): Promise<string>
  stop(): Promise<void>
}

/** Where the server binaries are, or why tests that need them must be skipped. */
export function findPostgres(): { bin: string } | { skip: string } {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : []
  let bin = versions[0] ? join(root, versions[0], 'bin') : null
  if (!bin) {
    const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' })
    bin = which.status === 0 ? join(which.stdout.trim(), '..') : null
  }
  if (!bin) return { skip: 'no PostgreSQL server binaries (initdb): apt-get install postgresql-15 (.ci/run does)' }
  if (process.getuid?.() === 0 && !systemUser('postgres')) return { skip: 'running as root and no `postgres` system user to run the server as' }
  return { bin }
}

function systemUser(name: string): { uid: number; gid: number } | null {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`))
  if (!line) return null
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

export async function startPostgres(): Promise<PostgresServer> {
  const found = findPostgres()
  if ('skip' in found) throw new Error(found.skip)
  const asUser = process.getuid?.() === 0 ? systemUser('postgres')! : null
  const dir = await mkdtemp(join(tmpdir(), 'ragtune-pg-'))
  if (asUser) await chown(dir, asUser.uid, asUser.gid)
  const data = join(dir, 'data')
  const ids = asUser ? { uid: asUser.uid, gid: asUser.gid } : {}
  const init = spawnSync(join(found.bin, 'initdb'), ['-D', data, '-U', 'ragtune', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { ...ids, encoding: 'utf8' })
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`)
  let child: ChildProcess | null = null
  let port = 0
  let log = ''
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = await freePort()
    // Postgres outlives a killed parent; this shell stops it (fast shutdown) once our end of its
    // stdin closes: on stop(), and also when the test process dies without cleaning up.
    const proc = spawn('/bin/sh', ['-c', WATCHDOG, join(found.bin, 'postgres'),
      '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
    ], { ...ids, stdio: ['pipe', 'ignore', 'pipe'] })
    proc.stderr!.on('data', (d: Buffer) => (log += d.toString()))
    if (await ready(port, proc)) child = proc
    else await halt(proc)
  }
  if (!child) {
    await rm(dir, { recursive: true, force: true })
    throw new Error(`postgres did not start:\n${log}`)
  }
  const url = `postgres://ragtune@127.0.0.1:${port}/postgres`
  const adminPool = new pg.Pool({ connectionString: url, max: 2 })
  adminPool.on('error', () => undefined)
  const server = child
  let version: string
  try {
    version = (await adminPool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v
  } catch (err) {
    // Never leave a server running behind a failed start.
    await adminPool.end().catch(() => undefined)
    await halt(server)
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  return {
    url,
    port,
    version,
    admin: async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await adminPool.query<T>(sql, params)).rows,
    async createDatabase(name) {
      await adminPool.query(`CREATE DATABASE ${name}`)
      return `postgres://ragtune@127.0.0.1:${port}/${name}`
    },
    async stop() {
      await adminPool.end().catch(() => undefined)
      await halt(server)
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** `$0 "$@"` is postgres; fd 3 keeps our stdin while postgres gets /dev/null. */
const WATCHDOG = 'exec 3<&0; "$0" "$@" </dev/null & pid=$!; (read _ <&3; kill -INT $pid 2>/dev/null) & wait $pid'

/** Fast shutdown through the watchdog (stdin closed), then waits for postgres to be gone. */
async function halt(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  proc.stdin!.end()
  await Promise.race([exited, sleep(15_000)])
}

async function ready(port: number, proc: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    if (proc.exitCode !== null) return false
    const client = new pg.Client({ connectionString: `postgres://ragtune@127.0.0.1:${port}/postgres` })
    client.on('error', () => undefined)
    try {
      await client.connect()
      await client.end()
      return true
    } catch {
      await sleep(100)
    }
  }
  return false
}
