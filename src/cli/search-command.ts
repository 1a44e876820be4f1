import type { Command } from 'commander'
import { retrievalModes, type RetrievalMode } from '../config/schema.js'
import { RagtuneError } from '../errors.js'
import { retrieve, type RetrievalResult } from '../retrieve/retrieve.js'
import { openWorkspace } from '../workspace.js'
import { configFromCli, intOption, printJson } from './common.js'

interface SearchFlags {
  mode?: string
  topK?: number
  rerank: boolean
  json?: boolean
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('retrieve the best chunks for a question (dense + lexical, fused, reranked)')
    .argument('<question...>', 'the question')
    .option('--mode <mode>', `retrieval mode: ${retrievalModes.join(' | ')} (default from config: hybrid)`)
    .option('-k, --top-k <n>', 'number of results (default from config: 4)', intOption('--top-k'))
    .option('--no-rerank', 'skip the cross-encoder and keep the fused order')
    .option('--json', 'print the result as JSON')
    .action(async (words: string[], flags: SearchFlags, cmd: Command) => {
      if (flags.mode && !retrievalModes.includes(flags.mode as RetrievalMode)) {
        throw new RagtuneError('USAGE', `--mode expects one of ${retrievalModes.join(', ')}, got "${flags.mode}"`)
      }
      const loaded = await configFromCli(cmd, {
        retrieval: { ...(flags.mode ? { mode: flags.mode as RetrievalMode } : {}), ...(flags.topK ? { topK: flags.topK } : {}), ...(flags.rerank ? {} : { rerank: false }) },
      })
      const r = loaded.config.retrieval
      const ws = await openWorkspace(loaded, { embedder: r.mode !== 'lexical', reranker: r.rerank, requireIndex: true })
      try {
        const result = await retrieve({ store: ws.store, embedder: ws.embedder, reranker: ws.reranker }, words.join(' '), r)
        if (flags.json) printJson(result)
        else process.stdout.write(formatSearch(result) + '\n')
      } finally {
        await ws.close()
      }
    })
}

/** Results as a person reads them: rank, source and heading, every stage's score, a text preview. */
export function formatSearch(res: RetrievalResult): string {
  if (res.hits.length === 0) return `no results for "${res.query}" (mode ${res.mode}); is the folder indexed? try \`ragtune status\``
  const lines = [`${res.hits.length} result(s) for "${res.query}" · mode ${res.mode}${res.rerankerModel ? ' · reranked' : ''} · ${res.timings.totalMs.toFixed(0)} ms`]
  for (const h of res.hits) {
    const s = h.scores
    const parts = [
      s.dense ? `dense #${s.dense.rank} ${s.dense.score.toFixed(3)}` : null,
      s.lexical ? `lexical #${s.lexical.rank} ${s.lexical.score.toFixed(3)}` : null,
      res.mode === 'hybrid' ? `rrf ${s.fused.toFixed(4)}` : null,
      s.rerank !== undefined ? `rerank ${s.rerank.toFixed(3)}` : null,
    ].filter(Boolean)
    const heading = h.headingPath.length ? ` › ${h.headingPath.join(' › ')}` : ''
    const preview = h.text.replace(/\s+/g, ' ').trim().slice(0, 220)
    lines.push('', `[${h.rank}] ${h.documentPath}${heading}`, `    ${parts.join(' · ')}  (chunk ${h.chunkId.slice(0, 12)})`, `    ${preview}${h.text.length > 220 ? '…' : ''}`)
  }
  for (const w of res.warnings) lines.push('', `warning: ${w}`)
  return lines.join('\n')
}
