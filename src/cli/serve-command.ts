import type { Command } from 'commander'
import { RagtuneError } from '../errors.js'
import { isLoopbackHost, startServer } from '../server/serve.js'
import { openServingGenerator } from '../registry/serving.js'
import { formatNextRuns } from '../schedule/job-summary.js'
import { loopJobs } from '../schedule/loop-jobs.js'
import { Scheduler } from '../schedule/scheduler.js'
import { openWorkspace } from '../workspace.js'
import { configFromCli } from './common.js'

interface ServeFlags {
  host?: string
  port?: number
  auth: boolean
  schedule?: boolean
}

function portOption(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new RagtuneError('USAGE', `--port expects a whole number from 0 to 65535, got "${value}"`)
  return n
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the HTTP API (OpenAI-compatible /v1/chat/completions and /v1/models, /v1/answer, /v1/feedback, /health, /metrics) and the web dashboard at /')
    .option('--host <host>', 'interface to listen on (default: server.host, 127.0.0.1)')
    .option('--port <port>', 'port; 0 picks a free one (default: server.port, 8787)', portOption)
    .option('--no-auth', 'serve without API keys (only on a loopback host)')
    .option('--schedule', 'also run the scheduled jobs (re-index, retrain + gate + promote) on the server\'s store; a promotion swaps the served adapter (default: schedule.enabled; see `ragtune schedule --help`)')
    .action(async (flags: ServeFlags, cmd: Command) => {
      const loaded = await configFromCli(cmd, { server: { ...(flags.host ? { host: flags.host } : {}), ...(flags.port !== undefined ? { port: flags.port } : {}) } })
      const { config } = loaded
      const { host, port } = config.server
      if (!flags.auth && !isLoopbackHost(host)) {
        throw new RagtuneError('USAGE', `--no-auth is only allowed on a loopback host (127.0.0.1, ::1, localhost), got --host ${host}`, {
          hint: 'drop --no-auth and create a key with `ragtune keys create <name>`, or bind to 127.0.0.1',
        })
      }
      const scheduling = !!flags.schedule || config.schedule.enabled
      // The scheduled jobs embed (re-index) even when answers only use lexical retrieval.
      const ws = await openWorkspace(loaded, { embedder: config.retrieval.mode !== 'lexical' || scheduling, reranker: config.retrieval.rerank, requireIndex: true })
      let generator
      let scheduler: Scheduler | undefined
      try {
        // The registry's active adapter (else generator.adapter), swapped in place on promotion.
        generator = await openServingGenerator(loaded, ws.dataDir, ws.store)
        const keys = flags.auth ? (await ws.store.listApiKeys()).filter((k) => k.revokedAt === null).length : 0
        const server = await startServer({ config, store: ws.store, embedder: ws.embedder, reranker: ws.reranker, generator }, { host, port, auth: flags.auth })
        const lines = [
          `ragtune serving ${server.url} (model ${generator.id}${generator.adapter ? ` + adapter ${generator.adapter}` : ''})`,
          `  OpenAI-compatible base URL: ${server.url}/v1`,
          `  dashboard: ${server.url}/`,
          !flags.auth
            ? '  auth: off (--no-auth, loopback only)'
            : keys > 0
              ? `  auth: ${keys} active API key(s); send Authorization: Bearer <key>`
              : '  auth: no API keys yet: stop the server (it holds the store) and run `ragtune keys create <name> --scope query`',
          '  stop with Ctrl-C (in-flight requests finish first)',
        ]
        if (scheduling) {
          // The jobs share the server's store and models; a promotion swaps the served adapter like the promote route does.
          const live = generator
          scheduler = new Scheduler({
            store: ws.store,
            jobs: loopJobs({ loaded, dataDir: ws.dataDir, store: ws.store, embedder: ws.embedder, reranker: ws.reranker, onPromoted: async () => void (await live.refresh()) }),
            log: (msg) => server.ctx.log({ level: 'info', msg, component: 'schedule' }),
          })
          const started = await scheduler.start()
          lines.push(`  schedule (UTC)${started.caughtUp.length ? `, catching up on ${started.caughtUp.join(', ')}` : ''}:`, formatNextRuns(scheduler.nextRuns()))
        }
        process.stdout.write(lines.join('\n') + '\n')
        await untilSignal()
        server.ctx.log({ level: 'info', msg: 'shutting down', inFlight: server.ctx.limiter.active, queued: server.ctx.limiter.queued })
        await scheduler?.stop()
        await server.close({ deadlineMs: config.server.requestTimeoutMs })
      } finally {
        await scheduler?.stop()
        await generator?.dispose()
        await ws.close()
      }
      process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'stopped' }) + '\n')
    })
}

/** Resolves on the first SIGTERM or SIGINT; a second one exits at once. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      process.once('SIGTERM', () => process.exit(143))
      process.once('SIGINT', () => process.exit(130))
      resolve(signal)
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  })
}
