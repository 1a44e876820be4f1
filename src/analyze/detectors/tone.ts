import { finding, type Finding } from '../finding.js'
import type { AnalyzeRules } from '../rules.js'
import { escapeRegExp } from './hedging.js'

const DETECTOR = 'tone'

/**
 * Tone rules from the config: forbidden phrases, exclamation marks, emoji, shouting and first-person
 * voice. Code blocks are left out, since `!=` or a shouted constant there is not tone.
 */
export function detectTone(answer: string, rules: AnalyzeRules['tone']): Finding[] {
  const text = answer.replace(/```[\s\S]*?```/g, ' ').replace(/`[^`\n]*`/g, ' ')
  const out: Finding[] = []
  const lower = text.toLowerCase()
  for (const phrase of rules.forbiddenPhrases) {
    const re = new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(phrase.toLowerCase())}(?![\\p{L}\\p{N}])`, 'u')
    if (re.test(lower)) out.push(finding(DETECTOR, 'tone', 'forbidden-phrase', `expected no "${phrase}", found it`, { evidence: [phrase] }))
  }
  const exclamations = (text.match(/!(?!=)/g) ?? []).length
  if (rules.maxExclamations !== null && exclamations > rules.maxExclamations) {
    out.push(finding(DETECTOR, 'tone', 'exclamations', `expected at most ${rules.maxExclamations} exclamation mark(s), got ${exclamations}`))
  }
  if (rules.emoji === 'forbid') {
    const emoji = text.match(/\p{Extended_Pictographic}/gu) ?? []
    if (emoji.length > 0) out.push(finding(DETECTOR, 'tone', 'emoji', `expected no emoji, got ${emoji.length}`, { evidence: emoji }))
  }
  if (rules.shoutingWords !== null) {
    const shout = new RegExp(`(?:\\b\\p{Lu}{2,}\\b[\\s,!]+){${rules.shoutingWords - 1}}\\b\\p{Lu}{2,}\\b`, 'u').exec(text)
    if (shout) out.push(finding(DETECTOR, 'tone', 'shouting', `expected no runs of ${rules.shoutingWords}+ all-caps words, found "${shout[0]}"`, { evidence: [shout[0]] }))
  }
  if (rules.firstPerson === 'forbid') {
    const first = text.match(/\b(?:I|me|my|mine|myself|I['’](?:m|ve|d|ll))\b/g) ?? []
    if (first.length > 0) out.push(finding(DETECTOR, 'tone', 'first-person', `expected no first person, found "${first[0]}"`, { evidence: [...new Set(first)] }))
  }
  return out
}
