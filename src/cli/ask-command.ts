import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { answer, type AnswerResult } from '../answer/answer.js'
import { retrievalModes, type RetrievalMode } from '../config/schema.js'
import { RagtuneError } from '../errors.js'
import { activeChoice } from '../registry/serving.js'
import { loadGenerator, openWorkspace } from '../workspace.js'
import { configFromCli, interruptSignal, printJson } from './common.js'

interface AskFlags {
  json?: boolean
  stream?: boolean
  adapter?: string
  schema?: string
  mode?: string
  rerank: boolean
}

export function registerAsk(program: Command): void {
  program
    .command('ask')
    .description('answer a question from the indexed documents, with numbered sources; every question is logged')
    .argument('<question...>', 'the question')
    .option('--stream', 'print the answer as it is generated')
    .option('--adapter <path>', 'LoRA adapter (GGUF) to answer with, or "none" for the base model (default: the registry\'s active adapter, else generator.adapter)')
    .option('--schema <file>', 'JSON Schema file: the answer must be JSON matching it')
    .option('--mode <mode>', `retrieval mode: ${retrievalModes.join(' | ')}`)
    .option('--no-rerank', 'skip the cross-encoder')
    .option('--json', 'print the whole result (answer, sources, scores, timings, usage) as JSON')
    .action(async (words: string[], flags: AskFlags, cmd: Command) => {
      if (flags.mode && !retrievalModes.includes(flags.mode as RetrievalMode)) throw new RagtuneError('USAGE', `--mode expects one of ${retrievalModes.join(', ')}, got "${flags.mode}"`)
      const loaded = await configFromCli(cmd, { retrieval: { ...(flags.mode ? { mode: flags.mode as RetrievalMode } : {}), ...(flags.rerank ? {} : { rerank: false }) } })
      const jsonSchema = flags.schema ? await readSchema(flags.schema) : undefined
      const { config } = loaded
      const ws = await openWorkspace(loaded, { embedder: config.retrieval.mode !== 'lexical', reranker: config.retrieval.rerank, requireIndex: true })
      const adapterOverride = flags.adapter === undefined ? undefined : flags.adapter === 'none' ? null : flags.adapter
      let generator
      try {
        // Without --adapter, answer as production does: the registry's active adapter (else generator.adapter).
        generator = adapterOverride === undefined ? await (await activeChoice(loaded, ws.dataDir, ws.store)).load() : await loadGenerator(loaded, ws.dataDir, { adapterOverride })
        const streaming = !!flags.stream && !flags.json
        const result = await answer({ store: ws.store, embedder: ws.embedder, reranker: ws.reranker, generator }, words.join(' '), {
          retrieval: config.retrieval,
          temperature: config.generator.temperature,
          maxTokens: config.generator.maxTokens,
          ...(jsonSchema ? { jsonSchema } : {}),
          signal: interruptSignal(),
          log: { logPrompts: config.observe.logPrompts, client: 'cli' },
          ...(streaming ? { onText: (t: string) => void process.stdout.write(t) } : {}),
        })
        if (flags.json) printJson(result)
        else process.stdout.write(formatAnswer(result, { streamed: streaming }) + '\n')
        if (result.finishReason === 'abort') throw new RagtuneError('ABORTED', 'interrupted: the answer above is incomplete')
      } finally {
        await generator?.dispose()
        await ws.close()
      }
    })
}

async function readSchema(file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
  } catch (err) {
    throw new RagtuneError('USAGE', `--schema ${file}: cannot read a JSON Schema there: ${(err as Error).message}`)
  }
}

/** The answer, its sources (cited ones marked) and how to give feedback on it. */
export function formatAnswer(r: AnswerResult, opts: { streamed?: boolean } = {}): string {
  const lines = opts.streamed ? [''] : [r.answer.trim()]
  lines.push('', 'Sources:')
  for (const s of r.sources) lines.push(`  ${r.citations.includes(s.n) ? '*' : ' '}[${s.n}] ${s.path}${s.heading.length ? ` › ${s.heading.join(' › ')}` : ''}`)
  if (r.sources.length === 0) lines.push('  (none found)')
  lines.push('', `model ${r.model}${r.adapter ? ` + adapter ${r.adapter}` : ''} · ${r.usage.completionTokens} tokens · ${(r.timings.totalMs / 1000).toFixed(1)}s`)
  for (const w of r.warnings) lines.push(`warning: ${w}`)
  lines.push(`query ${r.queryId}: rate it with \`ragtune feedback ${r.queryId} --good\` (or --bad --correction "...")`)
  return lines.join('\n')
}
