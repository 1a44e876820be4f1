import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { pg_textsearch } from '@electric-sql/pglite-pg_textsearch'
import { RagtuneError } from '../errors.js'
import type { LexicalBackend } from './migrations.js'

/** `auto` takes BM25 when pg_textsearch loads and falls back to Postgres tsvector ranking otherwise. */
export type LexicalChoice = 'auto' | LexicalBackend

export interface Booted {
  db: PGlite
  /** Why pg_textsearch could not be loaded, when it was wanted and failed. */
  bm25Error: string | null
}

/** Starts Postgres with pgvector, and pg_textsearch when BM25 may be wanted; a failed BM25 load is reported, not thrown. */
export async function bootPostgres(dataDir: string | null, wantBm25: boolean): Promise<Booted> {
  const opts = dataDir ? { dataDir } : {}
  if (!wantBm25) return { db: await PGlite.create({ ...opts, extensions: { vector } }), bm25Error: null }
  let db: PGlite
  try {
    db = await PGlite.create({ ...opts, extensions: { vector, pg_textsearch } })
  } catch (err) {
    return { db: await PGlite.create({ ...opts, extensions: { vector } }), bm25Error: (err as Error).message }
  }
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS pg_textsearch')
    return { db, bm25Error: null }
  } catch (err) {
    return { db, bm25Error: (err as Error).message }
  }
}

/** The stored backend wins for an existing store; an explicit choice that contradicts it is an error. */
export function resolveLexical(choice: LexicalChoice, stored: LexicalBackend | null, bm25Error: string | null, warnings: string[]): LexicalBackend {
  if (stored && choice !== 'auto' && choice !== stored) {
    throw new RagtuneError('STORE_LEXICAL_MISMATCH', `the store was built with the ${stored} lexical index, but ${choice} was requested`, {
      details: { stored, requested: choice },
      hint: `open it with lexical "${stored}" or "auto", or re-index into a fresh data directory`,
    })
  }
  const want = stored ?? (choice === 'auto' ? 'bm25' : choice)
  if (want === 'tsvector') return 'tsvector'
  if (bm25Error === null) return 'bm25'
  if (stored === 'bm25' || choice === 'bm25') {
    throw new RagtuneError('STORE_LEXICAL_UNAVAILABLE', `BM25 needs the pg_textsearch extension, which failed to load: ${bm25Error}`, {
      details: { stored, requested: choice },
      hint: stored ? 're-index into a fresh data directory with lexical "tsvector"' : 'use lexical "auto" or "tsvector"',
    })
  }
  warnings.push(`pg_textsearch unavailable (${bm25Error}); lexical search uses tsvector + ts_rank_cd`)
  return 'tsvector'
}

