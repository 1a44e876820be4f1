import type { LoadedConfig } from '../config/load-config.js'
import { BASE_ADAPTER, type AdapterRecord } from '../spec/adapter-registry.js'
import type { Generator } from '../spec/generator.js'
import type { Store } from '../spec/store.js'
import { loadGenerator } from '../workspace.js'
import { requireAdapter, verifyAdapterFile } from './adapter-registry.js'
import { LiveGenerator, type GeneratorChoice } from './live-generator.js'

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
      // A remote (vLLM multi-LoRA) server serves adapters by name; a local one loads the registered file.
      if (loaded.config.generator.provider === 'openai') return loadGenerator(loaded, dataDir, { adapterOverride: record.name })
      await verifyAdapterFile(record)
      return loadGenerator(loaded, dataDir, { adapterOverride: record.filePath, adapterId: record.id! })
    },
  }
}

/**
 * The server's generator: whatever is active now, swapped in place by `refresh()` after a promotion
 * or rollback through the server's routes. PGlite allows one opener per data folder, so while the
 * server runs its routes are the only writers of the active pointer and refreshing after them is
 * exact; a server store shared by several processes would call refresh on a timer as well.
 */
export function openServingGenerator(loaded: LoadedConfig, dataDir: string, store: Store, opts: { onDisposeError?: (err: unknown) => void } = {}): Promise<LiveGenerator> {
  return LiveGenerator.open(() => activeChoice(loaded, dataDir, store), opts)
}
