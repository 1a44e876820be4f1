import type { Command } from 'commander'
import { RagtuneError } from '../errors.js'
import { recordFeedback } from '../observe/feedback.js'
import { queryNotFound } from '../store/query-log-sql.js'
import { printJson } from './common.js'
import { withLogStore } from './logs-command.js'

interface FeedbackFlags {
  good?: boolean
  bad?: boolean
  correction?: string
  category?: string
  json?: boolean
}

export function registerFeedback(program: Command): void {
  program
    .command('feedback')
    .description('label a logged query good or bad, with an optional correction (a training target) and failure category')
    .argument('<queryId>', 'query id (from `ragtune logs`)')
    .option('--good', 'the answer was right')
    .option('--bad', 'the answer was wrong')
    .option('--correction <text>', 'what the answer should have been')
    .option('--category <name>', 'failure category: format, schema, hedging, tone, ungrounded, retrieval-miss, or your own')
    .option('--json', 'print the recorded label as JSON')
    .action(async (queryId: string, flags: FeedbackFlags, cmd: Command) => {
      if (flags.good && flags.bad) throw new RagtuneError('USAGE', 'expected one of --good or --bad, got both')
      if (!flags.good && !flags.bad && flags.correction === undefined && flags.category === undefined) {
        throw new RagtuneError('USAGE', 'expected --good or --bad (and optionally --correction/--category), got none', {
          hint: `e.g. ragtune feedback ${queryId} --bad --category format --correction "the right answer"`,
        })
      }
      await withLogStore(cmd, async (store) => {
        if (!store) throw queryNotFound(queryId)
        const label = await recordFeedback(store, {
          queryId,
          rating: flags.good ? 'good' : flags.bad ? 'bad' : null,
          correction: flags.correction ?? null,
          category: flags.category ?? null,
          source: 'cli',
        })
        if (flags.json) return printJson(label)
        const what = [label.rating, label.category && `category ${label.category}`, label.correction !== null && 'with a correction'].filter(Boolean).join(', ')
        process.stdout.write(`recorded label ${label.id} for query ${queryId}: ${what}\n`)
      })
    })
}
