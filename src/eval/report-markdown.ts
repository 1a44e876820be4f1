import type { Comparison, MetricComparison } from './compare.js'
import type { GateDecision } from './gate.js'

/**
 * The comparison as markdown: what a reviewer reads in a pull request or the dashboard before an
 * adapter goes live. Every difference is shown with its interval and test, so "B is better" is never
 * read off two bare means.
 */
export function comparisonMarkdown(c: Comparison, decision: GateDecision | null = null): string {
  const pct = `${Math.round((1 - c.options.alpha) * 100)}%`
  const side = (label: string, r: Comparison['a']) => `- **${label}** = \`${r.adapter}\`${r.adapterId ? ` (${r.adapterId})` : ''}, run \`${r.id}\` of ${r.time}, model \`${r.model}\``
  const lines = [
    `# A/B comparison: ${c.b.adapter} vs ${c.a.adapter}`,
    '',
    side('A', c.a),
    side('B', c.b),
    `- eval set \`${c.set.name}\` (sha256 ${c.set.sha256.slice(0, 12)}…): ${c.pairs} paired examples` +
      (c.unpaired.onlyA || c.unpaired.onlyB ? ` (${c.unpaired.onlyA} only in A, ${c.unpaired.onlyB} only in B, left out)` : ''),
    `- Δ = B − A; ${pct} paired-bootstrap intervals (${c.options.resamples} resamples, seed ${c.options.seed}); McNemar's test for binary metrics (exact below 25 discordant pairs); ` +
      `a regression is significantly worse by more than ${c.options.tolerance}`,
    '',
  ]
  if (decision) {
    const p = decision.primary
    lines.push(
      '## Gate',
      '',
      `**${decision.pass ? 'PASS' : 'REJECTED'}**: primary metric \`${p.metric}\`, gain ${signed(p.gain)} (${pct} interval ${signed(p.gainLow)} … ${signed(p.gainHigh)}, n = ${p.n}); ` +
        `needs the lower end above ${signed(decision.options.minLowerBound)} and no regression.`,
      ...decision.reasons.map((r) => `- ${r}`),
      '',
    )
  }
  lines.push('## Overall', '', ...metricTable(c.overall, pct), '', '## By category', '')
  for (const cat of c.categories) lines.push(`### ${cat.category} (${cat.pairs} pairs)`, '', ...metricTable(cat.metrics, pct), '')
  lines.push('## Regressions', '')
  if (c.regressions.length === 0) lines.push('None: no metric got significantly worse by more than the tolerance, overall or in any category.')
  for (const r of c.regressions) {
    lines.push(`- ${r.category === '*' ? 'overall' : `\`${r.category}\``}: \`${r.metric}\` Δ ${signed(r.diff)} (${signed(r.low)} … ${signed(r.high)}${r.pValue !== null ? `, McNemar p = ${r.pValue.toPrecision(2)}` : ''})`)
  }
  if (c.warnings.length) lines.push('', '## Warnings', '', ...c.warnings.map((w) => `- ${w}`))
  return lines.join('\n') + '\n'
}

function metricTable(metrics: MetricComparison[], pct: string): string[] {
  const rows = metrics.map((m) => {
    const verdict = m.regression ? '**regression**' : m.verdict === 'better' ? 'better' : m.verdict === 'worse' ? 'worse' : '—'
    const p = m.mcnemar ? `${m.mcnemar.pValue.toPrecision(2)} (${m.mcnemar.aOnly}/${m.mcnemar.bOnly})` : ''
    return `| ${m.metric}${m.higherIsBetter ? '' : ' ↓'} | ${num(m.a, m.metric)} | ${num(m.b, m.metric)} | ${signed(m.diff.mean, m.metric)} | ${signed(m.diff.low, m.metric)} … ${signed(m.diff.high, m.metric)} | ${p} | ${m.n} | ${verdict} |`
  })
  return [`| metric | A | B | Δ | ${pct} interval | McNemar p (A-only/B-only) | n | verdict |`, '|---|---|---|---|---|---|---|---|', ...rows]
}

function num(x: number, metric = ''): string {
  return metric === 'latency_ms' ? x.toFixed(0) : x.toFixed(3)
}

function signed(x: number, metric = ''): string {
  return (x > 0 ? '+' : x < 0 ? '−' : '±') + num(Math.abs(x), metric)
}
