import { parseCitations } from '../../answer/prompt.js'
import { finding, type Finding } from '../finding.js'
import { sentences, stripCitations } from '../text-features.js'

/**
 * Ways an answer declines: "I don't know", "the sources do not contain…", "I cannot answer…". The
 * prompt asks for exactly this when the sources lack the answer, so a refusal is right or wrong only
 * relative to what was in context (see detectRetrieval).
 */
const REFUSAL_PATTERNS: RegExp[] = [
  /\bi (?:do not|don['’]t) know\b/i,
  /\b(?:i am|i['’]m) (?:not sure|unsure|unable to (?:answer|find|help|determine))\b/i,
  /\bi (?:cannot|can['’]t|could not|couldn['’]t) (?:answer|find|help|determine|say|tell|provide)\b/i,
  /\b(?:the )?(?:provided |given |numbered )?(?:sources?|context|documents?|passages?) (?:do|does|did) not (?:contain|mention|say|provide|include|specify|state|cover|address|answer|give)\b/i,
  /\b(?:the )?(?:provided |given )?(?:sources?|context|documents?|passages?) (?:don['’]t|doesn['’]t) (?:contain|mention|say|provide|include|specify|state|cover|address|answer|give)\b/i,
  /\bnot (?:mentioned|found|covered|specified|stated|provided|addressed|available) in the (?:provided |given )?(?:sources?|context|documents?|passages?)\b/i,
  /\b(?:there is|there['’]s|i (?:have|found)) no (?:information|mention|data|details?)\b/i,
  /\bno (?:information|answer) (?:about|on|regarding|is available|was found)\b/i,
  /\bunable to (?:answer|find|determine)\b/i,
]

/**
 * Whether the answer refuses or says it does not know. The pattern must sit in the first sentence,
 * or the answer must be short (under 40 words) so that the refusal is its point. "The sources do not
 * say X, but Y [1]" is an answer, not a refusal: a cited answer that turns with but/however is kept.
 */
export function isRefusal(answer: string): boolean {
  const text = stripCitations(answer).trim()
  if (text === '') return false
  const first = sentences(text)[0] ?? text
  const short = text.split(/\s+/).length < 40
  const refuses = REFUSAL_PATTERNS.some((re) => re.test(first)) || (short && REFUSAL_PATTERNS.some((re) => re.test(text)))
  if (!refuses) return false
  return !(parseCitations(answer).length > 0 && /\b(?:but|however|although|though|instead)\b/i.test(text))
}

/**
 * A refusal we cannot judge yet: without gold evidence nobody knows whether the sources held the
 * answer, so it is a warning (the refusal rate is worth watching on its own). With gold evidence
 * detectRetrieval decides instead.
 */
export function detectRefusal(answer: string, opts: { goldKnown: boolean }): Finding[] {
  if (opts.goldKnown || !isRefusal(answer)) return []
  return [finding('refusal', 'refusal', 'refused', 'the answer declines or says it does not know; check whether the sources held the answer', { severity: 'warning' })]
}
