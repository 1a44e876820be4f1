import { stat } from 'node:fs/promises'
import path from 'node:path'
import { RagtuneError } from '../errors.js'
import type { Command } from 'commander'
import { indexFolder, type IndexReport } from '../ingest/indexer.js'
import { watchIgnore, watchIndex } from '../schedule/watch-index.js'
import { openWorkspace, type Workspace } from '../workspace.js'
import { configFromCli, interruptSignal, printJson } from './common.js'
import { ProgressBar } from './progress-bar.js'

export function registerIndex(program: Command): void {
  program
    .command('index')
    .description('index a folder: only added and changed files are embedded, deleted files are removed')
    .argument('[dir]', 'folder to index (default: docs.root from the config)')
    .option('--dry-run', 'list adds, changes and deletes without touching the index')
    .option('--json', 'print the run report as JSON (with --watch: one JSON line per run)')
    .option('--watch', 'after indexing, keep watching the folder and re-index changed and deleted files as they change (300 ms debounce); Ctrl-C stops')
    .action(async (dir: string | undefined, opts: { dryRun?: boolean; json?: boolean; watch?: boolean }, cmd: Command) => {
      if (opts.watch && opts.dryRun) throw new RagtuneError('USAGE', '--watch writes the index on every change; it cannot be combined with --dry-run', { hint: 'drop one of the two flags' })
      const loaded = await configFromCli(cmd)
      const { config } = loaded
      const root = path.resolve(dir ?? path.resolve(loaded.baseDir, config.docs.root))
      const isDir = await stat(root).then((s) => s.isDirectory(), () => false)
      if (!isDir) throw new RagtuneError('DISCOVER_ROOT_MISSING', `${root} is not a folder`, { hint: dir ? 'pass the folder that holds your documents' : 'pass a folder, or set docs.root in ragtune.config.json' })
      const ws = await openWorkspace(loaded, { embedder: true })
      try {
        const signal = interruptSignal()
        const report = await indexWithProgress(ws, root, { dryRun: !!opts.dryRun, quiet: !!opts.json, signal })
        const print = (r: IndexReport): void => void (opts.json ? (opts.watch ? process.stdout.write(JSON.stringify(r) + '\n') : printJson(r)) : process.stdout.write(formatIndexReport(r) + '\n'))
        print(report)
        if (opts.watch) {
          process.stderr.write(`watching ${root} for changes (Ctrl-C to stop)\n`)
          let skipped = report.skipped.length
          await watchIndex({
            root, signal, ignore: watchIgnore({ root, exclude: config.docs.exclude, dataDir: ws.dataDir }),
            reindex: (s) => indexWithProgress(ws, root, { quiet: true, signal: s }),
            // Events that changed nothing (a save without edits) print nothing; a file that broke does.
            onReport: (r) => {
              if (r.indexed.length + r.plan.deleted.length > 0 || r.skipped.length !== skipped) print(r)
              skipped = r.skipped.length
            },
            onError: (err) => void process.stderr.write(`error: ${(err as Error).message}\n`),
          })
          process.stderr.write('stopped watching\n')
        }
      } finally {
        await ws.close()
      }
    })
}

/** Indexes `root` into the workspace with the config's settings, showing a progress bar on stderr. */
export async function indexWithProgress(ws: Workspace, root: string, opts: { dryRun?: boolean; quiet?: boolean; label?: string; signal?: AbortSignal }): Promise<IndexReport> {
  const { config } = ws
  const bar = opts.quiet ? null : new ProgressBar(opts.label ?? 'indexing')
  try {
    return await indexFolder({
      root,
      store: ws.store,
      embedder: ws.embedder!,
      chunking: config.chunking,
      include: config.docs.include,
      exclude: config.docs.exclude,
      maxFileBytes: config.docs.maxFileBytes,
      batchSize: config.models.embedder.batchSize,
      dryRun: !!opts.dryRun,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onProgress: (p) => {
        if (p.phase !== 'scan') bar?.update({ done: p.filesDone, total: p.filesTotal, fields: [`${p.chunksDone} chunks`, `${p.chunksPerSec.toFixed(1)} chunks/s`], etaSec: p.etaSec })
      },
    })
  } finally {
    bar?.stop()
  }
}

/** The human summary of a run: the plan, what was written and every skipped file with its reason. */
export function formatIndexReport(r: IndexReport): string {
  const lines: string[] = []
  const { plan } = r
  if (r.dryRun) {
    lines.push(`dry run for ${r.root}: ${plan.added.length} to add, ${plan.changed.length} to change, ${plan.deleted.length} to delete, ${plan.unchanged.length} unchanged`)
    for (const p of plan.added) lines.push(`  add     ${p}`)
    for (const p of plan.changed) lines.push(`  change  ${p}`)
    for (const p of plan.deleted) lines.push(`  delete  ${p}`)
  } else {
    lines.push(
      `indexed ${r.indexed.length} file(s) into ${r.chunksWritten} chunk(s) from ${r.root} in ${(r.durationMs / 1000).toFixed(1)}s: ` +
        `${plan.added.length} added, ${plan.changed.length} changed, ${plan.deleted.length} deleted (${r.chunksDeleted} chunks removed), ${plan.unchanged.length} unchanged`,
    )
  }
  if (r.skipped.length > 0) {
    lines.push(`skipped ${r.skipped.length} file(s):`)
    for (const s of r.skipped) lines.push(`  ${s.path}  [${s.code}] ${s.reason}${s.keptPrevious ? ' (previous version kept in the index)' : ''}`)
  }
  return lines.join('\n')
}
