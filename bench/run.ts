import { rm } from 'node:fs/promises'
import { fmt, note, printTable } from './lib/format.js'
import { watchForeignLoad } from './lib/load.js'
import { machineInfo, writeResult, type BenchResult } from './lib/results.js'
import { runIndexing, type FullIndex } from './indexing.js'
import { runKernels } from './kernels.js'
import { runQuality } from './quality.js'
import { runReindex } from './reindex.js'
import { runScale } from './scale.js'
import { runSearch } from './search.js'
import { runServe } from './serve.js'
import { runTrain } from './train.js'

/**
 * `npm run bench [-- name...]`: runs the named benchmarks (all by default) in a fixed order, prints
 * a table per benchmark and writes bench/results/<name>.json. Reindex reuses the index that indexing
 * leaves behind when both run.
 */
const keep: { full?: FullIndex } = {}
const BENCHMARKS: Record<string, () => Promise<BenchResult>> = {
  indexing: () => runIndexing(keep),
  reindex: () => runReindex(keep),
  search: runSearch,
  quality: runQuality,
  serve: runServe,
  scale: runScale,
  kernels: runKernels,
  train: runTrain,
}

async function main(): Promise<number> {
  const asked = process.argv.slice(2).filter((a) => a !== '--')
  const unknown = asked.filter((a) => !(a in BENCHMARKS))
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; choose from: ${Object.keys(BENCHMARKS).join(', ')}\n`)
    return 2
  }
  const names = Object.keys(BENCHMARKS).filter((n) => asked.length === 0 || asked.includes(n))
  const m = machineInfo()
  process.stdout.write(`ragtune bench: ${names.join(', ')} on ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB), Node ${m.node}\n`)
  const t0 = performance.now()
  const outcomes: Array<{ name: string; result?: BenchResult; error?: string; ms: number; foreign: number }> = []
  for (const name of names) {
    const s0 = performance.now()
    const foreign = watchForeignLoad()
    try {
      const result = await BENCHMARKS[name]!()
      const ms = performance.now() - s0
      const foreignLoadPct = foreign()
      const file = await writeResult(name, result, { durationMs: ms, foreignLoadPct })
      for (const n of result.notes) process.stdout.write(`  note: ${n}\n`)
      note(`${name}: ${fmt(ms / 1000)} s, wrote ${file}`)
      outcomes.push({ name, result, ms, foreign: foreignLoadPct })
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err)
      process.stderr.write(`[bench] ${name} FAILED: ${error}\n`)
      outcomes.push({ name, error, ms: performance.now() - s0, foreign: foreign() })
    }
  }
  // indexing keeps its last store for reindex; when reindex did not run, nobody else removes it.
  if (keep.full) await rm(keep.full.tempRoot, { recursive: true, force: true })
  const goals = outcomes.flatMap((o) => (o.result?.goals ?? []).map((g) => [o.name, g.goal, g.value, g.target, g.met ? 'met' : 'MISSED']))
  if (goals.length > 0) printTable('goals', ['benchmark', 'goal', 'value', 'target', ''], goals)
  // Other processes' CPU share: on a shared machine, the runs where it is high are the noisy ones.
  printTable('runtime', ['benchmark', 'seconds', 'other procs % of CPU', 'status'], [
    ...outcomes.map((o) => [o.name, o.ms / 1000, o.foreign, o.error ? 'FAILED' : 'ok']),
    ['total', (performance.now() - t0) / 1000, NaN, ''],
  ])
  return outcomes.some((o) => o.error) ? 1 : 0
}

process.exitCode = await main()
