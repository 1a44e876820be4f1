import { finding, type Finding } from '../finding.js'
import type { AnalyzeRules } from '../rules.js'

const DETECTOR = 'format'

/** Lines of the answer outside fenced code blocks (a `#` inside code is not a heading). */
function proseLines(answer: string): string[] {
  const out: string[] = []
  let inFence = false
  for (const line of answer.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence
      continue
    }
    if (!inFence) out.push(line)
  }
  return out
}

/** Counts the markdown structures the rules talk about; exported for reports and metrics. */
export function markdownStats(answer: string): { bullets: number; headings: number; codeFences: number; tables: number; highlights: number } {
  const lines = proseLines(answer)
  const fences = answer.split('\n').filter((l) => /^\s*(```|~~~)/.test(l)).length
  return {
    bullets: lines.filter((l) => /^\s*(?:[-*+]|\d+[.)])\s+\S/.test(l)).length,
    headings: lines.filter((l) => /^\s{0,3}#{1,6}\s+\S/.test(l)).length,
    codeFences: Math.floor(fences / 2),
    tables: lines.filter((l) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$/.test(l)).length,
    // IFEval's highlighted sections: *text* or **text** spans on one line.
    highlights: lines.join('\n').match(/\*{1,2}[^\n*]+\*{1,2}/g)?.length ?? 0,
  }
}

/**
 * Markdown rules from the config: how many list items, whether headings, code fences and tables
 * are allowed or required, and IFEval's highlighted sections.
 */
export function detectMarkdown(answer: string, rules: AnalyzeRules['format']['markdown']): Finding[] {
  const s = markdownStats(answer)
  const out: Finding[] = []
  if (rules.minBullets !== undefined && s.bullets < rules.minBullets) {
    out.push(finding(DETECTOR, 'format', 'too-few-bullets', `expected at least ${rules.minBullets} list items, got ${s.bullets}`))
  }
  if (rules.maxBullets !== undefined && s.bullets > rules.maxBullets) {
    out.push(finding(DETECTOR, 'format', 'too-many-bullets', `expected at most ${rules.maxBullets} list items, got ${s.bullets}`))
  }
  if (rules.headings === 'forbid' && s.headings > 0) out.push(finding(DETECTOR, 'format', 'heading-forbidden', `expected no markdown headings, got ${s.headings}`))
  if (rules.headings === 'require' && s.headings === 0) out.push(finding(DETECTOR, 'format', 'heading-missing', 'expected at least one markdown heading, got none'))
  if (rules.codeFences === 'forbid' && s.codeFences > 0) out.push(finding(DETECTOR, 'format', 'code-fence-forbidden', `expected no code blocks, got ${s.codeFences}`))
  if (rules.codeFences === 'require' && s.codeFences === 0) out.push(finding(DETECTOR, 'format', 'code-fence-missing', 'expected a fenced code block, got none'))
  if (rules.tables === 'forbid' && s.tables > 0) out.push(finding(DETECTOR, 'format', 'table-forbidden', `expected no tables, got ${s.tables}`))
  if (rules.minHighlights !== undefined && s.highlights < rules.minHighlights) {
    out.push(finding(DETECTOR, 'format', 'too-few-highlights', `expected at least ${rules.minHighlights} *highlighted* sections, got ${s.highlights}`))
  }
  return out
}
