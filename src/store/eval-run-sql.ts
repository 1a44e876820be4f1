import { RagtuneError } from '../errors.js'
import type { EvalExampleResult, EvalRunFilter, EvalRunRecord } from '../spec/eval-run.js'
import type { SqlExecutor } from './migrations.js'

/*
 * Eval runs and their per-example results over any SqlExecutor. `add` expects a transaction, so a
 * run is stored whole or not at all: a half-stored run would pair with fewer examples than it
 * claims. Example rows go in batches to keep one statement's parameter list bounded.
 */

const RUN_COLUMNS = 'id, time, set_name, set_sha256, adapter, adapter_id, model, settings, summary, examples, warnings'
const RESULT_COLUMNS = 'run_id, example_id, category, question, answer, metrics, detail'
const BATCH = 200

interface RunRow {
  id: string
  time: Date | string
  set_name: string
  set_sha256: string
  adapter: string
  adapter_id: string | null
  model: string
  settings: Record<string, unknown>
  summary: Record<string, number>
  examples: number
  warnings: string[]
}

interface ResultRow {
  run_id: string
  example_id: string
  category: string
  question: string
  answer: string | null
  metrics: Record<string, number>
  detail: Record<string, unknown>
}

export class EvalRunTables {
  constructor(private readonly db: SqlExecutor) {}

  /** Run inside a transaction. */
  async add(run: EvalRunRecord, results: EvalExampleResult[]): Promise<void> {
    if (typeof run.id !== 'string' || run.id.trim() === '') throw bad('id', 'a non-empty string', run.id)
    if (results.length !== run.examples) throw bad('examples', `the number of results (${results.length})`, run.examples)
    const ids = new Set<string>()
    for (const r of results) {
      if (r.runId !== run.id) throw bad('result runId', `the run's id ${run.id}`, r.runId)
      if (ids.has(r.exampleId)) throw bad('exampleId', 'unique within the run', r.exampleId)
      ids.add(r.exampleId)
    }
    const inserted = await this.db.query(`INSERT INTO eval_runs (${RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11::jsonb) ON CONFLICT DO NOTHING RETURNING id`, [
      run.id, iso(run.time), run.setName, run.setSha256, run.adapter, run.adapterId, run.model,
      json(run.settings), json(run.summary), run.examples, json(run.warnings),
    ])
    if (inserted.rows.length === 0) throw bad('id', 'unused (runs are never overwritten)', run.id)
    for (let i = 0; i < results.length; i += BATCH) {
      const batch = results.slice(i, i + BATCH)
      const params: unknown[] = []
      const rows = batch.map((r) => {
        const base = params.length
        params.push(r.runId, r.exampleId, r.category, clean(r.question), r.answer === null ? null : clean(r.answer), json(r.metrics), json(r.detail))
        return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}::jsonb, $${base + 7}::jsonb)`
      })
      await this.db.query(`INSERT INTO eval_results (${RESULT_COLUMNS}) VALUES ${rows.join(', ')}`, params)
    }
  }

  async get(id: string): Promise<EvalRunRecord | null> {
    const res = await this.db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM eval_runs WHERE id = $1`, [id])
    return res.rows[0] ? toRun(res.rows[0]) : null
  }

  async list(filter: EvalRunFilter = {}): Promise<EvalRunRecord[]> {
    const where: string[] = []
    const params: unknown[] = []
    if (filter.adapter !== undefined) where.push(`adapter = $${params.push(filter.adapter)}`)
    if (filter.setSha256 !== undefined) where.push(`set_sha256 = $${params.push(filter.setSha256)}`)
    const limit = filter.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1) throw bad('limit', 'a positive integer', limit)
    const sql = `SELECT ${RUN_COLUMNS} FROM eval_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT $${params.push(limit)}`
    return (await this.db.query<RunRow>(sql, params)).rows.map(toRun)
  }

  async results(runId: string): Promise<EvalExampleResult[]> {
    const res = await this.db.query<ResultRow>(`SELECT ${RESULT_COLUMNS} FROM eval_results WHERE run_id = $1 ORDER BY example_id`, [runId])
    return res.rows.map((r) => ({ runId: r.run_id, exampleId: r.example_id, category: r.category, question: r.question, answer: r.answer, metrics: r.metrics, detail: r.detail }))
  }
}

function toRun(r: RunRow): EvalRunRecord {
  return {
    id: r.id, time: new Date(r.time).toISOString(), setName: r.set_name, setSha256: r.set_sha256, adapter: r.adapter, adapterId: r.adapter_id,
    model: r.model, settings: r.settings, summary: r.summary, examples: r.examples, warnings: r.warnings,
  }
}

function bad(field: string, expected: string, got: unknown): RagtuneError {
  return new RagtuneError('STORE_BAD_ARGUMENT', `expected eval run ${field} to be ${expected}, got ${JSON.stringify(got)}`, { details: { field } })
}

function iso(time: string): string {
  const ms = typeof time === 'string' ? Date.parse(time) : NaN
  if (Number.isNaN(ms)) throw bad('time', 'an ISO 8601 date', time)
  return new Date(ms).toISOString()
}

/** Postgres text and jsonb cannot hold NUL characters; model output sometimes does. */
function clean(s: string): string {
  return s.replaceAll('\u0000', '\uFFFD')
}

function json(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' ? clean(x) : x))
}
