import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Command } from 'commander'
import type { LoadedConfig } from '../config/load-config.js'
import { RagtuneError } from '../errors.js'
import { gateSettings } from '../eval/eval-config.js'
import { DATASET_SET_PREFIX, resolveEvalSet } from '../eval/eval-set-source.js'
import { gateDecision, type GateDecision } from '../eval/gate.js'
import { METRICS } from '../eval/metric-definitions.js'
import { comparisonMarkdown } from '../eval/report-markdown.js'
import { comparisonSvg } from '../eval/report-svg.js'
import { compareStoredRuns, findRun } from '../eval/run-lookup.js'
import { activeChoice, adapterChoice, evaluateChoice } from '../registry/serving.js'
import type { EvalRunRecord } from '../spec/eval-run.js'
import { openWorkspace } from '../workspace.js'
import { configFromCli, interruptSignal, intOption, printJson, table } from './common.js'
import { ProgressBar } from './progress-bar.js'

/** --help text: the eval set format and the metrics, so nobody has to read the source to write a set. */
export const EVAL_SET_HELP = `
Eval set: JSONL, one example per line, either
  {"question": "...", "answer": "..." | ["...", ...], "label": "yes", "goldDocIds": ["guide.md"],
   "category": "format", "schema": {JSON Schema}, "id": "q1"}          (all but question optional)
or the chat records the dataset builder exports for OpenAI fine-tuning:
  {"messages": [..., {"role": "assistant", "content": "gold answer"}],
   "metadata": {"category" (or "categories"), "goldDocIds" (or "goldDocuments", "goldChunkIds"), "label", "id"}}
--set dataset:<id> reads the held-out split of a dataset version (ragtune dataset build, ragtune dataset list).
goldDocIds are indexed document paths (or chunk ids). Examples without a category are "uncategorized".
Held-out examples are never written to the query log (the dataset builder trains on it).

Metrics (per example, only those its fields support):
${METRICS.map((m) => `  ${m.name.padEnd(18)} ${m.kind === 'binary' ? '0/1' : '   '} ${m.higherIsBetter ? '' : '(lower is better) '}${m.description}`).join('\n')}
`

/** `eval run`, `eval compare`, `eval runs`: adapters on held-out sets, next to `eval retrieval`. */
export function registerAdapterEval(evalCmd: Command): void {
  evalCmd
    .command('run')
    .description('answer a held-out eval set with one adapter (or the base model) and store every example\'s metrics')
    .option('--adapter <name>', 'registry name, or "base" for no adapter (default: what `ragtune serve` serves)')
    .option('--set <file>', `eval set JSONL, or ${DATASET_SET_PREFIX}<id> for a stored dataset's held-out split (default: eval.set in the config)`)
    .option('--limit <n>', 'only the first n examples', intOption('--limit'))
    .option('--json', 'print the stored run (summary, settings) as JSON')
    .addHelpText('after', EVAL_SET_HELP)
    .action(async (flags: { adapter?: string; set?: string; limit?: number; json?: boolean }, cmd: Command) => {
      const loaded = await configFromCli(cmd)
      const setRef = setFile(loaded, flags.set)
      const { config } = loaded
      const signal = interruptSignal()
      const ws = await openWorkspace(loaded, { embedder: config.retrieval.mode !== 'lexical', reranker: config.retrieval.rerank, requireIndex: true })
      const bar = flags.json ? null : new ProgressBar('eval')
      try {
        const set = await resolveEvalSet(setRef, ws.store)
        const choice = flags.adapter ? await adapterChoice(loaded, ws.dataDir, ws.store, flags.adapter) : await activeChoice(loaded, ws.dataDir, ws.store)
        const record = await evaluateChoice({
          loaded, choice, set, deps: { store: ws.store, embedder: ws.embedder, reranker: ws.reranker }, signal, ...(flags.limit ? { limit: flags.limit } : {}),
          onProgress: (p) => bar?.update({ done: p.done, total: p.total, fields: [`${choice.adapter} on ${set.name}`], etaSec: null }),
        })
        bar?.stop()
        if (flags.json) printJson(record)
        else process.stdout.write(formatRun(record) + '\n')
      } finally {
        bar?.stop()
        await ws.close()
      }
    })

  evalCmd
    .command('compare')
    .description('paired A/B comparison of two eval runs: bootstrap intervals, McNemar tests, regressions by category, gate verdict')
    .argument('<a>', 'run id, or adapter name (its newest run), e.g. the active adapter or "base"')
    .argument('<b>', 'run id, or adapter name: the candidate')
    .option('--set <file>', `with adapter names: use their runs on this eval set (a file or ${DATASET_SET_PREFIX}<id>)`)
    .option('--metric <name>', 'primary metric of the gate verdict and the chart (default: eval.primaryMetric, auto)')
    .option('--out <dir>', 'also write report.md, report.json and report.svg (per-category chart) there')
    .option('--json', 'print {comparison, decision} as JSON instead of markdown')
    .action(async (aRef: string, bRef: string, flags: { set?: string; metric?: string; out?: string; json?: boolean }, cmd: Command) => {
      const loaded = await configFromCli(cmd)
      const ws = await openWorkspace(loaded, { embedder: false, requireIndex: true })
      try {
        const setSha256 = flags.set ? (await resolveEvalSet(flags.set, ws.store)).sha256 : undefined
        const a = await findRun(ws.store, aRef, setSha256 ? { setSha256 } : {})
        const b = await findRun(ws.store, bRef, { setSha256: setSha256 ?? a.setSha256 })
        const settings = gateSettings(loaded.config.eval, flags.metric ? { primaryMetric: flags.metric } : {})
        const comparison = await compareStoredRuns(ws.store, a, b, settings.compare)
        let decision: GateDecision | null = null
        try {
          decision = gateDecision(comparison, settings.gate)
        } catch (err) {
          if (!(err instanceof RagtuneError && err.code === 'EVAL_METRIC_MISSING') || flags.metric) throw err
        }
        const markdown = comparisonMarkdown(comparison, decision)
        if (flags.out) {
          const chartMetric = decision?.primary.metric ?? comparison.overall[0]!.metric
          await mkdir(flags.out, { recursive: true })
          await writeFile(path.join(flags.out, 'report.md'), markdown)
          await writeFile(path.join(flags.out, 'report.json'), JSON.stringify({ comparison, decision }, null, 2) + '\n')
          await writeFile(path.join(flags.out, 'report.svg'), comparisonSvg(comparison, chartMetric))
        }
        if (flags.json) printJson({ comparison, decision })
        else process.stdout.write(markdown)
      } finally {
        await ws.close()
      }
    })

  evalCmd
    .command('runs')
    .description('stored eval runs, newest first')
    .option('--adapter <name>', 'only runs of this adapter')
    .option('--json', 'print the runs as JSON')
    .action(async (flags: { adapter?: string; json?: boolean }, cmd: Command) => {
      const ws = await openWorkspace(await configFromCli(cmd), { embedder: false, requireIndex: true })
      try {
        const runs = await ws.store.listEvalRuns(flags.adapter ? { adapter: flags.adapter } : {})
        if (flags.json) return printJson(runs)
        if (runs.length === 0) return void process.stdout.write('no eval runs yet: ragtune eval run --adapter <name> --set <file>\n')
        const rows = runs.map((r) => [r.id, r.time.slice(0, 19).replace('T', ' '), r.adapter, `${r.setName} (${r.setSha256.slice(0, 8)})`, String(r.examples), headline(r)])
        process.stdout.write(table([['run', 'time (UTC)', 'adapter', 'set', 'examples', 'means'], ...rows]) + '\n')
      } finally {
        await ws.close()
      }
    })
}

/** The eval set: the flag (a file relative to the working directory) or eval.set (relative to the config); dataset:<id> as is. */
function setFile(loaded: LoadedConfig, flag: string | undefined): string {
  if (flag) return flag
  const set = loaded.config.eval.set
  if (set) return set.startsWith(DATASET_SET_PREFIX) ? set : path.resolve(loaded.baseDir, set)
  throw new RagtuneError('USAGE', 'no eval set: pass --set <file.jsonl> or set eval.set in the config', { hint: 'see `ragtune eval run --help` for the format' })
}

function headline(r: EvalRunRecord): string {
  return METRICS.filter((m) => m.name in r.summary && m.name !== 'latency_ms').slice(0, 4).map((m) => `${m.name} ${r.summary[m.name]!.toFixed(3)}`).join(', ')
}

function formatRun(r: EvalRunRecord): string {
  const rows = METRICS.filter((m) => m.name in r.summary).map((m) => [m.name, m.name === 'latency_ms' ? r.summary[m.name]!.toFixed(0) : r.summary[m.name]!.toFixed(3), m.higherIsBetter ? '' : 'lower is better'])
  return [
    `eval run ${r.id}: ${r.adapter}${r.adapterId ? ` (${r.adapterId})` : ''} on ${r.setName} · ${r.examples} examples · model ${r.model}`,
    '',
    table([['metric', 'mean', ''], ...rows]),
    ...r.warnings.slice(0, 5).map((w) => `warning: ${w}`),
    '',
    `compare it: ragtune eval compare <other run or adapter> ${r.id}`,
  ].join('\n')
}
