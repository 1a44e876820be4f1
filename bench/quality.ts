import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadRetrievalDataset } from '../src/eval/datasets/load-dataset.js'
import { runRetrievalEval, type RetrievalEvalReport } from '../src/eval/retrieval-eval.js'
import { ensureTinyModels } from '../src/models/tiny/ensure-tiny-models.js'
import { TransformersEmbeddingModel } from '../src/models/transformers/transformers-embedding-model.js'
import { TransformersReranker } from '../src/models/transformers/transformers-reranker.js'
import type { RetrievalMode } from '../src/config/schema.js'
import { PGliteStore } from '../src/store/pglite-store.js'
import { envInt, envString } from './lib/env.js'
import { note, printTable } from './lib/format.js'
import { DEFAULTS } from './lib/ragtune-index.js'
import { BENCH_DIR, CACHE_DIR, type BenchResult } from './lib/results.js'

const WARNING = 'only the lexical row means anything: the tiny models are generated, not trained'

const MODES: Array<{ label: string; mode: RetrievalMode; rerank: boolean }> = [
  { label: 'lexical', mode: 'lexical', rerank: false },
  { label: 'dense', mode: 'dense', rerank: false },
  { label: 'hybrid', mode: 'hybrid', rerank: false },
  { label: 'hybrid + rerank', mode: 'hybrid', rerank: true },
]

/**
 * The retrieval eval on PubMedQA (1,000 abstracts, one question each) through runRetrievalEval, the
 * code behind `ragtune eval retrieval`, with the tiny generated models: a pipeline check whose only
 * meaningful row is lexical (BM25 needs no model).
 */
export async function runQuality(): Promise<BenchResult> {
  const path = envString('BENCH_PUBMEDQA', join(BENCH_DIR, '..', '..', 'shared', 'data', 'pubmedqa', 'ori_pqal.json'))
  const limit = envInt('BENCH_QUALITY_LIMIT', 250)
  if (!existsSync(path)) {
    note(`quality: ${path} not found; set BENCH_PUBMEDQA to ori_pqal.json`)
    return { data: { skipped: true, path }, goals: [], notes: [`skipped: ${path} not found`] }
  }
  const dataset = await loadRetrievalDataset(path, 'pubmedqa')
  const dirs = await ensureTinyModels(join(CACHE_DIR, 'models'))
  const embedder = await TransformersEmbeddingModel.load({ model: dirs.embedder, offline: true, batchSize: DEFAULTS.models.embedder.batchSize })
  const reranker = await TransformersReranker.load({ model: dirs.reranker, offline: true, batchSize: DEFAULTS.models.reranker.batchSize })
  const reports: Array<{ label: string; report: RetrievalEvalReport }> = []
  try {
    for (const m of MODES) {
      note(`quality: ${m.label}`)
      const store = await PGliteStore.open({})
      try {
        await store.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
        const report = await runRetrievalEval({
          dataset,
          store,
          embedder,
          reranker,
          chunking: DEFAULTS.chunking,
          retrieval: { ...DEFAULTS.retrieval, mode: m.mode, rerank: m.rerank },
          batchSize: DEFAULTS.models.embedder.batchSize,
          ...(limit ? { limit } : {}),
        })
        reports.push({ label: m.label, report })
      } finally {
        await store.close()
      }
    }
  } finally {
    await Promise.all([embedder.dispose(), reranker.dispose()])
  }
  const first = reports[0]!.report
  printTable(
    `quality: ${first.dataset}, ${first.metrics.queries} questions over ${first.documents} abstracts (${first.chunks} chunks), tiny generated models — ${WARNING.toUpperCase()}`,
    ['mode', 'recall@1', 'recall@5', 'recall@10', 'recall@20', 'MRR@10', 'nDCG@10', 'index s', 'query p50 ms', 'query p99 ms'],
    reports.map(({ label, report: r }) => [label, r.metrics.recall1, r.metrics.recall5, r.metrics.recall10, r.metrics.recall20, r.metrics.mrr10, r.metrics.ndcg10, r.indexMs / 1000, r.queryMsP50, r.queryMsP99]),
  )
  const warnings = [...new Set(reports.flatMap((r) => r.report.warnings))]
  return {
    data: {
      dataset: first.dataset,
      path,
      models: { embedder: embedder.id, reranker: reranker.id },
      modes: reports.map(({ label, report: r }) => ({ mode: label, metrics: r.metrics, documents: r.documents, chunks: r.chunks, indexMs: r.indexMs, queryMsP50: r.queryMsP50, queryMsP99: r.queryMsP99 })),
      warnings,
    },
    goals: [],
    notes: [WARNING, 'Each mode indexes the 1,000 abstracts into a fresh in-memory store, as `ragtune eval retrieval` does.'],
  }
}
