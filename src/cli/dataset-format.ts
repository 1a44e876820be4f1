import type { BuildDatasetResult } from '../dataset/build-dataset.js'

const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`)

/**
 * The build summary a person reads before training: what went in, how RAFT assembled it, the leakage
 * proof, EVERY example left out for length, coverage gaps, and where the files are.
 */
export function formatBuild(r: BuildDatasetResult, files: string[], dryRun: boolean): string {
  const { report: rep, version: v } = r
  const o = rep.raft.oracle
  const lines = [
    dryRun ? 'dry run: nothing stored or written' : r.existing ? `identical to stored dataset ${v.id} (same hash): nothing new stored` : `dataset ${v.id}${v.name ? ` (${v.name})` : ''} stored`,
    `hash ${v.hash}`,
    `examples: ${rep.items.kept.train} train, ${rep.items.kept.eval} eval (from ${rep.items.collected} labeled questions; ${rep.items.duplicates} duplicates removed)`,
  ]
  const unusable = Object.entries(rep.items.unusable)
  if (unusable.length) lines.push(`not usable: ${unusable.map(([why, n]) => `${n} ${why}`).join(', ')}`)
  lines.push(
    `RAFT (p ${rep.raft.p}, seed ${rep.raft.seed}, k ${rep.raft.k}${rep.raft.quote ? ', quote-then-answer' : ''}): gold retrieved ${o.retrieved}, inserted ${o.inserted}, withheld ${o.withheld}, missing ${o.missing}, unknown ${o.unknown}`,
    `gold in inference's top ${rep.raft.k}: ${rep.raft.goldAtK.retrieved}/${rep.raft.goldAtK.known} labeled questions (${pct(rep.raft.goldAtK.rate)})`,
    `split by document: ${rep.split.groups.train} train / ${rep.split.groups.eval} eval groups · leakage ${rep.split.leakage}`,
    `length: longest ${rep.length.maxTokens} of max ${rep.length.maxLength} tokens · tokenizer ${rep.length.tokenizer}${rep.length.exact ? '' : ' (approximate)'}`,
  )
  if (rep.length.tooLong.length) {
    lines.push(`left out, longer than ${rep.length.maxLength} tokens (${rep.length.tooLong.length}):`)
    for (const t of rep.length.tooLong) lines.push(`  ${t.id} (${t.split}): ${t.tokens} tokens`)
  }
  const cats = Object.entries(rep.coverage.perCategory)
  lines.push(`coverage (train examples per category): ${cats.length ? cats.map(([c, n]) => `${c} ${n}`).join(', ') : 'none tagged'}`)
  for (const w of rep.warnings) lines.push(`warning: ${w}`)
  if (files.length) lines.push('files:', ...files.map((f) => `  ${f}`))
  return lines.join('\n')
}
