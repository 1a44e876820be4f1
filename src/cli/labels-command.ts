import type { Command } from 'commander'
import { importLabels, LABEL_FORMATS } from '../dataset/labels/import-labels.js'
import { RagtuneError } from '../errors.js'
import type { LabelFormat } from '../spec/dataset.js'
import { openWorkspace } from '../workspace.js'
import { configFromCli, interruptSignal, printJson, table } from './common.js'

export function registerLabels(program: Command): void {
  const labels = program.command('labels').description('labeled questions for fine-tuning that were not asked through ragtune (imports); feedback on logged queries goes through `ragtune feedback`')
  labels
    .command('import')
    .summary('import labeled Q&A: guide JSONL, OpenAI chat JSONL, SQuAD, PubMedQA')
    .description(
      'import labeled questions and answers: guide = JSONL {instruction, input, output}; openai = chat JSONL {messages, metadata?}; ' +
        'squad = SQuAD v1.1/v2.0 JSON; pubmedqa = ori_pqal.json. The file is checked completely before anything is stored: ' +
        'a malformed record is reported with its line (or record) and nothing of the file is stored. Re-importing adds nothing.',
    )
    .argument('<file>', 'the label file (pubmedqa: the file or its folder)')
    .requiredOption('--format <format>', `file format: ${LABEL_FORMATS.join(' | ')}`)
    .option('--category <name>', 'failure category these labels teach, for records that name none (format, hedging, tone…)')
    .option('--json', 'print the import result as JSON')
    .action(async (file: string, flags: { format: string; category?: string; json?: boolean }, cmd: Command) => {
      if (!LABEL_FORMATS.includes(flags.format as LabelFormat)) throw new RagtuneError('USAGE', `--format expects one of ${LABEL_FORMATS.join(', ')}, got "${flags.format}"`)
      const ws = await openWorkspace(await configFromCli(cmd), { embedder: false, requireIndex: true })
      try {
        const res = await importLabels(ws.store, file, flags.format as LabelFormat, { ...(flags.category ? { category: flags.category } : {}), signal: interruptSignal() })
        if (flags.json) return printJson(res)
        process.stdout.write(`imported ${res.added} new label(s) from ${file} (${res.format}, batch ${res.batchId}); ${res.existing} already stored${res.skipped ? `, ${res.skipped} skipped (no answer)` : ''}\n`)
      } finally {
        await ws.close()
      }
    })
  labels
    .command('list')
    .description('imported label batches: id, format, count, categories, when')
    .option('--json', 'print the batches as JSON')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const ws = await openWorkspace(await configFromCli(cmd), { embedder: false, requireIndex: true })
      try {
        const batches = new Map<string, { batchId: string; source: string; examples: number; categories: Record<string, number>; importedAt: string }>()
        for (const ex of await ws.store.listLabeledExamples()) {
          const b = batches.get(ex.batchId) ?? { batchId: ex.batchId, source: ex.source, examples: 0, categories: {}, importedAt: ex.importedAt }
          b.examples++
          if (ex.category) b.categories[ex.category] = (b.categories[ex.category] ?? 0) + 1
          batches.set(ex.batchId, b)
        }
        const rows = [...batches.values()]
        if (flags.json) return printJson(rows)
        if (rows.length === 0) return void process.stdout.write('no labels imported yet (ragtune labels import <file> --format guide)\n')
        process.stdout.write(table([['batch', 'format', 'labels', 'categories', 'imported (UTC)'],
          ...rows.map((b) => [b.batchId, b.source, String(b.examples), Object.entries(b.categories).map(([c, n]) => `${c} ${n}`).join(', ') || '-', b.importedAt.slice(0, 19).replace('T', ' ')])]) + '\n')
      } finally {
        await ws.close()
      }
    })
}
