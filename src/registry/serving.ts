import type { RetrieveDeps } from '../retrieve/retrieve.js'
import type { LoadedConfig } from '../config/load-config.js'
import { RagtuneError } from '../errors.js'
import { analysisAnswerChecks } from '../eval/answer-checks.js'
import { runEval, type RunEvalOptions } from '../eval/eval-runner.js'
import type { EvalSet } from '../eval/eval-set.js'
import { BASE_ADAPTER, type AdapterRecord } from '../spec/adapter-registry.js'
import type { EvalRunRecord } from '../spec/eval-run.js'
import type { Generator } from '../spec/generator.js'
import { watchesActiveAdapter } from '../spec/store-events.js'
import type { Store } from '../spec/store.js'
import { loadGenerator } from '../workspace.js'
import { requireAdapter, verifyAdapterFile } from './adapter-registry.js'
import { LiveGenerator, type GeneratorChoice } from './live-generator.js'
import { loadVllmAdapter, vllmAdapterPath } from './vllm-adapters.js'

/** Label of runs and choices made from the config's `generator.adapter` while the registry has no active adapter. */
export const CONFIG_CHOICE = 'config'

/**
 * What production serves: the registry's active adapter once anything was promoted (base included),
 * else the config's `generator.adapter`. Keyed by the adapter's provenance id, so re-promoting a
 * re-registered file of the same name still swaps.
 */
export async function activeChoice(loaded: LoadedConfig, dataDir: string, store: Store): Promise<GeneratorChoice & { adapter: string }> {
  const active = await store.getActiveAdapter()
  if (!active) return { key: CONFIG_CHOICE, adapter: loaded.config.generator.adapter ? CONFIG_CHOICE : BASE_ADAPTER, load: () => loadGenerator(loaded, dataDir) }
  return recordChoice(loaded, dataDir, active)
}

/** The generator of one registry entry (`eval run --adapter NAME`). */
export async function adapterChoice(loaded: LoadedConfig, dataDir: string, store: Store, name: string): Promise<GeneratorChoice & { adapter: string }> {
  return recordChoice(loaded, dataDir, await requireAdapter(store, name))
}

function recordChoice(loaded: LoadedConfig, dataDir: string, record: AdapterRecord): GeneratorChoice & { adapter: string } {
  if (record.name === BASE_ADAPTER) return { key: BASE_ADAPTER, adapter: BASE_ADAPTER, load: () => loadGenerator(loaded, dataDir, { adapterOverride: null }) }
  return {
    key: record.id!,
    adapter: record.name,
    load: async (): Promise<Generator> => {
      // A remote server serves adapters by name (vLLM multi-LoRA: the registry name; a hosted fine-tune:
      // its model id); a local one loads the registered file.
      const g = loaded.config.generator
      if (g.provider === 'openai') {
        // vLLM started without this adapter: load it at runtime before serving it (generator.vllm).
        if (!record.remoteModel && g.vllm.loadAdapters && g.baseURL) {
          const apiKey = process.env[g.apiKeyEnv]
          await loadVllmAdapter({ baseURL: g.baseURL, name: record.name, path: vllmAdapterPath(record, g.vllm.adapterRoot), ...(apiKey ? { apiKey } : {}) })
        }
        return loadGenerator(loaded, dataDir, { adapterOverride: record.remoteModel ?? record.name })
      }
      if (record.remoteModel) throw remoteNeedsOpenAI(record)
      await verifyAdapterFile(record)
      return loadGenerator(loaded, dataDir, { adapterOverride: record.filePath, adapterId: record.id! })
    },
  }
}

export interface ServingGeneratorOptions {
  onDisposeError?: (err: unknown) => void
  /** A change made elsewhere was applied (or failed to load); default: a JSON line on stderr, like the server's log. */
  onRemoteChange?: (event: { swapped: boolean; key: string } | { error: Error }) => void
}

/**
 * The server's generator: whatever is active now, swapped in place by `refresh()` after a promotion
 * or rollback through the server's routes. With the embedded store the server is the only writer
 * of the active pointer (one opener per data folder). A store several processes share (Postgres)
 * announces every change, so each server refreshes when told (or when its listening connection
 * comes back, as it may have missed one): a promotion anywhere reaches every server in moments.
 * The subscription lasts as long as the store is open.
 */
export async function openServingGenerator(loaded: LoadedConfig, dataDir: string, store: Store, opts: ServingGeneratorOptions = {}): Promise<LiveGenerator> {
  const live = await LiveGenerator.open(() => activeChoice(loaded, dataDir, store), opts)
  if (watchesActiveAdapter(store)) {
    const report = opts.onRemoteChange ?? logRemoteChange
    await store.watchActiveAdapter(
      () => void live.refresh().then((r) => r.swapped && report(r), (err: Error) => report({ error: err })),
      { onError: (err) => report({ error: err }) },
    )
  }
  return live
}

function logRemoteChange(event: { swapped: boolean; key: string } | { error: Error }): void {
  const line = 'error' in event
    ? { level: 'warn', msg: 'active adapter watch: could not apply or hear a change (the old adapter keeps serving)', error: event.error.message.split('\n')[0] }
    : { level: 'info', msg: 'active adapter changed in the store; swapped', key: event.key }
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...line }) + '\n')
}

/** A hosted fine-tune cannot be loaded by node-llama-cpp: say which generator serves it. */
function remoteNeedsOpenAI(record: AdapterRecord): RagtuneError {
  return new RagtuneError('ADAPTER_REMOTE', `adapter "${record.name}" is the hosted model ${record.remoteModel}, which only its platform can serve, but generator.provider is "llama"`, {
    details: { name: record.name, remoteModel: record.remoteModel },
    hint: `set generator.provider to "openai", generator.baseURL to https://api.openai.com/v1 and generator.model to its base model (${record.baseModel ?? 'the model it was tuned from'})`,
  })
}

/**
 * Answers an eval set with one choice's generator (its adapter, or none for base) through the
 * production pipeline and the config's settings, and stores the run: `ragtune eval run` and the
 * scheduled retrain's A/B both evaluate this way.
 */
export async function evaluateChoice(o: {
  loaded: LoadedConfig
  choice: GeneratorChoice & { adapter: string }
  set: EvalSet
  deps: RetrieveDeps
  signal?: AbortSignal
} & Pick<RunEvalOptions, 'limit' | 'onProgress'>): Promise<EvalRunRecord> {
  const { config } = o.loaded
  const generator = await o.choice.load()
  try {
    const run = await runEval({
      set: o.set, deps: { ...o.deps, generator }, adapter: o.choice.adapter,
      retrieval: config.retrieval, temperature: config.generator.temperature, maxTokens: config.generator.maxTokens,
      checks: analysisAnswerChecks(config.analyze),
      ...(o.signal ? { signal: o.signal } : {}), ...(o.limit ? { limit: o.limit } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    })
    await o.deps.store.addEvalRun(run.record, run.results)
    return run.record
  } finally {
    await generator.dispose()
  }
}
