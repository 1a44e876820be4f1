import { throwIfAborted } from '../errors.js'
import type { StoredChunk } from '../spec/dataset.js'
import type { Generator } from '../spec/generator.js'
import type { Label, QueryLogEntry } from '../spec/query-log.js'
import type { Store } from '../spec/store.js'
import { categoriesOf, detectAll } from './detect-all.js'
import { judgeExample } from './detectors/judge.js'
import { finding, JUDGE_ERROR, REQUEST_ERROR, type Finding } from './finding.js'
import { exampleFromLog } from './log-example.js'
import { analyzeRules, type AnalyzeRules } from './rules.js'
import { bucketStart, chooseBucket, emptyBuckets, type BucketSize, type TrendBucket } from './trend.js'

export interface AnalyzeLogsOptions {
  since?: Date
  until?: Date
  rules?: AnalyzeRules
  /** `auto`: days for windows up to 31 days, else weeks. */
  bucket?: BucketSize | 'auto'
  /** Also grade each answer with this generator (strict JSON); failures become `judge_error`. */
  judge?: Generator
  judgeMaxTokens?: number
  /** Query ids kept per category as examples; default 5. */
  examplesPerCategory?: number
  now?: Date
  signal?: AbortSignal
  onProgress?: (p: { done: number; total: number | null }) => void
}

export interface CategoryStats {
  category: string
  /** Queries with at least one finding of this category. */
  queries: number
  /** queries / answered queries (failed requests: / all queries). */
  rate: number
  errors: number
  warnings: number
  /** Findings per rule, e.g. { 'ungrounded-number': 3 }. */
  rules: Record<string, number>
  exampleQueryIds: string[]
  /** Usable training examples for this category: corrected queries and imported labels. */
  trainingExamples: number
  lacksExamples: boolean
}

export interface FailureReport {
  window: { since: string | null; until: string }
  queries: number
  answered: number
  failedRequests: number
  /** Answered queries with at least one error-severity finding. */
  failing: number
  categories: CategoryStats[]
  trend: { bucket: BucketSize; buckets: TrendBucket[] }
  coverage: { minExamples: number; trainingExamples: number; lacking: string[] }
  /** Answered queries whose sources' texts were unknown (grounding skipped). */
  contextUnknown: number
  judge: { judged: number; errors: number } | null
  warnings: string[]
}

/** Categories no training example can fix; never reported as lacking examples. */
const UNTRAINABLE = new Set([REQUEST_ERROR, JUDGE_ERROR])

/**
 * The failure report over a window of the query log: every answer through the detectors (and the
 * judge, when given), plus what people said in labels; failure rates by category with example query
 * ids, the trend per day or week, and which failing categories lack training examples. Pages
 * through the log, so memory stays flat over weeks of queries.
 */
export async function analyzeLogs(store: Store, opts: AnalyzeLogsOptions = {}): Promise<FailureReport> {
  const rules = opts.rules ?? analyzeRules()
  const until = opts.until ?? opts.now ?? new Date()
  const labels = groupLabels(await store.listLabels(opts.since ? { since: opts.since } : {}))
  const perCategory = new Map<string, { queries: number; errors: number; warnings: number; rules: Record<string, number>; ids: string[] }>()
  const training = new Map<string, number>()
  const seen: Array<{ time: string; categories: string[] }> = []
  const report = { queries: 0, answered: 0, failedRequests: 0, failing: 0, contextUnknown: 0 }
  const judge = opts.judge ? { judged: 0, errors: 0 } : null
  const keep = opts.examplesPerCategory ?? 5
  let afterId: string | undefined
  for (;;) {
    throwIfAborted(opts.signal)
    const page = await store.listQueryLogs({ limit: 500, until, ...(opts.since ? { since: opts.since } : {}), ...(afterId ? { afterId } : {}) })
    if (page.length === 0) break
    const chunks = await chunksFor(store, page)
    for (const entry of page) {
      const entryLabels = labels.get(entry.id) ?? []
      const findings = await findingsFor(entry, entryLabels, chunks, rules, report, judge, opts)
      report.queries++
      const cats = categoriesOf(findings)
      seen.push({ time: entry.time, categories: cats })
      if (findings.some((f) => f.severity === 'error' && f.category !== REQUEST_ERROR)) report.failing++
      for (const cat of cats) {
        const s = perCategory.get(cat) ?? { queries: 0, errors: 0, warnings: 0, rules: {}, ids: [] }
        s.queries++
        if (s.ids.length < keep) s.ids.push(entry.id)
        perCategory.set(cat, s)
      }
      for (const f of findings) {
        const s = perCategory.get(f.category)!
        s.rules[f.rule] = (s.rules[f.rule] ?? 0) + 1
        if (f.severity === 'error') s.errors++
        else s.warnings++
      }
      const current = entryLabels[entryLabels.length - 1]
      if (current && (current.correction !== null || (current.rating === 'good' && entry.answer !== null))) {
        for (const cat of new Set([...cats, ...(current.category ? [current.category] : [])])) training.set(cat, (training.get(cat) ?? 0) + 1)
      }
      opts.onProgress?.({ done: report.queries, total: null })
    }
    if (page.length < 500) break
    afterId = page[page.length - 1]!.id
  }
  for (const ex of await store.listLabeledExamples()) if (ex.category) training.set(ex.category, (training.get(ex.category) ?? 0) + 1)

  const categories: CategoryStats[] = [...perCategory.entries()].map(([category, s]) => {
    const denominator = category === REQUEST_ERROR ? report.queries : report.answered
    const trainingExamples = training.get(category) ?? 0
    return {
      category, queries: s.queries, rate: denominator === 0 ? 0 : s.queries / denominator, errors: s.errors, warnings: s.warnings, rules: s.rules,
      exampleQueryIds: s.ids, trainingExamples, lacksExamples: !UNTRAINABLE.has(category) && trainingExamples < rules.minExamplesPerCategory,
    }
  }).sort((a, b) => b.rate - a.rate || a.category.localeCompare(b.category))

  const firstTime = seen.length ? new Date(seen[seen.length - 1]!.time) : until
  const from = opts.since ?? firstTime
  const bucket = opts.bucket === undefined || opts.bucket === 'auto' ? chooseBucket(from, until) : opts.bucket
  const buckets = emptyBuckets(from, until, bucket)
  const index = new Map(buckets.map((b, i) => [b.start, i]))
  for (const q of seen) {
    const b = buckets[index.get(bucketStart(new Date(q.time), bucket).toISOString())!]
    if (!b) continue
    b.queries++
    for (const c of q.categories) b.failures[c] = (b.failures[c] ?? 0) + 1
  }
  const warnings: string[] = []
  if (report.contextUnknown > 0) warnings.push(`${report.contextUnknown} answer(s) had no logged prompt and no indexed chunks: grounding was not checked for them (observe.logPrompts keeps prompts)`)
  if (judge && judge.errors > 0) warnings.push(`the judge failed on ${judge.errors} of ${judge.judged} answer(s); those are counted as ${JUDGE_ERROR}, never as a verdict`)
  return {
    window: { since: opts.since?.toISOString() ?? null, until: until.toISOString() },
    ...report,
    categories,
    trend: { bucket, buckets },
    coverage: {
      minExamples: rules.minExamplesPerCategory,
      trainingExamples: [...training.values()].reduce((a, b) => a + b, 0),
      lacking: categories.filter((c) => c.lacksExamples).map((c) => c.category),
    },
    judge,
    warnings,
  }
}

async function findingsFor(
  entry: QueryLogEntry, labels: Label[], chunks: Map<string, StoredChunk>, rules: AnalyzeRules,
  report: { answered: number; failedRequests: number; contextUnknown: number }, judge: { judged: number; errors: number } | null, opts: AnalyzeLogsOptions,
): Promise<Finding[]> {
  const out: Finding[] = []
  const current = labels[labels.length - 1]
  if (current?.rating === 'bad' || (current?.category && current.rating !== 'good')) {
    out.push(finding('label', current.category ?? 'rated-bad', 'label', `a person labeled this answer bad${current.category ? ` (${current.category})` : ''}`))
  }
  if (entry.error) {
    report.failedRequests++
    return [...out, finding('log', REQUEST_ERROR, entry.error.code, entry.error.message)]
  }
  const example = exampleFromLog(entry, { chunks, labels })
  if (!example) return out
  report.answered++
  if (example.sources !== null && example.sources.length > 0 && example.sources.every((s) => s.text === null)) report.contextUnknown++
  out.push(...detectAll(example, rules))
  if (opts.judge && judge) {
    const verdict = await judgeExample(opts.judge, example, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.judgeMaxTokens ? { maxTokens: opts.judgeMaxTokens } : {}) })
    judge.judged++
    if (verdict.some((f) => f.category === JUDGE_ERROR)) judge.errors++
    out.push(...verdict)
  }
  return out
}

/** Chunk texts for the entries whose prompt was not logged (one query per page). */
async function chunksFor(store: Store, page: QueryLogEntry[]): Promise<Map<string, StoredChunk>> {
  const ids = page.filter((e) => e.prompt === null && e.retrieval).flatMap((e) => e.retrieval!.hits.map((h) => h.chunkId))
  return new Map((await store.getChunks({ ids: [...new Set(ids)] })).map((c) => [c.id, c]))
}

function groupLabels(labels: Label[]): Map<string, Label[]> {
  const out = new Map<string, Label[]>()
  for (const l of labels) out.set(l.queryId, [...(out.get(l.queryId) ?? []), l])
  return out
}

/** The report of an empty log (nothing indexed or logged yet), shaped like any other. */
export function emptyFailureReport(opts: { since?: Date; until?: Date; rules?: AnalyzeRules } = {}): FailureReport {
  const until = opts.until ?? new Date()
  return {
    window: { since: opts.since?.toISOString() ?? null, until: until.toISOString() },
    queries: 0, answered: 0, failedRequests: 0, failing: 0, categories: [],
    trend: { bucket: 'day', buckets: [] },
    coverage: { minExamples: (opts.rules ?? analyzeRules()).minExamplesPerCategory, trainingExamples: 0, lacking: [] },
    contextUnknown: 0, judge: null, warnings: [],
  }
}
