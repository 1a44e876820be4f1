/**
 * Child process for the scheduler crash test: opens a persisted store, starts a run of `<job>` that
 * never ends, prints "running <id>" once its row is in the store, and waits to be SIGKILLed.
 */
import { Scheduler } from '../../src/schedule/scheduler.js'
import { PGliteStore } from '../../src/store/pglite-store.js'

const [dataDir, job] = process.argv.slice(2) as [string, string]
const store = await PGliteStore.open({ dataDir })
const scheduler = new Scheduler({
  store,
  jobs: [{ name: job, cron: null, description: 'hangs', run: (ctx) => (process.stdout.write(`running ${ctx.runId}\n`), new Promise(() => undefined)) }],
})
// Stay alive until killed (the heartbeat timer is unref'd).
setInterval(() => undefined, 1000)
await scheduler.runNow(job)
