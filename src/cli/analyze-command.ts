import type { Command } from 'commander'
import { analyzeLogs, emptyFailureReport } from '../analyze/failure-report.js'
import { formatFailureReport } from '../analyze/report-markdown.js'
import { RagtuneError } from '../errors.js'
import { parseSince } from '../observe/since.js'
import type { Generator } from '../spec/generator.js'
import { loadGenerator } from '../workspace.js'
import { configFromCli, interruptSignal, intOption, printJson } from './common.js'
import { withLogStore } from './logs-command.js'

interface AnalyzeFlags {
  since?: Date
  until?: Date
  bucket: string
  judge?: boolean
  examples: number
  minExamples?: number
  json?: boolean
}

/** `--since`/`--until` values: ages (14d) or ISO dates, as `ragtune logs` reads them. */
export function whenOption(flag: string): (v: string) => Date {
  return (v) => {
    try {
      return parseSince(v)
    } catch (err) {
      throw new RagtuneError('USAGE', `${flag} ${(err as Error).message}`)
    }
  }
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .summary('failure rates by category, trend and training-data gaps from the query log')
    .description(
      'find what ragtune consistently gets wrong: runs every logged answer through the failure detectors (format, schema, hedging, ' +
        'tone, citations, grounding, retrieval misses, refusals) plus your labels, and reports failure rates by category with ' +
        'example query ids, the trend per day or week, and which categories lack training examples (markdown, or --json)',
    )
    .option('--since <when>', 'only queries since an age (14d, 12h) or an ISO date (default: all)', whenOption('--since'))
    .option('--until <when>', 'only queries before an age or ISO date (default: now)', whenOption('--until'))
    .option('--bucket <size>', 'trend buckets: day | week | auto (days up to a month, else weeks)', 'auto')
    .option('--judge', 'also grade every answer with the configured generator (strict JSON); slow; a failed verdict counts as judge_error')
    .option('--examples <n>', 'example query ids kept per category', intOption('--examples'), 5)
    .option('--min-examples <n>', 'training examples a failing category needs (default: analyze.minExamplesPerCategory, 20)', intOption('--min-examples'))
    .option('--json', 'print the report as JSON')
    .action(async (flags: AnalyzeFlags, cmd: Command) => {
      if (!['day', 'week', 'auto'].includes(flags.bucket)) throw new RagtuneError('USAGE', `--bucket expects day, week or auto, got "${flags.bucket}"`)
      const report = await withLogStore(cmd, async (store, ws) => {
        const rules = flags.minExamples !== undefined ? { ...ws.config.analyze, minExamplesPerCategory: flags.minExamples } : ws.config.analyze
        const window = { ...(flags.since ? { since: flags.since } : {}), ...(flags.until ? { until: flags.until } : {}) }
        if (!store) return emptyFailureReport({ ...window, rules })
        let judge: Generator | undefined
        const progress = throttledProgress(!flags.json)
        try {
          if (flags.judge) judge = await loadGenerator(await configFromCli(cmd), ws.dataDir)
          return await analyzeLogs(store, {
            ...window, rules, examplesPerCategory: flags.examples, bucket: flags.bucket as 'day' | 'week' | 'auto',
            ...(judge ? { judge } : {}), signal: interruptSignal(), onProgress: progress,
          })
        } finally {
          await judge?.dispose()
        }
      })
      if (flags.json) printJson(report)
      else process.stdout.write(formatFailureReport(report) + '\n')
    })
}

/** A plain progress line on stderr every few seconds: the log's length is unknown up front. */
function throttledProgress(enabled: boolean): (p: { done: number }) => void {
  let last = Date.now()
  return (p) => {
    if (!enabled || Date.now() - last < 3000) return
    last = Date.now()
    process.stderr.write(`analyze: ${p.done} queries…\n`)
  }
}
