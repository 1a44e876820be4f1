import { categoriesOf, detectAll } from '../analyze/detect-all.js'
import { exampleFromLog, goldFromLabels } from '../analyze/log-example.js'
import { parseLoggedPrompt } from '../analyze/logged-prompt.js'
import type { AnalyzeRules } from '../analyze/rules.js'
import { contentOverlap } from '../analyze/text-features.js'
import { throwIfAborted } from '../errors.js'
import type { LabeledExample } from '../spec/dataset.js'
import type { Label, QueryLogEntry } from '../spec/query-log.js'
import type { Store } from '../spec/store.js'
import type { TrainingItem } from './training-item.js'

export interface CollectOptions {
  since?: Date
  until?: Date
  rules: AnalyzeRules
  /** Only imported labels of these batches; default all. */
  batchIds?: string[]
  /** Leave out log labels or imported labels. */
  includeLogs?: boolean
  includeImports?: boolean
  signal?: AbortSignal
}

export interface CollectedItems {
  items: TrainingItem[]
  /** What was read, for the dataset's lineage. */
  lineage: {
    logs: { since: string | null; until: string | null; queries: number; labels: number; newestLabelAt: string | null }
    imports: Array<{ batchId: string; source: string; examples: number }>
  }
  /** Labels that cannot become a training example, by reason. */
  unusable: Record<string, number>
}

/** Below this overlap no logged source counts as the evidence of an uncited correction. */
const MIN_GOLD_OVERLAP = 0.5

/**
 * Gathers the labeled questions a dataset is made of. From the query log: every query whose current
 * (newest) label carries a correction (the target) or rates the answer good (the answer is the
 * target); "bad" without a correction teaches nothing and is counted as unusable. From imports:
 * every stored labeled example.
 */
export async function collectItems(store: Store, opts: CollectOptions): Promise<CollectedItems> {
  const items: TrainingItem[] = []
  const unusable: Record<string, number> = {}
  const skip = (why: string): void => void (unusable[why] = (unusable[why] ?? 0) + 1)
  const logs = { since: opts.since?.toISOString() ?? null, until: opts.until?.toISOString() ?? null, queries: 0, labels: 0, newestLabelAt: null as string | null }
  if (opts.includeLogs !== false) {
    const byQuery = new Map<string, Label[]>()
    for (const l of await store.listLabels(opts.since ? { since: opts.since } : {})) byQuery.set(l.queryId, [...(byQuery.get(l.queryId) ?? []), l])
    for (const [queryId, labels] of byQuery) {
      throwIfAborted(opts.signal)
      const entry = await store.getQueryLog(queryId)
      if (!entry || (opts.since && entry.time < opts.since.toISOString()) || (opts.until && entry.time >= opts.until.toISOString())) continue
      logs.labels += labels.length
      const current = labels[labels.length - 1]!
      if (!logs.newestLabelAt || current.time > logs.newestLabelAt) logs.newestLabelAt = current.time
      const item = itemFromLog(entry, labels, opts.rules)
      if (typeof item === 'string') skip(item)
      else {
        logs.queries++
        items.push(item)
      }
    }
  }
  const imports = new Map<string, { batchId: string; source: string; examples: number }>()
  if (opts.includeImports !== false) {
    for (const ex of await store.listLabeledExamples()) {
      if (opts.batchIds && !opts.batchIds.includes(ex.batchId)) continue
      const batch = imports.get(ex.batchId) ?? { batchId: ex.batchId, source: ex.source, examples: 0 }
      batch.examples++
      imports.set(ex.batchId, batch)
      items.push(itemFromImport(ex))
    }
  }
  return { items, lineage: { logs, imports: [...imports.values()] }, unusable }
}

/** A training item from a logged query and its labels, or the reason it cannot be one. */
export function itemFromLog(entry: QueryLogEntry, labels: Label[], rules: AnalyzeRules): TrainingItem | string {
  const current = labels[labels.length - 1]!
  let target: string
  if (current.correction !== null) target = current.correction
  else if (current.rating === 'good' && entry.answer !== null && entry.error === null) target = entry.answer
  else return current.rating === 'bad' ? 'rated bad without a correction' : 'no correction and not rated good'
  const hits = entry.retrieval?.hits ?? []
  const citedChunks: Record<number, string> = {}
  for (const h of hits) citedChunks[h.rank] = h.chunkId
  const prompt = entry.prompt ? parseLoggedPrompt(entry.prompt.messages) : null
  const example = exampleFromLog(entry, { labels, prompt })
  // The chunks the target cites; a failed query (no answer, so no example) can still be corrected.
  let goldIds = (example ? example.gold : goldFromLabels(entry, labels))?.chunkIds ?? []
  if (goldIds.length === 0 && example?.sources) {
    // An uncited correction: the logged source sharing most of its content words, when clearly so.
    const best = example.sources
      .map((s) => ({ s, overlap: s.text === null ? 0 : contentOverlap(target, s.text) }))
      .sort((a, b) => b.overlap - a.overlap)[0]
    if (best && best.overlap >= MIN_GOLD_OVERLAP && best.s.chunkId) goldIds = [best.s.chunkId]
  }
  const documents = [...new Set(hits.filter((h) => goldIds.includes(h.chunkId)).map((h) => h.documentPath))]
  const detected = example && current.rating !== 'good' ? categoriesOf(detectAll(example, rules)) : []
  const item: TrainingItem = {
    id: `log:${entry.id}`,
    question: entry.question,
    target,
    gold: { documents, chunkIds: [...new Set(goldIds)], text: null },
    citedChunks,
    categories: [...new Set([...(current.category ? [current.category] : []), ...detected])],
    origin: { kind: 'log', queryId: entry.id, labelId: current.id, time: entry.time },
  }
  if (prompt?.instruction) item.instruction = prompt.instruction
  if (prompt?.jsonSchema) item.jsonSchema = prompt.jsonSchema
  return item
}

export function itemFromImport(ex: LabeledExample): TrainingItem {
  return {
    id: `label:${ex.id}`,
    question: ex.question,
    target: ex.answer,
    gold: ex.gold,
    citedChunks: {},
    categories: ex.category ? [ex.category] : [],
    origin: { kind: 'import', labeledExampleId: ex.id, batchId: ex.batchId, source: ex.source, origin: ex.origin },
  }
}
