/**
 * Child process for the promotion crash test: promotes two registered adapters in turn, as fast as it
 * can, on a persisted store, and prints one line per committed promotion so the parent can SIGKILL
 * it at any point, in the middle of a transaction included.
 */
import { promoteAdapter } from '../../src/registry/promote.js'
import { PGliteStore } from '../../src/store/pglite-store.js'

const [dataDir] = process.argv.slice(2) as [string]
const store = await PGliteStore.open({ dataDir })
process.stdout.write('ready\n')
for (let i = 1; ; i++) {
  await promoteAdapter(store, i % 2 === 1 ? 'a2' : 'a1', { force: true, reason: `round ${i}` })
  process.stdout.write(`done ${i}\n`)
}
