import type { Command } from 'commander'
import { RagtuneError } from '../errors.js'
import { jobSummary } from '../schedule/job-summary.js'
import type { JobOutcome, JobRunRecord } from '../spec/job-run.js'
import { openWorkspace } from '../workspace.js'
import { configFromCli, intOption, printJson, table } from './common.js'

const OUTCOMES: readonly JobOutcome[] = ['running', 'ok', 'failed', 'skipped']

/** `ragtune jobs`: the scheduler's run history, newest first. */
export function registerJobs(program: Command): void {
  program
    .command('jobs')
    .description('history of scheduled and manual job runs (reindex, retrain), newest first: trigger, times, outcome and what each run did')
    .option('--job <name>', 'only runs of this job')
    .option('--outcome <outcome>', `only runs with this outcome: ${OUTCOMES.join(', ')}`)
    .option('--limit <n>', 'how many runs', intOption('--limit'), 20)
    .option('--json', 'print the runs (with their full detail) as JSON')
    .addHelpText('after', `
Triggers: cron (its time came), startup-catchup (a cron time passed while nothing ran; run once on
start), manual (ragtune schedule run <job>). Outcomes: ok, skipped (nothing to do, or another run of
the job was running), failed (the error is shown; a run left running by a crashed process is marked
failed on the next start), running. Times are UTC.`)
    .action(async (flags: { job?: string; outcome?: string; limit: number; json?: boolean }, cmd: Command) => {
      if (flags.outcome !== undefined && !OUTCOMES.includes(flags.outcome as JobOutcome)) {
        throw new RagtuneError('USAGE', `--outcome expects one of ${OUTCOMES.join(', ')}, got "${flags.outcome}"`)
      }
      const ws = await openWorkspace(await configFromCli(cmd), { embedder: false, requireIndex: true })
      try {
        const runs = await ws.store.listJobRuns({ limit: flags.limit, ...(flags.job ? { job: flags.job } : {}), ...(flags.outcome ? { outcome: flags.outcome as JobOutcome } : {}) })
        if (flags.json) return printJson(runs)
        if (runs.length === 0) return void process.stdout.write('no job runs yet: ragtune serve --schedule, ragtune schedule start, or ragtune schedule run <job>\n')
        process.stdout.write(formatJobs(runs) + '\n')
      } finally {
        await ws.close()
      }
    })
}

/** The plain-text table of `ragtune jobs`. */
export function formatJobs(runs: JobRunRecord[]): string {
  const rows = runs.map((r) => [r.id, r.job, r.trigger, r.startedAt.slice(0, 19).replace('T', ' '), took(r), r.outcome, jobSummary(r)])
  return table([['run', 'job', 'trigger', 'started (UTC)', 'took', 'outcome', 'summary'], ...rows])
}

function took(r: JobRunRecord): string {
  if (r.finishedAt === null) return '-'
  const s = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000
  return s < 60 ? `${s.toFixed(1)}s` : s < 3600 ? `${(s / 60).toFixed(1)}m` : `${(s / 3600).toFixed(1)}h`
}
