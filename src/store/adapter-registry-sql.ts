import { RagtuneError } from '../errors.js'
import { BASE_ADAPTER, type ActivateAdapterInput, type AdapterEvent, type AdapterRecord } from '../spec/adapter-registry.js'
import type { SqlExecutor } from './migrations.js'

/*
 * The adapter registry over any SqlExecutor, shared by every store like the query log. Methods that
 * write several rows expect the caller to pass a transaction (see PGliteStore), so each promotion,
 * rollback, add and remove is all-or-nothing. Every user value travels as a bind parameter.
 */

const COLUMNS = 'name, id, file_path, file_sha256, base_model, base_model_sha256, dataset_version, training_config, parent, status, created_at, activated_at, remote_model'
const EVENT_COLUMNS = 'id, time, action, adapter, previous, forced, reason, detail'

/** Names appear in URLs, file names and logs: keep them plain. */
export const ADAPTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

interface AdapterRow {
  name: string
  id: string | null
  file_path: string | null
  file_sha256: string | null
  base_model: string | null
  base_model_sha256: string | null
  dataset_version: string | null
  training_config: Record<string, unknown> | null
  parent: string | null
  status: AdapterRecord['status']
  created_at: Date | string
  activated_at: Date | string | null
  remote_model: string | null
}

interface EventRow {
  id: string
  time: Date | string
  action: AdapterEvent['action']
  adapter: string
  previous: string | null
  forced: boolean
  reason: string | null
  detail: Record<string, unknown> | null
}

/** The registry tables of one database; the owning store checks it is open and migrated first. */
export class AdapterTables {
  constructor(private readonly db: SqlExecutor) {}

  async add(r: AdapterRecord, event: AdapterEvent): Promise<void> {
    checkRecord(r)
    const res = await this.db.query<{ name: string }>(
      `INSERT INTO adapters (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, 'candidate', $10, NULL, $11) ON CONFLICT DO NOTHING RETURNING name`,
      [r.name, r.id, r.filePath, r.fileSha256, r.baseModel, r.baseModelSha256, r.datasetVersion, json(r.trainingConfig), r.parent, iso(r.createdAt, 'createdAt'), r.remoteModel ?? null],
    )
    if (res.rows.length === 0) {
      const taken = await this.get(r.name)
      throw new RagtuneError('ADAPTER_EXISTS', taken ? `an adapter named "${r.name}" is already registered` : `an adapter with id ${r.id} is already registered`, {
        details: { name: r.name, id: r.id },
        hint: 'pick another name (`ragtune adapter list` shows the taken ones), or remove the old entry with `ragtune adapter rm`',
      })
    }
    await this.addEvent(event)
  }

  async get(name: string): Promise<AdapterRecord | null> {
    const res = await this.db.query<AdapterRow>(`SELECT ${COLUMNS} FROM adapters WHERE name = $1`, [name])
    return res.rows[0] ? toRecord(res.rows[0]) : null
  }

  async list(): Promise<AdapterRecord[]> {
    const res = await this.db.query<AdapterRow>(`SELECT ${COLUMNS} FROM adapters ORDER BY name <> $1, created_at, name`, [BASE_ADAPTER])
    return res.rows.map(toRecord)
  }

  async active(): Promise<AdapterRecord | null> {
    const res = await this.db.query<AdapterRow>(`SELECT ${COLUMNS} FROM adapters WHERE status = 'active'`)
    return res.rows[0] ? toRecord(res.rows[0]) : null
  }

  /** Run inside a transaction: the read, the two updates and the event commit together or not at all. */
  async activate(input: ActivateAdapterInput): Promise<AdapterRecord> {
    const target = await this.get(input.name)
    if (!target) throw unknownAdapter(input.name)
    const current = (await this.active())?.name ?? null
    if (current !== input.expectedActive) {
      throw new RagtuneError('ADAPTER_CONFLICT', `expected "${input.expectedActive ?? 'nothing'}" to be active, but "${current ?? 'nothing'}" is: another promotion ran in between`, {
        details: { expected: input.expectedActive, active: current },
        hint: 'look at `ragtune adapter list` and decide again',
      })
    }
    if (current === input.name) {
      throw new RagtuneError('ADAPTER_ALREADY_ACTIVE', `adapter "${input.name}" is already the active one`, { details: { name: input.name }, hint: 'nothing to do' })
    }
    const time = iso(input.time, 'time')
    // Retire first: the unique index on the active status is checked row by row.
    await this.db.query(`UPDATE adapters SET status = 'retired' WHERE status = 'active'`)
    const res = await this.db.query<AdapterRow>(`UPDATE adapters SET status = 'active', activated_at = $2 WHERE name = $1 RETURNING ${COLUMNS}`, [input.name, time])
    await this.addEvent({
      id: input.eventId, time, action: input.action, adapter: input.name, previous: current, forced: input.forced, reason: input.reason, detail: input.detail,
    })
    return toRecord(res.rows[0]!)
  }

  /** Run inside a transaction. */
  async remove(name: string, event: AdapterEvent): Promise<void> {
    const found = await this.get(name)
    if (!found) throw unknownAdapter(name)
    if (name === BASE_ADAPTER) throw new RagtuneError('ADAPTER_IN_USE', 'the base model row cannot be removed', { details: { name }, hint: 'remove adapters, not the base model' })
    if (found.status === 'active') {
      throw new RagtuneError('ADAPTER_IN_USE', `adapter "${name}" is active: removing it would leave production without its adapter`, {
        details: { name },
        hint: 'promote another adapter (or base) first, or roll back with `ragtune adapter rollback`',
      })
    }
    await this.db.query('DELETE FROM adapters WHERE name = $1', [name])
    await this.addEvent(event)
  }

  async events(filter: { adapter?: string } = {}): Promise<AdapterEvent[]> {
    const where = filter.adapter !== undefined ? ' WHERE adapter = $1 OR previous = $1' : ''
    const res = await this.db.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM adapter_events${where} ORDER BY time, id`, filter.adapter !== undefined ? [filter.adapter] : [])
    return res.rows.map(toEvent)
  }

  private async addEvent(e: AdapterEvent): Promise<void> {
    if (typeof e.id !== 'string' || e.id.trim() === '') throw badArgument('event id', 'a non-empty string', e.id)
    await this.db.query(`INSERT INTO adapter_events (${EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`, [
      e.id, iso(e.time, 'event time'), e.action, e.adapter, e.previous, e.forced, e.reason, json(e.detail),
    ])
  }
}

/** The error every caller (CLI, HTTP, library) shows for a name that is not registered. */
export function unknownAdapter(name: string): RagtuneError {
  return new RagtuneError('ADAPTER_UNKNOWN', `no adapter named "${name}" is registered`, {
    details: { name },
    hint: 'list them with `ragtune adapter list`; register a GGUF LoRA file with `ragtune adapter add <name> <file>`',
  })
}

function checkRecord(r: AdapterRecord): void {
  if (typeof r.name !== 'string' || !ADAPTER_NAME.test(r.name) || r.name === BASE_ADAPTER) {
    throw badArgument('name', `1-64 letters, digits, ".", "_" or "-" (not "${BASE_ADAPTER}")`, r.name)
  }
  // A remote adapter (a hosted fine-tuned model) has a model id instead of a file; never both.
  if (r.remoteModel != null) {
    if (typeof r.remoteModel !== 'string' || r.remoteModel.trim() === '') throw badArgument('remoteModel', 'a model id', r.remoteModel)
    if (r.filePath !== null || r.fileSha256 !== null) throw badArgument('filePath', 'null for a remote adapter', r.filePath)
  } else {
    if (typeof r.filePath !== 'string' || r.filePath === '') throw badArgument('filePath', 'a file path', r.filePath)
    if (typeof r.fileSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.fileSha256)) throw badArgument('fileSha256', 'a lowercase hex sha256', r.fileSha256)
  }
  if (typeof r.id !== 'string' || r.id === '') throw badArgument('id', 'a non-empty string', r.id)
  if (r.status !== 'candidate') throw badArgument('status', '"candidate" (adapters are added as candidates)', r.status)
}

function badArgument(field: string, expected: string, got: unknown): RagtuneError {
  return new RagtuneError('STORE_BAD_ARGUMENT', `expected ${field} to be ${expected}, got ${JSON.stringify(got)}`, { details: { field } })
}

function iso(time: string, field: string): string {
  const ms = typeof time === 'string' ? Date.parse(time) : NaN
  if (Number.isNaN(ms)) throw badArgument(field, 'an ISO 8601 date', time)
  return new Date(ms).toISOString()
}

function json(v: unknown): string | null {
  return v === null || v === undefined ? null : JSON.stringify(v)
}

const isoOrNull = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString())

function toRecord(r: AdapterRow): AdapterRecord {
  return {
    name: r.name,
    id: r.id,
    filePath: r.file_path,
    fileSha256: r.file_sha256,
    // Only remote adapters carry the field, so file adapters read back exactly as they were added.
    ...(r.remote_model !== null ? { remoteModel: r.remote_model } : {}),
    baseModel: r.base_model,
    baseModelSha256: r.base_model_sha256,
    datasetVersion: r.dataset_version,
    trainingConfig: r.training_config,
    parent: r.parent,
    status: r.status,
    createdAt: new Date(r.created_at).toISOString(),
    activatedAt: isoOrNull(r.activated_at),
  }
}

function toEvent(r: EventRow): AdapterEvent {
  return { id: r.id, time: new Date(r.time).toISOString(), action: r.action, adapter: r.adapter, previous: r.previous, forced: r.forced, reason: r.reason, detail: r.detail }
}
