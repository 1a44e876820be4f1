import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import type { LoadedConfig } from '../config/load-config.js'
import { RagtuneError } from '../errors.js'
import { gateSettings } from '../eval/eval-config.js'
import { DATASET_SET_PREFIX, resolveEvalSet } from '../eval/eval-set-source.js'
import { loadEvalSet } from '../eval/eval-set.js'
import { addAdapter, removeAdapter, requireAdapter } from '../registry/adapter-registry.js'
import { promoteAdapter, rollbackAdapter, type PromoteResult } from '../registry/promote.js'
import type { AdapterRecord } from '../spec/adapter-registry.js'
import type { Store } from '../spec/store.js'
import { generatorModelPath, openWorkspace } from '../workspace.js'
import { configFromCli, printJson, table } from './common.js'
import { callServer, SERVER_KEY_ENV } from './server-client.js'

/** The registry lives in the index's store; a running server holds it, so writes may go through the server instead. */
async function withStore<T>(loaded: LoadedConfig, fn: (store: Store, dataDir: string) => Promise<T>): Promise<T> {
  const ws = await openWorkspace(loaded, { embedder: false, requireIndex: true }).catch((err: unknown) => {
    if (err instanceof RagtuneError && err.code === 'STORE_LOCKED') {
      throw new RagtuneError('STORE_LOCKED', `${err.message.split('\n')[0]}`, {
        details: err.details,
        hint: `a running \`ragtune serve\` holds the store: promote or roll back through it with --server <url> (admin key in ${SERVER_KEY_ENV}), or stop it first`,
      })
    }
    throw err
  })
  try {
    return await fn(ws.store, ws.dataDir)
  } finally {
    await ws.close()
  }
}

const PROMOTE_HELP = `
The gate: the candidate's newest eval run and the active adapter's (base before any promotion), on
the same eval set, are compared example by example. It passes when the lower end of the 95% paired
bootstrap interval of the gain on the primary metric is above eval.gate.minLowerBound (0), and no
category (nor the whole set) is significantly worse (McNemar p < 0.05, or the interval below 0) by more
than eval.gate.categoryTolerance (0.05) in any gated metric. --force --reason records an override.
A running server swaps to the new adapter without a restart: use --server so the promotion goes
through it (requests in flight finish on the old adapter).
`

/** `ragtune adapter ...`: the registry verbs, thin over src/registry (the server has the same as routes). */
export function registerAdapter(program: Command): void {
  const adapter = program.command('adapter').description('LoRA adapter registry: add, list, show, promote (gated by a paired A/B eval), roll back, remove')

  adapter
    .command('list')
    .description('every adapter with its status (candidate, active, retired); "base" is the model without adapter')
    .option('--json', 'print the records as JSON')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const all = await withStore(await configFromCli(cmd), (store) => store.listAdapters())
      if (flags.json) return printJson(all)
      const rows = all.map((a) => [a.name, a.status, a.id ?? '-', a.datasetVersion ?? '-', a.createdAt.slice(0, 19).replace('T', ' ')])
      process.stdout.write(table([['name', 'status', 'id', 'dataset', 'added (UTC)'], ...rows]) + '\n')
      if (!all.some((a) => a.status === 'active')) process.stdout.write('\nnothing promoted yet: `ragtune serve` uses generator.adapter from the config\n')
    })

  adapter
    .command('show')
    .description('one adapter: file, hashes, base model, dataset, training config, eval runs and history')
    .argument('<name>', 'registry name')
    .option('--json', 'print {adapter, evalRuns, history} as JSON')
    .action(async (name: string, flags: { json?: boolean }, cmd: Command) => {
      const shown = await withStore(await configFromCli(cmd), async (store) => {
        const record = await requireAdapter(store, name)
        return { adapter: record, evalRuns: await store.listEvalRuns({ adapter: name, limit: 20 }), history: await store.listAdapterEvents({ adapter: name }) }
      })
      if (flags.json) return printJson(shown)
      const lines = [...describe(shown.adapter), '', 'eval runs:']
      for (const r of shown.evalRuns) lines.push(`  ${r.id}  ${r.setName}  ${r.examples} examples  ${Object.entries(r.summary).slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`)
      if (shown.evalRuns.length === 0) lines.push(`  none: ragtune eval run --adapter ${name} --set <file>`)
      lines.push('', 'history:')
      for (const e of shown.history) lines.push(`  ${e.time}  ${e.action} ${e.adapter}${e.previous ? ` (was ${e.previous})` : ''}${e.forced ? ' FORCED' : ''}${e.reason ? `: ${e.reason}` : ''}`)
      process.stdout.write(lines.join('\n') + '\n')
    })

  adapter
    .command('add')
    .description('register an existing GGUF LoRA file as a candidate (checked against the configured base model)')
    .argument('<name>', 'registry name (letters, digits, . _ -)')
    .argument('<file>', 'GGUF LoRA adapter file')
    .option('--dataset-version <id>', 'dataset version it was trained on')
    .option('--training-config <file>', 'JSON file with the training hyper-parameters')
    .option('--parent <name>', 'registered adapter it continues from')
    .option('--reason <text>', 'note for the history')
    .option('--json', 'print the record as JSON')
    .action(async (name: string, file: string, flags: { datasetVersion?: string; trainingConfig?: string; parent?: string; reason?: string; json?: boolean }, cmd: Command) => {
      const loaded = await configFromCli(cmd)
      const trainingConfig = flags.trainingConfig ? await readJson(flags.trainingConfig) : null
      const record = await withStore(loaded, async (store, dataDir) => {
        const baseModelPath = loaded.config.generator.provider === 'llama' ? await generatorModelPath(loaded, dataDir) : null
        return addAdapter(store, { name, file, baseModelPath, datasetVersion: flags.datasetVersion ?? null, trainingConfig, parent: flags.parent ?? null, reason: flags.reason ?? null })
      })
      if (flags.json) return printJson(record)
      process.stdout.write(`added candidate ${record.name} (${record.id})\nnext: ragtune eval run --adapter ${record.name} --set <file>, then ragtune adapter promote ${record.name}\n`)
    })

  adapter
    .command('promote')
    .description('make an adapter (or "base") the active one, if it passes the gate against the active one')
    .argument('<name>', 'registry name, or "base"')
    .option('--set <file>', `gate on the runs of this eval set, a file or ${DATASET_SET_PREFIX}<id> (default: the newest set both were run on)`)
    .option('--metric <name>', 'primary metric (default: eval.primaryMetric, auto)')
    .option('--force', 'promote even if the gate rejects it (needs --reason; recorded as an override)')
    .option('--reason <text>', 'why; recorded in the history')
    .option('--server <url>', `promote through a running \`ragtune serve\` (admin key in ${SERVER_KEY_ENV}); it swaps without a restart`)
    .option('--json', 'print the result (with the gate decision) as JSON')
    .addHelpText('after', PROMOTE_HELP)
    .action(async (name: string, flags: { set?: string; metric?: string; force?: boolean; reason?: string; server?: string; json?: boolean }, cmd: Command) => {
      const loaded = await configFromCli(cmd)
      const request = { ...(flags.force ? { force: true } : {}), ...(flags.reason ? { reason: flags.reason } : {}), ...(flags.metric ? { primaryMetric: flags.metric } : {}) }
      const settings = gateSettings(loaded.config.eval, flags.metric ? { primaryMetric: flags.metric } : {})
      let result: PromoteResult
      if (flags.server) {
        // The server holds the store: a dataset's set cannot be read here, a file's hash can.
        if (flags.set?.startsWith(DATASET_SET_PREFIX)) throw new RagtuneError('USAGE', `--set ${DATASET_SET_PREFIX}<id> needs the store, which the server holds: pass the exported eval file, or omit --set`)
        const setSha256 = flags.set ? (await loadEvalSet(flags.set)).sha256 : undefined
        result = await callServer<PromoteResult>(flags.server, `/v1/adapters/${encodeURIComponent(name)}/promote`, { ...request, ...(setSha256 ? { setSha256 } : {}) })
      } else {
        result = await withStore(loaded, async (store) => {
          const setSha256 = flags.set ? (await resolveEvalSet(flags.set, store)).sha256 : undefined
          return promoteAdapter(store, name, { ...settings, ...request, ...(setSha256 ? { setSha256 } : {}) })
        })
      }
      if (flags.json) return printJson(result)
      const d = result.decision
      process.stdout.write(
        `${result.active.name} is now active (was ${result.previous ?? 'nothing: the config decided'})${result.forced ? ' — FORCED past the gate' : ''}\n` +
          (d ? `gate: ${d.pass ? 'pass' : 'rejected'} on ${d.primary.metric}, gain ${d.primary.gain.toFixed(3)} [${d.primary.gainLow.toFixed(3)}, ${d.primary.gainHigh.toFixed(3)}]\n${d.reasons.map((r) => `  - ${r}\n`).join('')}` : 'gate: no eval runs compared\n'),
      )
    })

  adapter
    .command('rollback')
    .description('restore the adapter that was active before the current one (no gate: it was approved before)')
    .option('--reason <text>', 'why; recorded in the history')
    .option('--server <url>', `roll back through a running \`ragtune serve\` (admin key in ${SERVER_KEY_ENV})`)
    .option('--json', 'print the result as JSON')
    .action(async (flags: { reason?: string; server?: string; json?: boolean }, cmd: Command) => {
      const request = flags.reason ? { reason: flags.reason } : {}
      const result = flags.server
        ? await callServer<{ active: AdapterRecord; previous: string }>(flags.server, '/v1/adapters/rollback', request)
        : await withStore(await configFromCli(cmd), (store) => rollbackAdapter(store, { reason: flags.reason ?? null }))
      if (flags.json) return printJson(result)
      process.stdout.write(`rolled back: ${result.active.name} is active again (was ${result.previous})\n`)
    })

  adapter
    .command('rm')
    .description('remove a candidate or retired adapter from the registry (its file stays; the active one cannot be removed)')
    .argument('<name>', 'registry name')
    .option('--reason <text>', 'why; recorded in the history')
    .action(async (name: string, flags: { reason?: string }, cmd: Command) => {
      await withStore(await configFromCli(cmd), (store) => removeAdapter(store, name, { reason: flags.reason ?? null }))
      process.stdout.write(`removed ${name} from the registry (its file was left in place)\n`)
    })
}

function describe(a: AdapterRecord): string[] {
  return [
    `${a.name} (${a.status})`,
    `  id             ${a.id ?? '- (base model)'}`,
    ...(a.remoteModel ? [`  remote model   ${a.remoteModel} (served by its platform: generator.provider openai)`] : [`  file           ${a.filePath ?? '-'}`, `  sha256         ${a.fileSha256 ?? '-'}`]),
    `  base model     ${a.baseModel ?? '-'}${a.baseModelSha256 ? ` (sha256 ${a.baseModelSha256.slice(0, 12)}…)` : ''}`,
    `  dataset        ${a.datasetVersion ?? '-'}`,
    `  parent         ${a.parent ?? '-'}`,
    `  training       ${a.trainingConfig ? JSON.stringify(a.trainingConfig) : '-'}`,
    `  added          ${a.createdAt}`,
    `  last activated ${a.activatedAt ?? 'never'}`,
  ]
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as unknown
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('expected a JSON object')
    return value as Record<string, unknown>
  } catch (err) {
    throw new RagtuneError('USAGE', `--training-config ${file}: ${(err as Error).message}`)
  }
}
