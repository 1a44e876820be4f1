import { RagtuneError } from '../errors.js'
import type { JobOutcome, JobRunFilter, JobRunRecord, JobRunStart } from '../spec/job-run.js'
import type { SqlExecutor } from './migrations.js'

/*
 * The scheduler's run history over any SqlExecutor, shared by the embedded and the server store.
 * Every user value travels as a bind parameter.
 */

/**
 * Migration 8. The partial unique index is the no-concurrent-run guard: at most one `running` row
 * per job, enforced by Postgres for every process and connection on the database. The CHECK ties
 * `finished_at` to the outcome, so a row is either running or over, never half of each.
 */
export const JOB_RUNS_SQL = `
CREATE TABLE job_runs (
  id text PRIMARY KEY,
  job text NOT NULL,
  trigger text NOT NULL CHECK (trigger IN ('cron', 'startup-catchup', 'manual')),
  scheduled_for timestamptz,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  outcome text NOT NULL CHECK (outcome IN ('running', 'ok', 'failed', 'skipped')),
  owner_pid integer NOT NULL,
  owner_host text NOT NULL,
  owner_token text NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  detail jsonb NOT NULL,
  CHECK ((outcome = 'running') = (finished_at IS NULL))
);
CREATE UNIQUE INDEX job_runs_one_running_idx ON job_runs (job) WHERE outcome = 'running';
CREATE INDEX job_runs_started_idx ON job_runs (started_at, id);
CREATE INDEX job_runs_job_started_idx ON job_runs (job, started_at, id);`

const COLUMNS = 'id, job, trigger, scheduled_for, started_at, finished_at, outcome, owner_pid, owner_host, owner_token, heartbeat_at, detail'
const VALUES = '$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb'

/** The conflict target names the partial index, so a duplicate id still fails loudly. */
const START_SQL = `
INSERT INTO job_runs (${COLUMNS}) VALUES (${VALUES})
ON CONFLICT (job) WHERE outcome = 'running' DO NOTHING
RETURNING ${COLUMNS}`

interface JobRow {
  id: string
  job: string
  trigger: JobRunRecord['trigger']
  scheduled_for: Date | string | null
  started_at: Date | string
  finished_at: Date | string | null
  outcome: JobOutcome
  owner_pid: number
  owner_host: string
  owner_token: string
  heartbeat_at: Date | string
  detail: Record<string, unknown>
}

/** The job runs of one database; the owning store checks it is open and migrated first. */
export class JobRunTables {
  constructor(private readonly db: SqlExecutor) {}

  async start(run: JobRunRecord): Promise<JobRunStart> {
    check(run, true)
    // Lost the insert, then the holder finished before we could read it: try again (bounded).
    for (let attempt = 0; attempt < 5; attempt++) {
      const res = await this.db.query<JobRow>(START_SQL, params(run))
      if (res.rows[0]) return { started: true, run: toRecord(res.rows[0]) }
      const holder = await this.db.query<JobRow>(`SELECT ${COLUMNS} FROM job_runs WHERE job = $1 AND outcome = 'running'`, [run.job])
      if (holder.rows[0]) return { started: false, running: toRecord(holder.rows[0]) }
    }
    throw new RagtuneError('STORE_CONFLICT', `job "${run.job}" kept starting and finishing under us; could not tell whether it runs`, { details: { job: run.job }, hint: 'try again' })
  }

  async add(run: JobRunRecord): Promise<void> {
    check(run, false)
    await this.db.query(`INSERT INTO job_runs (${COLUMNS}) VALUES (${VALUES})`, params(run))
  }

  async heartbeat(id: string, at: string): Promise<boolean> {
    const res = await this.db.query<{ id: string }>(`UPDATE job_runs SET heartbeat_at = $2 WHERE id = $1 AND outcome = 'running' RETURNING id`, [id, iso(at, 'at')])
    return res.rows.length > 0
  }

  async finish(id: string, end: { outcome: Exclude<JobOutcome, 'running'>; finishedAt: string; detail: Record<string, unknown> }): Promise<boolean> {
    if (!['ok', 'failed', 'skipped'].includes(end.outcome)) throw bad('outcome', '"ok", "failed" or "skipped"', end.outcome)
    const res = await this.db.query<{ id: string }>(
      `UPDATE job_runs SET outcome = $2, finished_at = $3, detail = $4::jsonb WHERE id = $1 RETURNING id`,
      [id, end.outcome, iso(end.finishedAt, 'finishedAt'), JSON.stringify(end.detail)],
    )
    return res.rows.length > 0
  }

  async failRunning(id: string, at: string, detail: Record<string, unknown>): Promise<boolean> {
    const res = await this.db.query<{ id: string }>(
      `UPDATE job_runs SET outcome = 'failed', finished_at = $2, detail = detail || $3::jsonb WHERE id = $1 AND outcome = 'running' RETURNING id`,
      [id, iso(at, 'at'), JSON.stringify(detail)],
    )
    return res.rows.length > 0
  }

  async get(id: string): Promise<JobRunRecord | null> {
    const res = await this.db.query<JobRow>(`SELECT ${COLUMNS} FROM job_runs WHERE id = $1`, [id])
    return res.rows[0] ? toRecord(res.rows[0]) : null
  }

  async list(filter: JobRunFilter = {}): Promise<JobRunRecord[]> {
    const where: string[] = []
    const values: unknown[] = []
    if (filter.job !== undefined) where.push(`job = $${values.push(filter.job)}`)
    if (filter.outcome !== undefined) where.push(`outcome = $${values.push(filter.outcome)}`)
    const limit = filter.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1) throw bad('limit', 'a positive whole number', limit)
    const res = await this.db.query<JobRow>(
      `SELECT ${COLUMNS} FROM job_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT $${values.push(limit)}`,
      values,
    )
    return res.rows.map(toRecord)
  }
}

function check(run: JobRunRecord, running: boolean): void {
  if (typeof run.id !== 'string' || run.id.trim() === '') throw bad('id', 'a non-empty string', run.id)
  if (typeof run.job !== 'string' || !/^[a-z][a-z0-9-]{0,63}$/.test(run.job)) throw bad('job', 'a job name (lowercase letters, digits, "-")', run.job)
  if (!['cron', 'startup-catchup', 'manual'].includes(run.trigger)) throw bad('trigger', '"cron", "startup-catchup" or "manual"', run.trigger)
  if (running && run.outcome !== 'running') throw bad('outcome', '"running" (a run starts running)', run.outcome)
  if (!running && !['ok', 'failed', 'skipped'].includes(run.outcome)) throw bad('outcome', '"ok", "failed" or "skipped" (a finished run)', run.outcome)
  if (!running && run.finishedAt === null) throw bad('finishedAt', 'the time a finished run ended', run.finishedAt)
}

function params(r: JobRunRecord): unknown[] {
  return [
    r.id, r.job, r.trigger, r.scheduledFor === null ? null : iso(r.scheduledFor, 'scheduledFor'), iso(r.startedAt, 'startedAt'),
    r.outcome === 'running' ? null : iso(r.finishedAt ?? '', 'finishedAt'), r.outcome, r.owner.pid, r.owner.hostname, r.owner.token,
    iso(r.heartbeatAt, 'heartbeatAt'), JSON.stringify(r.detail ?? {}),
  ]
}

function bad(field: string, expected: string, got: unknown): RagtuneError {
  return new RagtuneError('STORE_BAD_ARGUMENT', `expected ${field} to be ${expected}, got ${JSON.stringify(got)}`, { details: { field } })
}

function iso(time: string, field: string): string {
  const ms = typeof time === 'string' ? Date.parse(time) : NaN
  if (Number.isNaN(ms)) throw bad(field, 'an ISO 8601 date', time)
  return new Date(ms).toISOString()
}

const isoOrNull = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString())

function toRecord(r: JobRow): JobRunRecord {
  return {
    id: r.id,
    job: r.job,
    trigger: r.trigger,
    scheduledFor: isoOrNull(r.scheduled_for),
    startedAt: new Date(r.started_at).toISOString(),
    finishedAt: isoOrNull(r.finished_at),
    outcome: r.outcome,
    owner: { pid: r.owner_pid, hostname: r.owner_host, token: r.owner_token },
    heartbeatAt: new Date(r.heartbeat_at).toISOString(),
    detail: r.detail,
  }
}
