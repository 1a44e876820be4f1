import { finding, type Finding } from '../finding.js'
import type { AnalyzeRules } from '../rules.js'

/** Phrases that weaken a claim the sources either support or do not. */
const HEDGES = [
  'i think', 'i believe', 'i guess', 'i suppose', 'it seems', 'it appears', 'seemingly', 'possibly', 'perhaps', 'maybe',
  'probably', 'presumably', 'might be', 'may be', 'could be', 'not entirely sure', 'not sure', 'to some extent',
  'arguably', 'generally speaking', 'in some cases', 'it is possible that', "it's possible that", 'likely',
]

/** Boilerplate a grounded answer never needs: the user asked about their documents, not for a caveat. */
const DISCLAIMERS: RegExp[] = [
  /\bas an ai(?: language model| assistant)?\b/i,
  /\bas a (?:large )?language model\b/i,
  /\bi(?: am|['’]m) not an? (?:doctor|lawyer|medical professional|financial advis[eo]r|professional|expert)\b/i,
  /\b(?:please )?consult (?:an?|your) (?:doctor|physician|lawyer|attorney|professional|expert|specialist|advis[eo]r)\b/i,
  /\bthis (?:is not|isn['’]t|does not constitute) (?:medical|legal|financial|professional) advice\b/i,
  /\bfor informational purposes only\b/i,
  /\bi (?:cannot|can['’]t) guarantee\b/i,
  /\bit(?: is|['’]s) important to (?:note|remember) that\b/i,
  /\bplease note that\b/i,
  /\bi hope this helps\b/i,
]

/** Every hedge phrase found (with repeats), lower-case; exported for metrics. */
export function findHedges(answer: string, extra: string[] = []): string[] {
  const text = answer.toLowerCase().replace(/[’]/g, "'")
  const out: string[] = []
  for (const phrase of [...HEDGES, ...extra.map((p) => p.toLowerCase())]) {
    const re = new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(phrase)}(?![\\p{L}\\p{N}])`, 'gu')
    for (const _ of text.matchAll(re)) out.push(phrase)
  }
  return out
}

/** Every needless disclaimer found, as written. */
export function findDisclaimers(answer: string): string[] {
  return DISCLAIMERS.flatMap((re) => re.exec(answer)?.[0] ?? [])
}

/**
 * Hedging beyond the allowed count, and needless disclaimers. One "may" is often an honest reading
 * of a cautious source, so only answers that hedge more than `maxHedges` times are flagged.
 */
export function detectHedging(answer: string, rules: AnalyzeRules['hedging']): Finding[] {
  if (!rules.enabled) return []
  const out: Finding[] = []
  const hedges = findHedges(answer, rules.phrases)
  if (hedges.length > rules.maxHedges) {
    out.push(finding('hedging', 'hedging', 'hedges', `expected at most ${rules.maxHedges} hedge(s), got ${hedges.length}: ${[...new Set(hedges)].join(', ')}`, { evidence: [...new Set(hedges)] }))
  }
  if (rules.disclaimers) {
    const found = findDisclaimers(answer)
    if (found.length > 0) out.push(finding('hedging', 'hedging', 'needless-disclaimer', `expected no disclaimers, found "${found[0]}"`, { evidence: found }))
  }
  return out
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
