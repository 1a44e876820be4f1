import { answer, type AnswerDeps, type AnswerResult } from '../answer/answer.js'
import { RagtuneError } from '../errors.js'
import { ulid } from '../observe/ulid.js'
import type { RetrieveOptions } from '../retrieve/retrieve.js'
import type { EvalExampleResult, EvalRunRecord } from '../spec/eval-run.js'
import { analysisAnswerChecks, type AnswerCheckResult, type AnswerChecks, type CheckedSource } from './answer-checks.js'
import type { EvalExample, EvalSet } from './eval-set.js'
import { scoreExample, summarizeMetrics } from './score-example.js'

export interface RunEvalOptions {
  set: EvalSet
  /** The generator is the side being evaluated: load it with the adapter (or none, for base). */
  deps: AnswerDeps
  /** Registry name of the evaluated side (`base` for no adapter). */
  adapter: string
  retrieval: Omit<RetrieveOptions, 'signal'>
  temperature: number
  maxTokens: number
  /** Sampling seed; the same for both sides of a comparison. Default 0. */
  seed?: number
  /** Answer-quality detectors; default: the analysis module's with default rules (pass config.analyze's). */
  checks?: AnswerChecks
  /** Only the first n examples (quick runs; such runs pair with full runs on those examples only). */
  limit?: number
  signal?: AbortSignal
  onProgress?: (p: { done: number; total: number }) => void
}

export interface EvalRun {
  record: EvalRunRecord
  results: EvalExampleResult[]
}

/**
 * Answers every example through the same answer() as production (retrieval, prompt, generator with
 * the adapter under test) and scores it. An example that fails (prompt too long, generator error)
 * is scored as a wrong, unformatted answer: failures count against an adapter, never vanish.
 * Nothing is written to the query log: the dataset builder trains on the log, and a held-out
 * example in the training data would leak the eval into the adapter it judges.
 */
export async function runEval(opts: RunEvalOptions): Promise<EvalRun> {
  const checks = opts.checks ?? analysisAnswerChecks()
  const examples = opts.limit ? opts.set.examples.slice(0, opts.limit) : opts.set.examples
  const runId = ulid()
  const results: EvalExampleResult[] = []
  const warnings = new Set<string>()
  for (const [i, example] of examples.entries()) {
    if (opts.signal?.aborted) throw new RagtuneError('ABORTED', 'the eval run was aborted; nothing was stored', { cause: opts.signal.reason })
    const t0 = performance.now()
    let result: AnswerResult | null = null
    let error: { code: string; message: string } | null = null
    try {
      result = await answer(opts.deps, example.question, {
        log: { enabled: false },
        retrieval: { ...opts.retrieval, signal: opts.signal },
        temperature: opts.temperature,
        maxTokens: opts.maxTokens,
        seed: opts.seed ?? 0,
        ...(example.schema ? { jsonSchema: example.schema } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      })
    } catch (err) {
      if (opts.signal?.aborted) throw new RagtuneError('ABORTED', 'the eval run was aborted; nothing was stored', { cause: err })
      error = { code: err instanceof RagtuneError ? err.code : 'INTERNAL', message: (err as Error).message.split('\n')[0]! }
      warnings.add(`example ${example.id} failed with ${error.code}; scored as a wrong answer`)
    }
    const latencyMs = performance.now() - t0
    if (result?.finishReason === 'abort') throw new RagtuneError('ABORTED', 'the eval run was aborted; nothing was stored')
    results.push(await scoreOne(runId, example, result, error, latencyMs, opts, checks))
    opts.onProgress?.({ done: i + 1, total: examples.length })
  }
  const record: EvalRunRecord = {
    id: runId,
    time: new Date().toISOString(),
    setName: opts.set.name,
    setSha256: opts.set.sha256,
    adapter: opts.adapter,
    adapterId: opts.deps.generator.adapter,
    model: opts.deps.generator.id,
    settings: {
      retrieval: { ...opts.retrieval },
      embeddingModel: opts.deps.embedder?.id ?? null,
      rerankerModel: opts.retrieval.rerank ? (opts.deps.reranker?.id ?? null) : null,
      temperature: opts.temperature,
      maxTokens: opts.maxTokens,
      seed: opts.seed ?? 0,
      checks: checks.name,
      limit: opts.limit ?? null,
    },
    summary: summarizeMetrics(results.map((r) => r.metrics)),
    examples: results.length,
    warnings: [...warnings],
  }
  return { record, results }
}

async function scoreOne(
  runId: string,
  example: EvalExample,
  result: AnswerResult | null,
  error: { code: string; message: string } | null,
  latencyMs: number,
  opts: RunEvalOptions,
  checks: AnswerChecks,
): Promise<EvalExampleResult> {
  const text = result?.answer ?? ''
  const sources: CheckedSource[] = result ? result.retrieval.hits.map((h, i) => ({ n: i + 1, text: h.text, path: h.documentPath, chunkId: h.chunkId })) : []
  const check: AnswerCheckResult = result
    ? await checks.check(
        {
          id: example.id, question: example.question, answer: text, sources, finishReason: result.finishReason,
          ...(example.goldDocIds.length ? { gold: { documents: example.goldDocIds } } : {}),
          ...(example.schema ? { jsonSchema: example.schema } : {}),
        },
        opts.signal ? { signal: opts.signal } : {},
      )
    : { categories: ['format'], groundedness: null }
  const { metrics, predictedLabel } = scoreExample({
    example, labels: opts.set.labels, answer: text, structured: result?.structured, sources, k: opts.retrieval.topK, check, latencyMs,
  })
  return {
    runId,
    exampleId: example.id,
    category: example.category,
    question: example.question,
    answer: result ? text : null,
    metrics,
    detail: {
      adapter: result?.adapter ?? null,
      sources: sources.map((s) => s.path),
      citations: result?.citations ?? [],
      finishReason: result?.finishReason ?? null,
      findings: check.categories,
      predictedLabel,
      error,
      warnings: result?.warnings ?? [],
    },
  }
}

