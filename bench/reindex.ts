import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { editFiles } from './lib/corpus.js'
import { envInt } from './lib/env.js'
import { fmt, note, pct, printTable } from './lib/format.js'
import { DEFAULTS, ragtuneIndexRun, type RagtuneRun } from './lib/ragtune-index.js'
import type { BenchResult } from './lib/results.js'
import { chooseCorpus, loadBenchEncoder, type FullIndex } from './indexing.js'

/**
 * Re-index after a small edit: the cost should follow what changed (hash every file, re-embed the
 * edited ones), not the corpus. Uses the index the indexing benchmark left behind, or builds one.
 */
export async function runReindex(keep: { full?: FullIndex }): Promise<BenchResult> {
  const percent = envInt('BENCH_REINDEX_PERCENT', 1)
  const embedder = await loadBenchEncoder(DEFAULTS.models.embedder.batchSize)
  let full = keep.full
  const notes: string[] = []
  try {
    if (!full) {
      note('reindex: no index from the indexing benchmark in this run; building one (one ragtune pass)')
      const { corpus, reason } = await chooseCorpus(embedder, 1, envInt('BENCH_INDEX_BUDGET_S', 240) / 3, DEFAULTS.models.embedder.batchSize)
      notes.push(`corpus size: ${reason}`)
      const tempRoot = await mkdtemp(join(tmpdir(), 'ragtune-bench-reindex-'))
      const storeDir = join(tempRoot, 'store')
      const run = await ragtuneIndexRun(corpus.dir, storeDir, embedder, DEFAULTS.models.embedder.batchSize)
      full = { corpus, storeDir, fullMs: run.ms, chunks: run.report.chunksWritten, tempRoot }
    } else {
      await embedder.doEmbed(['warm up the ONNX session before timing'], { kind: 'document' })
    }
    keep.full = undefined
    note('reindex: nothing changed')
    const noop = await ragtuneIndexRun(full.corpus.dir, full.storeDir, embedder, DEFAULTS.models.embedder.batchSize)
    const edited = await editFiles(full.corpus.dir, full.corpus.files, percent / 100, 99)
    note(`reindex: ${edited.length} of ${full.corpus.files.length} files edited`)
    const changed = await ragtuneIndexRun(full.corpus.dir, full.storeDir, embedder, DEFAULTS.models.embedder.batchSize)
    if (changed.report.plan.changed.length !== edited.length || changed.report.plan.added.length + changed.report.plan.deleted.length !== 0) {
      throw new Error(`expected ${edited.length} changed files and no adds or deletes, got plan ${JSON.stringify({ ...changed.report.plan, unchanged: changed.report.plan.unchanged.length })}`)
    }
    const row = (label: string, r: RagtuneRun) => [label, r.report.plan.changed.length, r.report.chunksWritten, pct(r.report.chunksWritten, full!.chunks), r.ms, r.times.embedMs, r.times.storeWriteMs, pct(r.ms, full!.fullMs)]
    printTable(`reindex: ${full.corpus.files.length} files, ${full.chunks} chunks; the full index took ${fmt(full.fullMs / 1000)} s`, ['run', 'files changed', 'chunks re-embedded', '% of chunks', 'ms', 'embed ms', 'store ms', '% of full index'], [
      row('nothing changed', noop),
      row(`${percent}% of files edited`, changed),
    ])
    const fraction = changed.ms / full.fullMs
    notes.push(
      'Times are indexFolder wall time on the same store as the full index (store open/close excluded, as for the full index).',
      'A changed file is re-chunked and re-embedded whole; its unchanged chunks are not reused. The "nothing changed" run is the fixed cost (discover, hash every file, read the manifest); the rest follows the edited files.',
      `With ${full.corpus.files.length} files, ${percent}% rounds to ${edited.length} file(s) = ${fmt(pct(edited.length, full.corpus.files.length))}% of the files: on a small corpus the edit's share, not ragtune's overhead, sets the fraction.`,
    )
    return {
      data: { files: full.corpus.files.length, chunks: full.chunks, fullMs: full.fullMs, edited, noop: { ms: noop.ms, times: noop.times, plan: { unchanged: noop.report.plan.unchanged.length } }, changed: { ms: changed.ms, times: changed.times, chunksWritten: changed.report.chunksWritten, chunksDeleted: changed.report.chunksDeleted }, fraction },
      goals: [{ goal: `re-index after editing ${percent}% of files / full index time`, value: fraction, target: '<= 0.05', met: fraction <= 0.05 }],
      notes,
    }
  } finally {
    await embedder.dispose()
    if (full) await rm(full.tempRoot, { recursive: true, force: true })
  }
}
