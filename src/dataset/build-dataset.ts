import { analyzeLogs } from '../analyze/failure-report.js'
import { detectFormat } from '../analyze/detectors/format.js'
import type { AnalyzeRules } from '../analyze/rules.js'
import { PROMPT_TEMPLATE } from '../answer/answer.js'
import { DEFAULT_INSTRUCTION } from '../answer/prompt.js'
import { RagtuneError, throwIfAborted } from '../errors.js'
import { ulid } from '../observe/ulid.js'
import type { RetrieveDeps, RetrieveOptions } from '../retrieve/retrieve.js'
import type { DatasetVersion } from '../spec/dataset.js'
import { assembleRecord, type AssembleOptions } from './assemble-record.js'
import { emptyOracleCounts, type BuildReport } from './build-report.js'
import { collectItems } from './collect-items.js'
import { datasetHash, indexFingerprint } from './dataset-hash.js'
import type { DatasetRecord } from './dataset-record.js'
import { chunkKeys } from './gold-match.js'
import { retrieveItems } from './retrieve-items.js'
import { countLeakage, splitByEvidence } from './split.js'
import { DEFAULT_REFUSAL } from './targets.js'
import { approximateTokenCounter, type TokenCounter } from './token-count.js'
import { dedupeKey, type TrainingItem } from './training-item.js'

export interface BuildDatasetOptions {
  /** Inference's retrieval settings (config.retrieval): the SAME pipeline and k build the contexts. */
  retrieval: Omit<RetrieveOptions, 'signal'>
  rules: AnalyzeRules
  /** Labeled queries logged in this window (default: all). */
  since?: Date
  until?: Date
  /** Imported label batches to use (default: all); includeLogs/includeImports switch sources off. */
  batchIds?: string[]
  includeLogs?: boolean
  includeImports?: boolean
  /** RAFT's P: probability that a train context holds the gold. Default 0.8. */
  p?: number
  /** Seed of every random choice (RAFT draws, gold positions, the split). Default 0. */
  seed?: number
  /** Share of evidence groups held out for eval. Default 0.1. */
  evalFraction?: number
  quote?: boolean
  cite?: boolean
  withoutOracle?: 'refuse' | 'keep'
  refusalText?: string
  /** System instruction for imported labels; inference's DEFAULT_INSTRUCTION when undefined. */
  instruction?: string
  /** The trainer's max sequence length; longer examples are reported and left out. Default 2048. */
  maxLength?: number
  /** Default: approximateTokenCounter (the report says so). */
  tokenCounter?: TokenCounter
  /** Categories to check coverage for; default: those analyzeLogs finds failing in the same window. */
  failingCategories?: string[]
  name?: string
  /** Store the version (default true); false only builds (dry run). */
  save?: boolean
  now?: Date
  signal?: AbortSignal
  onProgress?: (p: { phase: 'retrieve' | 'assemble'; done: number; total: number }) => void
}

export interface BuildDatasetResult {
  version: DatasetVersion
  train: DatasetRecord[]
  eval: DatasetRecord[]
  report: BuildReport
  /** true when an identical dataset (same hash) was already stored: `version` is that one. */
  existing: boolean
  saved: boolean
}

/**
 * Turns the labeled query log and imported labels into a versioned fine-tuning dataset that mirrors
 * inference: every question is retrieved again with the same pipeline and k, the context assembled
 * RAFT-style (gold among distractors with probability P, distractors only otherwise), the prompt
 * rendered by buildMessages, split by evidence with no leakage, length-checked with the trainer's
 * limit, and stored with its hash and lineage.
 */
export async function buildDataset(deps: RetrieveDeps, opts: BuildDatasetOptions): Promise<BuildDatasetResult> {
  const p = opts.p ?? 0.8
  const seed = opts.seed ?? 0
  const evalFraction = opts.evalFraction ?? 0.1
  const maxLength = opts.maxLength ?? 2048
  const counter = opts.tokenCounter ?? approximateTokenCounter
  if (!(p >= 0 && p <= 1) || !(evalFraction >= 0 && evalFraction < 1) || !Number.isInteger(seed) || !(maxLength > 0)) {
    throw new RagtuneError('USAGE', `expected p in [0, 1], evalFraction in [0, 1), an integer seed and maxLength > 0, got p ${p}, evalFraction ${evalFraction}, seed ${seed}, maxLength ${maxLength}`)
  }
  const k = opts.retrieval.topK
  const warnings: string[] = []
  const collected = await collectItems(deps.store, {
    rules: opts.rules,
    ...pick(opts, ['since', 'until', 'batchIds', 'includeLogs', 'includeImports', 'signal']),
  })
  const seen = new Set<string>()
  const items: TrainingItem[] = []
  for (const it of collected.items) {
    const key = dedupeKey(it)
    if (!seen.has(key)) items.push(it)
    seen.add(key)
  }
  if (items.length === 0) {
    throw new RagtuneError('DATASET_EMPTY', 'expected labeled questions to build a dataset from, got none', {
      details: { unusable: collected.unusable },
      hint: 'label answers with `ragtune feedback <id> --good` or `--correction "..."`, or import labels with `ragtune labels import <file> --format guide`',
    })
  }

  const retrieved = await retrieveItems(deps, items, {
    retrieval: opts.retrieval,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (done, total) => opts.onProgress?.({ phase: 'retrieve', done, total }),
  })
  for (const r of retrieved) warnings.push(...r.warnings)
  const split = splitByEvidence(retrieved.map((r) => ({ id: r.item.id, keys: r.keys, question: r.item.question })), { evalFraction, seed })
  const assemble: AssembleOptions = {
    p, seed, quote: opts.quote ?? false, cite: opts.cite ?? true, withoutOracle: opts.withoutOracle ?? 'refuse',
    refusalText: opts.refusalText ?? DEFAULT_REFUSAL, evalKeys: split.evalKeys, ...(opts.instruction !== undefined ? { instruction: opts.instruction } : {}),
  }
  const train: DatasetRecord[] = []
  const evalRecords: DatasetRecord[] = []
  const tooLong: BuildReport['length']['tooLong'] = []
  const oracle = emptyOracleCounts()
  const leakInput: Array<{ keys: string[]; contextKeys: string[] }> = []
  let maxTokens = 0
  for (const [i, r] of retrieved.entries()) {
    throwIfAborted(opts.signal)
    const side = split.splits.get(r.item.id)!
    const record = assembleRecord(r, side, k, assemble)
    record.metadata.tokens = await counter.count(record.messages)
    maxTokens = Math.max(maxTokens, record.metadata.tokens)
    opts.onProgress?.({ phase: 'assemble', done: i + 1, total: retrieved.length })
    if (record.metadata.tokens > maxLength) {
      tooLong.push({ id: r.item.id, split: side, tokens: record.metadata.tokens })
      continue
    }
    if (side === 'eval') evalRecords.push(record)
    else {
      train.push(record)
      oracle[record.metadata.oracle]++
      leakInput.push({ keys: r.keys, contextKeys: record.metadata.sources.flatMap((s) => chunkKeys({ ...s, headingPath: [], text: '' })) })
    }
  }

  const perCategory: Record<string, number> = {}
  for (const rec of train) for (const c of rec.metadata.categories) perCategory[c] = (perCategory[c] ?? 0) + 1
  const failing = opts.failingCategories ?? (await failingCategories(deps, opts))
  const lacking = failing.map((category) => ({ category, examples: perCategory[category] ?? 0 })).filter((c) => c.examples < opts.rules.minExamplesPerCategory)
  if (lacking.length) warnings.push(`too few training examples (< ${opts.rules.minExamplesPerCategory}) for failing categories: ${lacking.map((c) => `${c.category} (${c.examples})`).join(', ')}`)
  if (tooLong.length) warnings.push(`${tooLong.length} example(s) exceed ${maxLength} tokens and were left out (not cut): ${tooLong.slice(0, 5).map((t) => t.id).join(', ')}${tooLong.length > 5 ? ', …' : ''}`)
  if (evalRecords.length === 0) warnings.push('the eval split is empty: add labels on more documents, or raise --eval-fraction')
  const targetsBreakingFormat = train.filter((rec) => !rec.metadata.refusalTarget && detectFormat(rec.messages[rec.messages.length - 1]!.content, opts.rules.format).length > 0).map((rec) => rec.metadata.id)
  if (targetsBreakingFormat.length) warnings.push(`${targetsBreakingFormat.length} train target(s) break the configured format rules and would teach the fault: ${targetsBreakingFormat.slice(0, 5).join(', ')}`)
  const known = retrieved.filter((r) => r.goldAtK !== null)
  const report: BuildReport = {
    items: { collected: collected.items.length, duplicates: collected.items.length - items.length, unusable: collected.unusable, kept: { train: train.length, eval: evalRecords.length } },
    raft: {
      p, seed, k, quote: assemble.quote, withoutOracle: assemble.withoutOracle, oracle,
      goldAtK: { known: known.length, retrieved: known.filter((r) => r.goldAtK).length, rate: known.length ? known.filter((r) => r.goldAtK).length / known.length : null },
    },
    split: { evalFraction, groups: split.groups, evalKeys: split.evalKeys.size, leakage: countLeakage(leakInput, split.evalKeys) },
    length: { maxLength, tokenizer: counter.name, exact: counter.exact, note: counter.exact ? null : `approximate count (${counter.name}); configure a local GGUF generator for exact counts`, maxTokens, tooLong },
    coverage: { minExamples: opts.rules.minExamplesPerCategory, perCategory, failing, lacking },
    targetsBreakingFormat,
    warnings,
  }
  if (report.split.leakage !== 0) throw new RagtuneError('DATASET_LEAKAGE', `${report.split.leakage} train example(s) show eval evidence`, { hint: 'this is a bug in the split; please report it' })

  const hash = datasetHash(train, evalRecords)
  const existing = await deps.store.getDataset({ hash })
  if (existing) return { version: existing, train, eval: evalRecords, report, existing: true, saved: false }
  const stats = await deps.store.stats()
  const version: DatasetVersion = {
    id: ulid(), name: opts.name ?? null, hash, createdAt: (opts.now ?? new Date()).toISOString(), counts: { train: train.length, eval: evalRecords.length },
    lineage: {
      ...collected.lineage,
      index: { ...(await indexFingerprint(deps.store)), embeddingModel: stats.embeddingModel, rerankerModel: deps.reranker?.id ?? null },
      retrieval: opts.retrieval,
      prompt: { template: PROMPT_TEMPLATE, instruction: opts.instruction ?? DEFAULT_INSTRUCTION },
      raft: { p, seed, k, quote: assemble.quote, cite: assemble.cite, withoutOracle: assemble.withoutOracle, refusalText: assemble.refusalText },
      split: { evalFraction, seed },
      tokenizer: { name: counter.name, exact: counter.exact, maxLength },
    },
    report: report as unknown as Record<string, unknown>,
  }
  const save = opts.save ?? true
  if (save) await deps.store.saveDataset(version, [...train.map((record) => ({ split: 'train' as const, record })), ...evalRecords.map((record) => ({ split: 'eval' as const, record }))])
  return { version, train, eval: evalRecords, report, existing: false, saved: save }
}

async function failingCategories(deps: RetrieveDeps, opts: BuildDatasetOptions): Promise<string[]> {
  const analysis = await analyzeLogs(deps.store, { rules: opts.rules, ...pick(opts, ['since', 'until', 'signal', 'now']) })
  return analysis.categories.filter((c) => c.errors > 0 && !['request-error', 'judge_error', 'retrieval-miss'].includes(c.category)).map((c) => c.category)
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {}
  for (const key of keys) if (o[key] !== undefined) out[key] = o[key]
  return out
}
