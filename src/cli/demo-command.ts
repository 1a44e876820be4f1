import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { parseConfig, type LoadedConfig } from '../config/load-config.js'
import { RagtuneError } from '../errors.js'
import { retrieve } from '../retrieve/retrieve.js'
import { openWorkspace, TINY_MODEL_ID } from '../workspace.js'
import { formatIndexReport, indexWithProgress } from './index-command.js'
import { formatSearch } from './search-command.js'
import { interruptSignal, table } from './common.js'

/** The sample corpus shipped with the package (documents written for ragtune). */
export const SAMPLES_DIR = fileURLToPath(new URL('../../samples', import.meta.url))

interface SampleQuestion {
  question: string
  answer: string
  source: string
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('index the bundled sample corpus and answer sample questions by search, offline with tiny generated models')
    .option('--dir <dir>', 'data folder for the demo', '.ragtune-demo')
    .option('--models <which>', '"tiny" (generated, offline) or "default" (real hub models; needs a network once)', 'tiny')
    .option('--questions <n>', 'how many sample questions to search', '3')
    .action(async (opts: { dir: string; models: string; questions: string }) => {
      if (opts.models !== 'tiny' && opts.models !== 'default') throw new RagtuneError('USAGE', `--models expects "tiny" or "default", got "${opts.models}"`)
      const tiny = opts.models === 'tiny'
      const loaded: LoadedConfig = {
        config: parseConfig({
          dataDir: opts.dir,
          docs: { root: path.join(SAMPLES_DIR, 'docs') },
          ...(tiny ? { models: { offline: true, embedder: { model: TINY_MODEL_ID }, reranker: { model: TINY_MODEL_ID } } } : {}),
        }),
        baseDir: process.cwd(),
        file: null,
      }
      const out = (s = ''): boolean => process.stdout.write(s + '\n')
      out(`ragtune demo · models: ${tiny ? 'tiny, generated locally (random-ish weights: scores show the pipeline, not quality)' : 'default hub models'}`)
      const ws = await openWorkspace(loaded, { embedder: true, reranker: true })
      const signal = interruptSignal()
      try {
        const { config } = loaded
        const run = (label: string) => indexWithProgress(ws, config.docs.root, { label, signal })
        out(`\n1. index ${config.docs.root}`)
        out(formatIndexReport(await run('indexing')))
        out('\n2. index again: change detection skips every unchanged file')
        out(formatIndexReport(await run('re-indexing')))

        const questions = (await readFile(path.join(SAMPLES_DIR, 'questions.jsonl'), 'utf8'))
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as SampleQuestion)
          .slice(0, Math.max(1, Number(opts.questions) || 3))
        out(`\n3. search ${questions.length} sample question(s): hybrid (dense + BM25, fused by RRF), then the cross-encoder rerank`)
        const modes = [
          { label: 'lexical', mode: 'lexical', rerank: false },
          { label: 'dense', mode: 'dense', rerank: false },
          { label: 'hybrid', mode: 'hybrid', rerank: false },
          { label: 'hybrid+rerank', mode: 'hybrid', rerank: true },
        ] as const
        const rows = [['question', ...modes.map((m) => m.label)]]
        for (const q of questions) {
          const ranks: string[] = []
          for (const m of modes) {
            const res = await retrieve({ store: ws.store, embedder: ws.embedder, reranker: ws.reranker }, q.question, { ...config.retrieval, mode: m.mode, rerank: m.rerank, signal })
            const at = res.hits.findIndex((h) => h.documentPath === q.source) + 1
            ranks.push(at > 0 ? `#${at}` : '-')
            if (m.rerank) out('\n' + formatSearch(res) + `\n    gold source: ${q.source} · expected answer: ${q.answer}`)
          }
          rows.push([q.question.length > 48 ? q.question.slice(0, 47) + '…' : q.question, ...ranks])
        }
        out(`\nrank of the gold document in the top ${config.retrieval.topK}, by mode (- = not found):`)
        out(table(rows))
        if (tiny) out('tiny models: the embedder is a bag-of-words construction and the reranker has random weights, so only the lexical column says anything about retrieval quality.')
        const stats = await ws.store.stats()
        out(`\nstore: ${stats.documents} documents, ${stats.chunks} chunks, lexical ${stats.lexicalBackend}, in ${ws.dataDir}`)
        out('next: `ragtune init --tiny && ragtune index <your docs> && ragtune search "..."`, or `ragtune eval retrieval --help`')
      } finally {
        await ws.close()
      }
    })
}
