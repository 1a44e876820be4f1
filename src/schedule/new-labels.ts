import type { Store } from '../spec/store.js'

/** How many labels arrived since the newest adapter's dataset was built: what the retrain check counts. */
export interface NewLabels {
  /** Usable log labels (a correction, or rated good; one per query) plus imported labeled examples. */
  count: number
  fromLogs: number
  fromImports: number
  /** Creation time of that dataset; null when no adapter was trained on a stored dataset yet (every label counts). */
  since: string | null
  /** The adapter and dataset the count starts from. */
  adapter: string | null
  dataset: string | null
}

/**
 * Counts the labeled examples a retrain would add. The reference is the newest registered adapter
 * whose dataset version is stored: labels made after that dataset was built never taught any adapter.
 * A "bad" rating without a correction teaches nothing (the dataset builder drops it), so it does not count.
 */
export async function countNewLabels(store: Store): Promise<NewLabels> {
  let since: string | null = null
  let adapter: string | null = null
  let dataset: string | null = null
  for (const a of (await store.listAdapters()).reverse()) {
    if (!a.datasetVersion) continue
    const version = await store.getDataset({ id: a.datasetVersion })
    if (!version) continue
    ;[since, adapter, dataset] = [version.createdAt, a.name, version.id]
    break
  }
  const after = (t: string): boolean => since === null || Date.parse(t) > Date.parse(since)
  const labels = await store.listLabels(since ? { since: new Date(since) } : {})
  const queries = new Set(labels.filter((l) => after(l.time) && (l.correction !== null || l.rating === 'good')).map((l) => l.queryId))
  const imports = (await store.listLabeledExamples()).filter((e) => after(e.importedAt)).length
  return { count: queries.size + imports, fromLogs: queries.size, fromImports: imports, since, adapter, dataset }
}
