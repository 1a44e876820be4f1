import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Command } from 'commander'
import { buildDataset, type BuildDatasetResult } from '../dataset/build-dataset.js'
import { tokenCounterForConfig } from '../dataset/config-token-counter.js'
import { EXPORT_FORMATS, exportDataset, writeDatasetFiles, type ExportFormat } from '../dataset/export-dataset.js'
import { RagtuneError } from '../errors.js'
import { datasetNotFound } from '../store/dataset-sql.js'
import { openWorkspace } from '../workspace.js'
import { whenOption } from './analyze-command.js'
import { configFromCli, interruptSignal, intOption, printJson, table } from './common.js'
import { formatBuild } from './dataset-format.js'
import { ProgressBar } from './progress-bar.js'

interface BuildFlags {
  since?: Date; until?: Date; p: number; seed: number; evalFraction: number; quote?: boolean; cite: boolean; withoutOracle: string
  maxLength: number; minExamples?: number; logs: boolean; imports: boolean; batch?: string[]; name?: string; out?: string; format: string
  dryRun?: boolean; json?: boolean
}

function fraction(flag: string, max: number): (v: string) => number {
  return (v) => {
    const x = Number(v)
    if (v.trim() === '' || !(x >= 0 && x <= max)) throw new RagtuneError('USAGE', `${flag} expects a number from 0 to ${max}, got "${v}"`)
    return x
  }
}

function wholeNumber(flag: string): (v: string) => number {
  return (v) => {
    const x = Number(v)
    if (!Number.isInteger(x) || x < 0) throw new RagtuneError('USAGE', `${flag} expects a whole number >= 0, got "${v}"`)
    return x
  }
}

function exportFormat(v: string): ExportFormat {
  if (!EXPORT_FORMATS.includes(v as ExportFormat)) throw new RagtuneError('USAGE', `--format expects one of ${EXPORT_FORMATS.join(', ')}, got "${v}"`)
  return v as ExportFormat
}

export function registerDataset(program: Command): void {
  const dataset = program.command('dataset').description('fine-tuning datasets built from the labeled query log and imported labels (RAFT), versioned by hash')
  dataset
    .command('build')
    .summary('build a RAFT dataset from labeled queries and imported labels')
    .description(
      'build a dataset: every labeled question (feedback corrections, answers rated good, imported labels) is retrieved again with the ' +
        'SAME pipeline and k as inference; RAFT puts the gold chunk among the distractors with probability --p, else distractors only ' +
        '(target: the refusal); the prompt is rendered by the inference prompt code; train/eval are split by document with no leakage; ' +
        'examples longer than --max-length are reported and left out; the version is stored with its hash and lineage and written as files',
    )
    .option('--since <when>', 'only labeled queries logged since an age (14d) or ISO date', whenOption('--since'))
    .option('--until <when>', 'only labeled queries logged before an age or ISO date', whenOption('--until'))
    .option('--p <p>', 'RAFT: probability that a train context holds the gold chunk', fraction('--p', 1), 0.8)
    .option('--seed <n>', 'seed of every random choice (same labels + seed = same dataset)', wholeNumber('--seed'), 0)
    .option('--eval-fraction <f>', 'share of document groups held out for eval', fraction('--eval-fraction', 0.99), 0.1)
    .option('--quote', 'quote-then-answer targets: the gold sentence, cited, before the answer')
    .option('--no-cite', 'do not add a [n] citation of the gold source to targets that cite nothing')
    .option('--without-oracle <what>', 'target when the context lacks the gold: refuse (say the sources lack it) | keep (the answer, uncited)', 'refuse')
    .option('--max-length <n>', "the trainer's max sequence length in tokens", intOption('--max-length'), 2048)
    .option('--min-examples <n>', 'training examples each failing category needs (default: analyze.minExamplesPerCategory)', wholeNumber('--min-examples'))
    .option('--no-logs', 'leave out labels of logged queries')
    .option('--no-imports', 'leave out imported labels')
    .option('--batch <id...>', 'only these imported label batches (see `ragtune labels list`)')
    .option('--name <name>', 'a name for this version')
    .option('--out <dir>', 'folder for the files (default: <dataDir>/datasets/<id>)')
    .option('--format <format>', `file format: ${EXPORT_FORMATS.join(' | ')}`, 'openai')
    .option('--dry-run', 'build and report, store and write nothing')
    .option('--json', 'print the version, report and files as JSON')
    .action(async (flags: BuildFlags, cmd: Command) => {
      const format = exportFormat(flags.format)
      if (!['refuse', 'keep'].includes(flags.withoutOracle)) throw new RagtuneError('USAGE', `--without-oracle expects refuse or keep, got "${flags.withoutOracle}"`)
      const loaded = await configFromCli(cmd)
      const { config } = loaded
      const ws = await openWorkspace(loaded, { embedder: config.retrieval.mode !== 'lexical', reranker: config.retrieval.rerank, requireIndex: true })
      const { counter, reason } = await tokenCounterForConfig(loaded, ws.dataDir)
      const bar = flags.json ? null : new ProgressBar('dataset')
      try {
        const result = await buildDataset({ store: ws.store, embedder: ws.embedder, reranker: ws.reranker }, {
          retrieval: config.retrieval,
          rules: flags.minExamples !== undefined ? { ...config.analyze, minExamplesPerCategory: flags.minExamples } : config.analyze,
          ...(flags.since ? { since: flags.since } : {}), ...(flags.until ? { until: flags.until } : {}),
          p: flags.p, seed: flags.seed, evalFraction: flags.evalFraction, quote: !!flags.quote, cite: flags.cite,
          withoutOracle: flags.withoutOracle as 'refuse' | 'keep', maxLength: flags.maxLength, tokenCounter: counter,
          includeLogs: flags.logs, includeImports: flags.imports, ...(flags.batch ? { batchIds: flags.batch } : {}),
          ...(flags.name ? { name: flags.name } : {}), save: !flags.dryRun, signal: interruptSignal(),
          onProgress: (p) => bar?.update({ done: p.done, total: p.total, fields: [p.phase === 'retrieve' ? 'retrieving' : 'assembling'], etaSec: null }),
        })
        bar?.stop()
        if (reason) result.report.warnings.push(`token counts are approximate (${reason})`)
        const files = flags.dryRun ? [] : await writeFiles(result, format, flags.out ?? path.join(ws.dataDir, 'datasets', result.version.id))
        if (flags.json) printJson({ version: result.version, existing: result.existing, saved: result.saved, report: result.report, files })
        else process.stdout.write(formatBuild(result, files, !!flags.dryRun) + '\n')
      } finally {
        bar?.stop()
        await counter.dispose?.()
        await ws.close()
      }
    })
  dataset
    .command('list')
    .description('stored dataset versions, newest first: id, name, hash, train/eval counts, created')
    .option('--json', 'print the versions (with lineage and report) as JSON')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const ws = await openWorkspace(await configFromCli(cmd), { embedder: false, requireIndex: true })
      try {
        const versions = await ws.store.listDatasets()
        if (flags.json) return printJson(versions)
        if (versions.length === 0) return void process.stdout.write('no datasets yet (ragtune dataset build)\n')
        process.stdout.write(table([['id', 'name', 'hash', 'train', 'eval', 'created (UTC)'],
          ...versions.map((v) => [v.id, v.name ?? '-', v.hash.slice(0, 12), String(v.counts.train), String(v.counts.eval), v.createdAt.slice(0, 19).replace('T', ' ')])]) + '\n')
      } finally {
        await ws.close()
      }
    })
  dataset
    .command('show')
    .description('one dataset version: hash, counts, lineage (logs, labels, index version, settings) and its build report')
    .argument('<id>', 'dataset id (from `ragtune dataset list`)')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const ws = await openWorkspace(await configFromCli(cmd), { embedder: false, requireIndex: true })
      try {
        const v = await ws.store.getDataset({ id })
        if (!v) throw datasetNotFound(id)
        printJson(v)
      } finally {
        await ws.close()
      }
    })
  dataset
    .command('export')
    .summary('write a stored version as openai, guide or hf files')
    .description('write a stored version as files: openai = chat JSONL {messages, metadata} (the trainer reads this); guide = JSONL {instruction, input, output}; hf = a Hugging Face datasets folder (README.md + data/train.jsonl, data/test.jsonl)')
    .argument('<id>', 'dataset id')
    .requiredOption('--out <dir>', 'output folder')
    .option('--format <format>', `file format: ${EXPORT_FORMATS.join(' | ')}`, 'openai')
    .option('--json', 'print the files written as JSON')
    .action(async (id: string, flags: { out: string; format: string; json?: boolean }, cmd: Command) => {
      const format = exportFormat(flags.format)
      const ws = await openWorkspace(await configFromCli(cmd), { embedder: false, requireIndex: true })
      try {
        const files = await exportDataset(ws.store, id, format, flags.out, interruptSignal())
        if (flags.json) return printJson({ id, format, files })
        process.stdout.write(`wrote ${files.length} file(s):\n${files.map((f) => `  ${f}`).join('\n')}\n`)
      } finally {
        await ws.close()
      }
    })
}

async function writeFiles(result: BuildDatasetResult, format: ExportFormat, outDir: string): Promise<string[]> {
  const files = await writeDatasetFiles(result.version, result.train, result.eval, format, outDir)
  const report = path.join(outDir, 'report.json')
  await writeFile(report, JSON.stringify({ version: result.version, report: result.report }, null, 2) + '\n')
  return [...files, report]
}
