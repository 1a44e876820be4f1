import type { Command } from 'commander'
import { retrievalModes, type RetrievalMode } from '../config/schema.js'
import { RagtuneError } from '../errors.js'
import { DATASET_FORMATS, loadRetrievalDataset } from '../eval/datasets/load-dataset.js'
import type { DatasetFormat } from '../eval/datasets/retrieval-dataset.js'
import { runRetrievalEval, type RetrievalEvalReport } from '../eval/retrieval-eval.js'
import { openWorkspace } from '../workspace.js'
import { configFromCli, interruptSignal, intOption, printJson, table } from './common.js'
import { registerAdapterEval } from './eval-run-command.js'
import { ProgressBar } from './progress-bar.js'

interface EvalFlags {
  dataset: string
  format: string
  mode?: string
  rerank: boolean
  split?: string
  limit?: number
  json?: boolean
}

export function registerEval(program: Command): void {
  const evalCmd = program.command('eval').description('evaluate retrieval on public benchmarks, and adapters on held-out sets (paired A/B comparison)')
  registerAdapterEval(evalCmd)
  evalCmd
    .command('retrieval')
    .description('index a public dataset into a scratch store and report recall@1/5/10/20, MRR@10 and nDCG@10')
    .requiredOption('--dataset <path>', 'dataset file or folder (SQuAD json, PubMedQA ori_pqal.json, BEIR folder)')
    .requiredOption('--format <format>', `dataset format: ${DATASET_FORMATS.join(' | ')}`)
    .option('--mode <mode>', `retrieval mode: ${retrievalModes.join(' | ')} (default from config: hybrid)`)
    .option('--no-rerank', 'skip the cross-encoder')
    .option('--split <name>', 'BEIR qrels split (default test); PubMedQA: "test" for the official 500-question split')
    .option('--limit <n>', 'evaluate only the first n questions', intOption('--limit'))
    .option('--json', 'print the report as JSON (with per-question metrics)')
    .action(async (flags: EvalFlags, cmd: Command) => {
      if (!DATASET_FORMATS.includes(flags.format as DatasetFormat)) throw new RagtuneError('USAGE', `--format expects one of ${DATASET_FORMATS.join(', ')}, got "${flags.format}"`)
      if (flags.mode && !retrievalModes.includes(flags.mode as RetrievalMode)) throw new RagtuneError('USAGE', `--mode expects one of ${retrievalModes.join(', ')}, got "${flags.mode}"`)
      const loaded = await configFromCli(cmd, { retrieval: { ...(flags.mode ? { mode: flags.mode as RetrievalMode } : {}), ...(flags.rerank ? {} : { rerank: false }) } })
      const signal = interruptSignal()
      const dataset = await loadRetrievalDataset(flags.dataset, flags.format as DatasetFormat, { ...(flags.split ? { split: flags.split } : {}), signal })
      const ws = await openWorkspace(loaded, { embedder: true, reranker: loaded.config.retrieval.rerank, inMemory: true })
      const bar = flags.json ? null : new ProgressBar('eval')
      try {
        const report = await runRetrievalEval({
          dataset,
          store: ws.store,
          embedder: ws.embedder!,
          reranker: ws.reranker,
          chunking: loaded.config.chunking,
          retrieval: loaded.config.retrieval,
          ...(flags.limit ? { limit: flags.limit } : {}),
          batchSize: loaded.config.models.embedder.batchSize,
          signal,
          onProgress: (p) => bar?.update({ done: p.done, total: p.total, fields: [p.phase === 'index' ? 'indexing documents' : 'asking questions'], etaSec: null }),
        })
        bar?.stop()
        if (flags.json) printJson(report)
        else process.stdout.write(formatEvalReport(report) + '\n')
      } finally {
        bar?.stop()
        await ws.close()
      }
    })
}

export function formatEvalReport(r: RetrievalEvalReport): string {
  const m = r.metrics
  const pct = (x: number) => x.toFixed(3)
  return [
    `${r.dataset}: ${r.metrics.queries} questions over ${r.documents} documents (${r.chunks} chunks) · mode ${r.mode}${r.reranked ? ' + rerank' : ''}`,
    `models: embedder ${r.embeddingModel}${r.rerankerModel ? `, reranker ${r.rerankerModel}` : ''}`,
    '',
    table([
      ['recall@1', 'recall@5', 'recall@10', 'recall@20', 'MRR@10', 'nDCG@10'],
      [pct(m.recall1), pct(m.recall5), pct(m.recall10), pct(m.recall20), pct(m.mrr10), pct(m.ndcg10)],
    ]),
    '',
    `index ${(r.indexMs / 1000).toFixed(1)}s · query p50 ${r.queryMsP50.toFixed(1)} ms, p99 ${r.queryMsP99.toFixed(1)} ms`,
    ...r.warnings.slice(0, 5).map((w) => `warning: ${w}`),
  ].join('\n')
}
