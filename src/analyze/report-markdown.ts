import type { FailureReport } from './failure-report.js'

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`

function mdTable(rows: string[][]): string[] {
  const [head, ...body] = rows
  return [`| ${head!.join(' | ')} |`, `|${head!.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`)]
}

/**
 * The failure report as markdown: readable in a terminal, pasteable into an issue or a PR. What
 * fails most comes first, then the trend, then what training data is missing.
 */
export function formatFailureReport(r: FailureReport): string {
  const lines = [
    '# ragtune failure analysis',
    '',
    `Window: ${r.window.since ?? 'all time'} → ${r.window.until}`,
    `Queries: ${r.queries} (${r.answered} answered, ${r.failedRequests} failed requests) · answers with an error-level finding: ${r.failing}${r.answered ? ` (${pct(r.failing / r.answered)})` : ''}`,
  ]
  if (r.judge) lines.push(`Judge: ${r.judge.judged} graded, ${r.judge.errors} judge errors`)
  lines.push('', '## Failure rates by category', '')
  if (r.categories.length === 0) lines.push(r.queries === 0 ? 'No queries in this window.' : 'No failures found.')
  else {
    lines.push(...mdTable([
      ['category', 'queries', 'rate', 'errors', 'warnings', 'top rules', 'training examples', 'example query ids'],
      ...r.categories.map((c) => [
        c.category, String(c.queries), pct(c.rate), String(c.errors), String(c.warnings),
        Object.entries(c.rules).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ×${v}`).join(', '),
        `${c.trainingExamples}${c.lacksExamples ? ' ⚠' : ''}`,
        c.exampleQueryIds.join(' '),
      ]),
    ]))
  }
  const cats = r.categories.map((c) => c.category)
  if (r.trend.buckets.length > 0 && cats.length > 0) {
    lines.push('', `## Trend (per ${r.trend.bucket}, queries with a finding)`, '')
    lines.push(...mdTable([
      [r.trend.bucket === 'day' ? 'day' : 'week of', 'queries', ...cats],
      ...r.trend.buckets.map((b) => [b.start.slice(0, 10), String(b.queries), ...cats.map((c) => String(b.failures[c] ?? 0))]),
    ]))
  }
  lines.push('', '## Training data coverage', '')
  if (r.coverage.lacking.length === 0) lines.push(`Every failing category has at least ${r.coverage.minExamples} training examples.`)
  else {
    lines.push(`These categories have fewer than ${r.coverage.minExamples} training examples: ${r.coverage.lacking.join(', ')}.`)
    lines.push('Add corrections with `ragtune feedback <id> --bad --category <c> --correction "..."` or import labels with `ragtune labels import`.')
  }
  for (const w of r.warnings) lines.push('', `> warning: ${w}`)
  return lines.join('\n')
}
