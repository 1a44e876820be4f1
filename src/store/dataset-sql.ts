import { RagtuneError } from '../errors.js'
import type { AddLabeledResult, DatasetSplit, DatasetVersion, LabeledExample, LabeledExampleFilter, StoredChunk } from '../spec/dataset.js'
import type { SqlExecutor } from './migrations.js'

/*
 * Imported labels and dataset versions over any SqlExecutor (the embedded and the server store share
 * it, as they share the query log SQL). Every user value travels as a bind parameter.
 */

/**
 * Migration 6. Imported labels have no query-log row, so they get their own table keyed by content
 * hash (a re-import adds nothing). A dataset version is one row plus its records, written in one
 * transaction: a version is complete or absent, and its hash is unique so the same build is stored once.
 */
export const DATASETS_SQL = `
CREATE TABLE labeled_examples (
  id text PRIMARY KEY,
  question text NOT NULL,
  answer text NOT NULL,
  gold jsonb NOT NULL,
  category text,
  source text NOT NULL,
  origin text NOT NULL,
  batch_id text NOT NULL,
  imported_at timestamptz NOT NULL
);
CREATE INDEX labeled_examples_batch_idx ON labeled_examples (batch_id);
CREATE TABLE datasets (
  id text PRIMARY KEY,
  name text,
  hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  train_count integer NOT NULL,
  eval_count integer NOT NULL,
  lineage jsonb NOT NULL,
  report jsonb NOT NULL
);
CREATE TABLE dataset_records (
  dataset_id text NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  split text NOT NULL CHECK (split IN ('train', 'eval')),
  ordinal integer NOT NULL,
  record jsonb NOT NULL,
  PRIMARY KEY (dataset_id, split, ordinal)
);`

/** Runs `fn` in one transaction; the owning store provides it (PGlite's db.transaction, pg's BEGIN/COMMIT). */
export type InTransaction = <T>(fn: (tx: SqlExecutor) => Promise<T>) => Promise<T>

const LABELED_COLUMNS = 'id, question, answer, gold, category, source, origin, batch_id, imported_at'
const DATASET_COLUMNS = 'id, name, hash, created_at, train_count, eval_count, lineage, report'
const INSERT_BATCH = 200

interface LabeledRow {
  id: string
  question: string
  answer: string
  gold: LabeledExample['gold']
  category: string | null
  source: string
  origin: string
  batch_id: string
  imported_at: Date | string
}

interface DatasetRow {
  id: string
  name: string | null
  hash: string
  created_at: Date | string
  train_count: number
  eval_count: number
  lineage: Record<string, unknown>
  report: Record<string, unknown>
}

/** The dataset tables of one database; the owning store checks it is open and migrated first. */
export class DatasetTables {
  constructor(
    private readonly db: SqlExecutor,
    private readonly inTransaction: InTransaction,
  ) {}

  /** All or nothing: one bad row rolls the whole batch back, so an import never half-lands. */
  async addLabeled(examples: LabeledExample[]): Promise<AddLabeledResult> {
    if (examples.length === 0) return { added: 0, existing: 0 }
    const added = await this.write('store labeled examples', { count: examples.length }, async (tx) => {
      let n = 0
      for (let i = 0; i < examples.length; i += INSERT_BATCH) {
        const batch = examples.slice(i, i + INSERT_BATCH)
        const params: unknown[] = []
        const rows = batch.map((e) => {
          const at = params.length
          params.push(e.id, clean(e.question), clean(e.answer), json(e.gold), nullable(e.category), e.source, clean(e.origin), e.batchId, e.importedAt)
          return `(${Array.from({ length: 9 }, (_, j) => `$${at + j + 1}${j === 3 ? '::jsonb' : ''}`).join(', ')})`
        })
        const res = await tx.query<{ id: string }>(
          `INSERT INTO labeled_examples (${LABELED_COLUMNS}) VALUES ${rows.join(', ')} ON CONFLICT (id) DO NOTHING RETURNING id`,
          params,
        )
        n += res.rows.length
      }
      return n
    })
    return { added, existing: examples.length - added }
  }

  async listLabeled(filter: LabeledExampleFilter = {}): Promise<LabeledExample[]> {
    const where = filter.batchId !== undefined ? ' WHERE batch_id = $1' : ''
    const res = await this.db.query<LabeledRow>(
      `SELECT ${LABELED_COLUMNS} FROM labeled_examples${where} ORDER BY imported_at, origin, id`,
      filter.batchId !== undefined ? [filter.batchId] : [],
    )
    return res.rows.map(toLabeled)
  }

  /** Stores a version and its records in one transaction; a second version with the same hash is DATASET_EXISTS. */
  async save(version: DatasetVersion, records: Array<{ split: DatasetSplit; record: unknown }>): Promise<void> {
    await this.write('store dataset', { id: version.id }, async (tx) => {
      const dup = await tx.query<{ id: string }>('SELECT id FROM datasets WHERE hash = $1', [version.hash])
      if (dup.rows[0]) {
        throw new RagtuneError('DATASET_EXISTS', `a dataset with hash ${version.hash.slice(0, 12)} is already stored as ${dup.rows[0].id}`, {
          details: { id: dup.rows[0].id, hash: version.hash },
          hint: `use dataset ${dup.rows[0].id}: it holds exactly these records`,
        })
      }
      await tx.query(`INSERT INTO datasets (${DATASET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)`, [
        version.id, nullable(version.name), version.hash, version.createdAt, version.counts.train, version.counts.eval, json(version.lineage), json(version.report),
      ])
      const ordinals = { train: 0, eval: 0 }
      for (let i = 0; i < records.length; i += INSERT_BATCH) {
        const params: unknown[] = [version.id]
        const rows = records.slice(i, i + INSERT_BATCH).map((r) => {
          const at = params.push(r.split, ordinals[r.split]++, json(r.record))
          return `($1, $${at - 2}, $${at - 1}, $${at}::jsonb)`
        })
        await tx.query(`INSERT INTO dataset_records (dataset_id, split, ordinal, record) VALUES ${rows.join(', ')}`, params)
      }
      return 0
    })
  }

  async get(id: string): Promise<DatasetVersion | null> {
    const res = await this.db.query<DatasetRow>(`SELECT ${DATASET_COLUMNS} FROM datasets WHERE id = $1`, [id])
    return res.rows[0] ? toVersion(res.rows[0]) : null
  }

  async findByHash(hash: string): Promise<DatasetVersion | null> {
    const res = await this.db.query<DatasetRow>(`SELECT ${DATASET_COLUMNS} FROM datasets WHERE hash = $1`, [hash])
    return res.rows[0] ? toVersion(res.rows[0]) : null
  }

  /** Newest first. */
  async list(): Promise<DatasetVersion[]> {
    const res = await this.db.query<DatasetRow>(`SELECT ${DATASET_COLUMNS} FROM datasets ORDER BY created_at DESC, id DESC`)
    return res.rows.map(toVersion)
  }

  /** Records of one split in build order; an unknown dataset is DATASET_NOT_FOUND. */
  async records(id: string, split: DatasetSplit): Promise<unknown[]> {
    if (!(await this.get(id))) throw datasetNotFound(id)
    const res = await this.db.query<{ record: unknown }>('SELECT record FROM dataset_records WHERE dataset_id = $1 AND split = $2 ORDER BY ordinal', [id, split])
    return res.rows.map((r) => r.record)
  }

  /** Chunks by id (in the order asked; unknown ids left out), or all chunks of some documents (by path, ordinal). */
  async chunks(query: { ids: string[] } | { documentPaths: string[] }): Promise<StoredChunk[]> {
    const byIds = 'ids' in query
    const keys = byIds ? query.ids : query.documentPaths
    if (keys.length === 0) return []
    const res = await this.db.query<{ id: string; document_path: string; heading_path: string[]; text: string; ordinal: number }>(
      `SELECT id, document_path, heading_path, text, ordinal FROM chunks WHERE ${byIds ? 'id' : 'document_path'} = ANY($1::text[]) ORDER BY document_path, ordinal`,
      [keys],
    )
    const rows = res.rows.map((r) => ({ id: r.id, documentPath: r.document_path, headingPath: r.heading_path, text: r.text, ordinal: r.ordinal }))
    if (!byIds) return rows
    const byId = new Map(rows.map((r) => [r.id, r]))
    return keys.flatMap((id) => byId.get(id) ?? [])
  }

  private async write<T>(what: string, details: Record<string, unknown>, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    try {
      return await this.inTransaction(fn)
    } catch (err) {
      if (err instanceof RagtuneError) throw err
      throw new RagtuneError('STORE_WRITE_FAILED', `could not ${what}: ${(err as Error).message}; nothing was written`, { details, cause: err })
    }
  }
}

/** The error every caller shows for a dataset id that is not stored. */
export function datasetNotFound(id: string): RagtuneError {
  return new RagtuneError('DATASET_NOT_FOUND', `no dataset has id "${id}"`, { details: { id }, hint: 'list stored datasets with `ragtune dataset list`' })
}

function toLabeled(r: LabeledRow): LabeledExample {
  return {
    id: r.id, question: r.question, answer: r.answer, gold: r.gold, category: r.category, source: r.source,
    origin: r.origin, batchId: r.batch_id, importedAt: new Date(r.imported_at).toISOString(),
  }
}

function toVersion(r: DatasetRow): DatasetVersion {
  return {
    id: r.id, name: r.name, hash: r.hash, createdAt: new Date(r.created_at).toISOString(),
    counts: { train: r.train_count, eval: r.eval_count }, lineage: r.lineage, report: r.report,
  }
}

/** Postgres text and jsonb cannot hold NUL; U+FFFD keeps the row. */
function clean(s: string): string {
  return s.replaceAll('\u0000', '\uFFFD')
}

function nullable(s: string | null): string | null {
  return s === null ? null : clean(s)
}

function json(v: unknown): string {
  return JSON.stringify(v, (_key, x: unknown) => (typeof x === 'string' ? clean(x) : x))
}
