import pg from 'pg'
import { BOOTSTRAP_SQL, chunksTableSql, MIGRATIONS } from '../../src/store/migrations.js'

/**
 * Debian packages no pgvector for its PostgreSQL, so a real server here cannot run migration 2
 * (`CREATE EXTENSION vector`, a `vector(n)` column, an HNSW index). This lays out a schema as if
 * that migration had run, with `vector` a domain over text: chunk rows (their vectors as pgvector's
 * text form) are written and read by the store's own SQL, so the manifest, full-text search and
 * every relational table run on the real server. Dense search is NOT available: nothing here
 * pretends to be pgvector (no `<=>`, no HNSW); vectors are tested over the wire against PGlite.
 */
export async function layOutWithoutPgvector(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`CREATE SCHEMA ${schema}`)
    await client.query(`SET search_path TO ${schema}, public`)
    await client.query('BEGIN')
    // The same table migrate() bootstraps.
    await client.query(BOOTSTRAP_SQL)
    const params = { dimensions: 8, embeddingModel: 'unused', lexicalBackend: 'tsvector' as const }
    await client.query(MIGRATIONS[0]!.sql(params))
    // Migration 2's chunks table, its embedding column of the stand-in type and without the HNSW index.
    await client.query(`CREATE DOMAIN vector AS text CHECK (VALUE ~ '^\\[.*\\]$');${chunksTableSql('vector')}`)
    await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2), ($3, $4)', [MIGRATIONS[0]!.version, MIGRATIONS[0]!.name, MIGRATIONS[1]!.version, MIGRATIONS[1]!.name])
    await client.query('COMMIT')
  } finally {
    await client.end()
  }
}
