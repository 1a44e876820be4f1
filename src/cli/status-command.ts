import type { Command } from 'commander'
import { LAST_INDEX_KEY, type IndexReport } from '../ingest/indexer.js'
import { isInitialised, openWorkspace } from '../workspace.js'
import { configFromCli, printJson, table } from './common.js'

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('what is indexed, with which models, and how the last index run went')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const loaded = await configFromCli(cmd)
      const ws = await openWorkspace(loaded, { embedder: false })
      try {
        if (!(await isInitialised(ws.store))) {
          if (opts.json) return printJson({ config: loaded.file, dataDir: ws.dataDir, store: null, lastIndex: null })
          process.stdout.write(`nothing indexed in ${ws.dataDir} yet: run \`ragtune index <folder>\`\n`)
          return
        }
        const stats = await ws.store.stats()
        const raw = await ws.store.getMeta(LAST_INDEX_KEY)
        const last = raw ? (JSON.parse(raw) as IndexReport) : null
        const status = {
          config: loaded.file,
          dataDir: ws.dataDir,
          store: stats,
          models: { embedder: loaded.config.models.embedder.model, reranker: loaded.config.retrieval.rerank ? loaded.config.models.reranker.model : null, offline: loaded.config.models.offline },
          lastIndex: last && {
            root: last.root,
            finishedAt: last.finishedAt,
            durationMs: last.durationMs,
            added: last.plan.added.length,
            changed: last.plan.changed.length,
            deleted: last.plan.deleted.length,
            unchanged: last.plan.unchanged.length,
            chunksWritten: last.chunksWritten,
            skipped: last.skipped,
          },
        }
        if (opts.json) return printJson(status)
        const rows = [
          ['config', loaded.file ?? '(none: defaults; `ragtune init` writes one)'],
          ['data dir', ws.dataDir],
          ['documents', String(stats.documents)],
          ['chunks', String(stats.chunks)],
          ['embedding model', `${stats.embeddingModel ?? '(not indexed yet)'}${stats.dimensions ? ` (${stats.dimensions} dims)` : ''}`],
          ['configured embedder', status.models.embedder],
          ['reranker', status.models.reranker ?? 'off'],
          ['lexical index', stats.lexicalBackend === 'bm25' ? 'BM25 (pg_textsearch)' : 'tsvector + ts_rank_cd'],
          ['disk', stats.diskBytes === null ? '-' : `${(stats.diskBytes / 1024 / 1024).toFixed(1)} MiB`],
          ['last index', last ? `${last.finishedAt} from ${last.root}: +${last.plan.added.length} ~${last.plan.changed.length} -${last.plan.deleted.length} (${last.skipped.length} skipped)` : 'never'],
        ]
        process.stdout.write(table(rows) + '\n')
        for (const s of last?.skipped ?? []) process.stdout.write(`  skipped ${s.path}  [${s.code}] ${s.reason}\n`)
      } finally {
        await ws.close()
      }
    })
}
