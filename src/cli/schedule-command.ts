import type { Command } from 'commander'
import type { LoadedConfig } from '../config/load-config.js'
import { RagtuneError } from '../errors.js'
import { nextCronTime, parseCron } from '../schedule/cron.js'
import { formatNextRuns, jobSummary } from '../schedule/job-summary.js'
import { LOOP_JOB_NAMES, loopJobCrons, loopJobs } from '../schedule/loop-jobs.js'
import { Scheduler } from '../schedule/scheduler.js'
import type { JobRunRecord } from '../spec/job-run.js'
import { openWorkspace, type Workspace } from '../workspace.js'
import { configFromCli, printJson, table } from './common.js'
import { untilSignal } from './serve-command.js'

const SCHEDULE_HELP = `
Jobs:
  reindex  re-index docs.root; only added, changed and deleted files are touched
           (schedule.reindexCron, default "0 3 * * *": 03:00 UTC nightly)
  retrain  when schedule.minNewLabels (200) labeled examples arrived since the newest adapter's
           dataset: build a dataset, train an adapter into <dataDir>/adapters/auto-<dataset id>,
           register it, evaluate it and the active adapter on the dataset's held-out split, and
           promote it only if the gate passes (else it stays a candidate)
           (schedule.retrainCron, default "0 * * * *": checked hourly)

Cron: five fields "minute hour day-of-month month day-of-week", always in UTC (no daylight-saving
gaps or repeats), e.g. "*/15 * * * *", "0 9 * * MON-FRI", or @hourly / @daily / @weekly.
Set a job's cron to null to run it only by hand. Never two runs of one job at once (the store
guarantees it); a cron time missed while nothing ran is caught up once on start (a job that never
ran runs once on the first start). \`ragtune jobs\` lists every run. While \`ragtune serve\` holds the store, run the scheduler inside it:
\`ragtune serve --schedule\` (or schedule.enabled), which also swaps the served adapter on promotion.`

/** `ragtune schedule start|run|status`: the loop's operations running by themselves. */
export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('run the loop by itself: re-index on a cron, retrain + evaluate + gate + promote when enough new labels arrive')
    .addHelpText('after', SCHEDULE_HELP)

  schedule
    .command('start')
    .description('run the scheduler in the foreground until Ctrl-C (jobs in progress are stopped and recorded as failed)')
    .action(async (_flags: unknown, cmd: Command) => {
      const loaded = await configFromCli(cmd)
      const ws = await openLoopWorkspace(loaded, { reranker: true })
      const log = (m: string): void => void process.stderr.write(`${new Date().toISOString()} ${m}\n`)
      const scheduler = new Scheduler({ store: ws.store, jobs: loopJobs({ loaded, dataDir: ws.dataDir, store: ws.store, embedder: ws.embedder, reranker: ws.reranker }), log })
      try {
        const started = await scheduler.start()
        process.stdout.write(`scheduler running (times in UTC); stop with Ctrl-C\n${formatNextRuns(scheduler.nextRuns())}\n`)
        if (started.caughtUp.length) process.stdout.write(`catching up on: ${started.caughtUp.join(', ')}\n`)
        await untilSignal()
      } finally {
        await scheduler.stop()
        await ws.close()
      }
    })

  schedule
    .command('run')
    .description('run one job now and wait for it; recorded with trigger "manual" (skipped if a run of it is in progress)')
    .argument('<job>', `job: ${LOOP_JOB_NAMES.join(' | ')}`)
    .option('--json', 'print the recorded run as JSON')
    .action(async (job: string, flags: { json?: boolean }, cmd: Command) => {
      if (!(LOOP_JOB_NAMES as readonly string[]).includes(job)) throw new RagtuneError('USAGE', `expected a job name (${LOOP_JOB_NAMES.join(', ')}), got "${job}"`)
      const loaded = await configFromCli(cmd)
      const ws = await openLoopWorkspace(loaded, { reranker: job === 'retrain' })
      const log = (m: string): void => void (flags.json ? undefined : process.stderr.write(`${m}\n`))
      const scheduler = new Scheduler({ store: ws.store, jobs: loopJobs({ loaded, dataDir: ws.dataDir, store: ws.store, embedder: ws.embedder, reranker: ws.reranker }), log })
      const onSigint = (): void => void scheduler.stop()
      process.once('SIGINT', onSigint)
      let run: JobRunRecord
      try {
        run = await scheduler.runNow(job)
      } finally {
        process.off('SIGINT', onSigint)
        await scheduler.stop()
        await ws.close()
      }
      if (flags.json) printJson(run)
      else process.stdout.write(`${run.job} ${run.outcome} (run ${run.id}): ${jobSummary(run)}\n`)
      if (run.outcome === 'failed') {
        if ((run.detail.error as { code?: string } | undefined)?.code === 'ABORTED') throw new RagtuneError('ABORTED', `job ${job} was interrupted; the run is recorded as failed (${run.id})`)
        throw new RagtuneError('JOB_FAILED', `job ${job} failed; the run is recorded as ${run.id}`, { hint: '`ragtune jobs --job ' + job + ' --json` shows its detail' })
      }
    })

  schedule
    .command('status')
    .description('each job\'s cron, next time (UTC) and last run')
    .option('--json', 'print the status as JSON')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const loaded = await configFromCli(cmd)
      const { schedule: cfg } = loaded.config
      const ws = await openWorkspace(loaded, { embedder: false, requireIndex: true })
      try {
        const now = new Date()
        const crons = loopJobCrons(cfg)
        const status = await Promise.all(LOOP_JOB_NAMES.map(async (job) => {
          const cron = crons[job]
          const [last] = await ws.store.listJobRuns({ job, limit: 1 })
          return { job, cron, next: cron === null ? null : nextCronTime(parseCron(cron), now)?.toISOString() ?? null, last: last ?? null }
        }))
        if (flags.json) return printJson({ enabledInServe: cfg.enabled, minNewLabels: cfg.minNewLabels, jobs: status })
        process.stdout.write(table([['job', 'cron (UTC)', 'next', 'last run', 'outcome', 'summary'], ...status.map((s) => [
          s.job, s.cron ?? 'by hand only', s.next?.slice(0, 16).replace('T', ' ') ?? '-', s.last?.startedAt.slice(0, 19).replace('T', ' ') ?? 'never', s.last?.outcome ?? '-', s.last ? jobSummary(s.last) : '',
        ])]) + `\nin ragtune serve: ${cfg.enabled ? 'on (schedule.enabled)' : 'off (use --schedule or schedule.enabled)'}\n`)
      } finally {
        await ws.close()
      }
    })
}

/** The store and the retrieval models the jobs use (re-indexing embeds; the dataset and the eval retrieve as inference does). */
function openLoopWorkspace(loaded: LoadedConfig, opts: { reranker: boolean }): Promise<Workspace> {
  return openWorkspace(loaded, { embedder: true, reranker: opts.reranker && loaded.config.retrieval.rerank }).catch((err: unknown) => {
    if (err instanceof RagtuneError && err.code === 'STORE_LOCKED') {
      throw new RagtuneError('STORE_LOCKED', err.message.split('\n')[0]!, {
        details: err.details,
        hint: 'a running `ragtune serve` holds the store: start it with --schedule to run the jobs inside it, or stop it first',
      })
    }
    throw err
  })
}
