import { createWriteStream } from 'node:fs'
import { finished } from 'node:stream/promises'
import type { Command } from 'commander'
import { RagtuneError } from '../errors.js'
import { queryNotFound } from '../store/query-log-sql.js'
import { applyRetention, exportLogsJsonl } from '../observe/query-log.js'
import { parseSince } from '../observe/since.js'
import type { Label, LoggedHit, QueryLogEntry } from '../spec/query-log.js'
import type { Store } from '../spec/store.js'
import { isInitialised, openWorkspace, type Workspace } from '../workspace.js'
import { configFromCli, intOption, interruptSignal, printJson, table } from './common.js'

const sinceOption = ['--since <when>', 'only queries since an age (30m, 12h, 14d) or an ISO date'] as const
function since(v: string): Date {
  try {
    return parseSince(v)
  } catch (err) {
    throw new RagtuneError('USAGE', `--since ${(err as Error).message}`)
  }
}

/**
 * Runs `fn` on the workspace's store; `store` is null when nothing was ever indexed (so nothing can
 * have been logged), which the commands report as an empty log rather than an error.
 */
export async function withLogStore<T>(cmd: Command, fn: (store: Store | null, ws: Workspace) => Promise<T>): Promise<T> {
  const ws = await openWorkspace(await configFromCli(cmd), { embedder: false })
  try {
    return await fn((await isInitialised(ws.store)) ? ws.store : null, ws)
  } finally {
    await ws.close()
  }
}

export function registerLogs(program: Command): void {
  const logs = program.command('logs').description('the query log: every question with its sources, prompt, answer, model, adapter and timings')
  logs
    .command('list', { isDefault: true })
    .description('newest queries first: time, id, question, adapter, latency, error, label')
    .option(...sinceOption, since)
    .option('--limit <n>', 'most queries to show', intOption('--limit'), 20)
    .option('--json', 'print the entries (with their labels) as JSON')
    .action(async (flags: { since?: Date; limit: number; json?: boolean }, cmd: Command) => {
      await withLogStore(cmd, async (store) => {
        const entries = store ? await store.listQueryLogs({ limit: flags.limit, ...(flags.since ? { since: flags.since } : {}) }) : []
        const labeled = await Promise.all(entries.map(async (e) => ({ ...e, labels: await store!.listLabels({ queryId: e.id }) })))
        if (flags.json) return printJson(labeled)
        if (labeled.length === 0) {
          process.stdout.write(`no queries logged${flags.since ? ` since ${flags.since.toISOString()}` : ' yet'}\n`)
          return
        }
        process.stdout.write(formatLogTable(labeled) + '\n')
        if (labeled.length === flags.limit) process.stdout.write(`(the newest ${flags.limit}; use --limit or --since for others)\n`)
      })
    })
  logs
    .command('show')
    .description('one query in full: question, answer, error, sources with every score, prompt, timings, labels')
    .argument('<id>', 'query id (from `ragtune logs`)')
    .option('--json', 'print the entry (with its labels) as JSON')
    .action(async (id: string, flags: { json?: boolean }, cmd: Command) => {
      await withLogStore(cmd, async (store) => {
        const entry = store ? await store.getQueryLog(id) : null
        if (!store || !entry) throw queryNotFound(id)
        const labels = await store.listLabels({ queryId: id })
        if (flags.json) return printJson({ ...entry, labels })
        process.stdout.write(formatLogEntry(entry, labels) + '\n')
      })
    })
  logs
    .command('export')
    .description('write the log as JSON Lines (one entry per line, newest first), streamed page by page')
    .option('--format <format>', 'output format: jsonl', 'jsonl')
    .option('--out <file>', 'write to this file instead of stdout')
    .option(...sinceOption, since)
    .action(async (flags: { format: string; out?: string; since?: Date }, cmd: Command) => {
      if (flags.format !== 'jsonl') throw new RagtuneError('USAGE', `--format expects jsonl, got "${flags.format}"`)
      await withLogStore(cmd, async (store) => {
        const out = flags.out ? createWriteStream(flags.out) : process.stdout
        let count = 0
        try {
          if (store) count = await exportLogsJsonl(store, { out, signal: interruptSignal(), ...(flags.since ? { since: flags.since } : {}) })
        } finally {
          if (out !== process.stdout) {
            out.end()
            await finished(out)
          }
        }
        process.stderr.write(`exported ${count} quer${count === 1 ? 'y' : 'ies'}${flags.out ? ` to ${flags.out}` : ''}\n`)
      })
    })
  logs
    .command('prune')
    .description('delete queries (and their labels) older than the retention window')
    .option('--days <n>', 'keep this many days (default: observe.retentionDays from the config)', intOption('--days'))
    .option('--json', 'print the result as JSON')
    .action(async (flags: { days?: number; json?: boolean }, cmd: Command) => {
      await withLogStore(cmd, async (store, ws) => {
        const days = flags.days ?? ws.config.observe.retentionDays
        const res = store ? await applyRetention(store, { days }) : { deleted: 0, cutoff: null }
        if (flags.json) return printJson({ days, ...res })
        if (days === null) process.stdout.write('retention is off (observe.retentionDays is null): nothing deleted; pass --days N to prune once\n')
        else process.stdout.write(`deleted ${res.deleted} quer${res.deleted === 1 ? 'y' : 'ies'} logged before ${res.cutoff ?? '-'} (${days} days kept)\n`)
      })
    })
}

/** The compact listing: one line per query, enough to pick an id for `logs show` or `feedback`. */
export function formatLogTable(entries: Array<QueryLogEntry & { labels: Label[] }>): string {
  const rows = [['time (UTC)', 'id', 'question', 'adapter', 'latency', 'error', 'label']]
  for (const e of entries) {
    rows.push([
      e.time.slice(0, 19).replace('T', ' '),
      e.id,
      truncate(oneLine(e.question), 48),
      e.adapter ?? 'base',
      `${Math.round(e.timings.totalMs)} ms`,
      e.error?.code ?? '-',
      labelSummary(e.labels[e.labels.length - 1]),
    ])
  }
  return table(rows)
}

/** Everything the log holds about one query, in reading order: what was asked, answered, used, judged. */
export function formatLogEntry(e: QueryLogEntry, labels: Label[]): string {
  const t = e.timings
  const ms = (v: number | null): string => (v === null ? '-' : `${Math.round(v)} ms`)
  const lines = [
    `query ${e.id} · ${e.time}${e.client ? ` · client ${e.client}` : ''}`,
    `model ${e.model ?? '-'} · adapter ${e.adapter ?? 'base model'}`,
    `timings: retrieve ${ms(t.retrieveMs)} · rerank ${ms(t.rerankMs)} · first token ${ms(t.firstTokenMs)} · total ${ms(t.totalMs)}`,
  ]
  if (e.usage) lines.push(`tokens: ${e.usage.promptTokens} prompt + ${e.usage.completionTokens} completion`)
  lines.push('', 'question:', indent(e.question))
  lines.push('', 'answer:', e.answer === null ? '  (none)' : indent(e.answer))
  if (e.error) lines.push('', `error [${e.error.code}]:`, indent(e.error.message))
  if (e.retrieval) {
    const r = e.retrieval
    lines.push('', `sources (${r.mode}${r.rerankerModel ? `, reranked by ${r.rerankerModel}` : ''}; retrieval ${ms(r.timings.totalMs)}):`)
    if (r.hits.length === 0) lines.push('  (no hits)')
    for (const h of r.hits) lines.push(`  [${h.rank}] ${h.documentPath}${h.headingPath.length ? ` › ${h.headingPath.join(' › ')}` : ''}`, `      ${hitScores(h)}  (chunk ${h.chunkId})`)
  }
  if (e.prompt) {
    lines.push('', `prompt${e.prompt.template ? ` (template ${e.prompt.template})` : ''}:`)
    for (const m of e.prompt.messages) lines.push(`  --- ${m.role}`, indent(m.content, '    '))
    if (e.prompt.rendered !== null) lines.push('  --- rendered', indent(e.prompt.rendered, '    '))
  }
  lines.push('', labels.length ? 'labels (newest last):' : 'labels: none (add one with `ragtune feedback <id> --good|--bad`)')
  for (const l of labels) {
    lines.push(`  ${l.time} · ${labelSummary(l)} · ${l.source}${l.author ? ` · ${l.author}` : ''}`)
    if (l.correction !== null) lines.push('    correction:', indent(l.correction, '      '))
  }
  if (e.extra) lines.push('', `extra: ${JSON.stringify(e.extra)}`)
  return lines.join('\n')
}

function hitScores(h: LoggedHit): string {
  const s = h.scores
  return [
    s.dense ? `dense #${s.dense.rank} ${s.dense.score.toFixed(3)}` : null,
    s.lexical ? `lexical #${s.lexical.rank} ${s.lexical.score.toFixed(3)}` : null,
    `fused ${s.fused.toFixed(4)}`,
    s.rerank !== undefined ? `rerank ${s.rerank.toFixed(3)}` : null,
  ].filter(Boolean).join(' · ')
}

function labelSummary(l: Label | undefined): string {
  if (!l) return '-'
  const parts = [l.rating, l.category].filter((p) => p !== null)
  return (parts.join('/') || 'note') + (l.correction !== null ? ' +correction' : '')
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim()
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s
}

function indent(s: string, pad = '  '): string {
  return s.split('\n').map((l) => pad + l).join('\n')
}
