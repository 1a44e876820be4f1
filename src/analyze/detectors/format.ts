import { checkStructured } from '../../answer/structured.js'
import { RagtuneError } from '../../errors.js'
import { finding, type Finding } from '../finding.js'
import type { AnalyzeRules } from '../rules.js'
import { sentences } from '../text-features.js'
import { detectMarkdown } from './markdown.js'

const DETECTOR = 'format'

/**
 * Format and schema compliance: JSON and JSON Schema (via the same Ajv check as structured answers),
 * regular expressions, length, letter case, commas and the markdown rules. Schema violations are
 * their own category (`schema`), since a grammar or a schema-trained adapter fixes them differently
 * from prose formatting. `schema` overrides the rules' schema (the one the request asked for).
 */
export function detectFormat(answer: string, rules: AnalyzeRules['format'], schema?: Record<string, unknown>): Finding[] {
  const out: Finding[] = []
  const jsonSchema = schema ?? rules.jsonSchema
  if (jsonSchema) {
    const check = checkStructured(answer, jsonSchema)
    if (!check.ok) {
      const notJson = check.errors.length === 1 && check.errors[0]!.startsWith('not JSON')
      out.push(finding(DETECTOR, 'schema', notJson ? 'json-invalid' : 'schema-violation',
        `expected JSON matching the schema, got ${notJson ? 'text that is not JSON' : 'JSON that breaks it'}: ${check.errors.slice(0, 3).join('; ')}`,
        { evidence: check.errors }))
    }
  } else if (rules.json && !isJson(answer)) {
    out.push(finding(DETECTOR, 'schema', 'json-invalid', 'expected a JSON answer, got text that does not parse as JSON'))
  }
  for (const source of rules.mustMatch) {
    if (!compileRule(source, 'mustMatch').test(answer)) out.push(finding(DETECTOR, 'format', 'regex-missing', `expected the answer to match ${source}, it does not`))
  }
  for (const source of rules.mustNotMatch) {
    const m = compileRule(source, 'mustNotMatch').exec(answer)
    if (m) out.push(finding(DETECTOR, 'format', 'regex-forbidden', `expected the answer not to match ${source}, found "${m[0]}"`, { evidence: [m[0]] }))
  }
  out.push(...lengthFindings(answer, rules))
  if (rules.case === 'lower' && /\p{Lu}/u.test(answer)) {
    out.push(finding(DETECTOR, 'format', 'case-not-lower', 'expected all lower-case letters, found capitals', { evidence: answer.match(/\S*\p{Lu}\S*/gu)?.slice(0, 5) ?? [] }))
  }
  if (rules.case === 'upper' && /\p{Ll}/u.test(answer)) {
    out.push(finding(DETECTOR, 'format', 'case-not-upper', 'expected all capital letters, found lower-case ones', { evidence: answer.match(/\S*\p{Ll}\S*/gu)?.slice(0, 5) ?? [] }))
  }
  if (rules.noCommas && answer.includes(',')) {
    out.push(finding(DETECTOR, 'format', 'comma', `expected no commas, found ${answer.split(',').length - 1}`))
  }
  out.push(...detectMarkdown(answer, rules.markdown))
  return out
}

function lengthFindings(answer: string, rules: AnalyzeRules['format']): Finding[] {
  const out: Finding[] = []
  const wordCount = answer.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length
  if (rules.minWords !== undefined && wordCount < rules.minWords) {
    out.push(finding(DETECTOR, 'format', 'too-short', `expected at least ${rules.minWords} words, got ${wordCount}`))
  }
  if (rules.maxWords !== undefined && wordCount > rules.maxWords) {
    out.push(finding(DETECTOR, 'format', 'too-long', `expected at most ${rules.maxWords} words, got ${wordCount}`))
  }
  const sentenceCount = sentences(answer).length
  if (rules.maxSentences !== undefined && sentenceCount > rules.maxSentences) {
    out.push(finding(DETECTOR, 'format', 'too-many-sentences', `expected at most ${rules.maxSentences} sentences, got ${sentenceCount}`))
  }
  return out
}

function isJson(text: string): boolean {
  const body = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/i.exec(text)?.[1] ?? text
  try {
    JSON.parse(body)
    return true
  } catch {
    return false
  }
}

const compiled = new Map<string, RegExp>()

/**
 * "/pattern/flags" or a bare pattern; a bad pattern is a config error that names the rule, not a
 * crash in the middle of an analysis. The global and sticky flags are dropped: test() must not
 * carry state from one answer to the next.
 */
export function compileRule(source: string, field: string): RegExp {
  let re = compiled.get(source)
  if (re) return re
  const m = /^\/(.*)\/([a-z]*)$/s.exec(source)
  try {
    re = m ? new RegExp(m[1]!, m[2]!.replace(/[gy]/g, '')) : new RegExp(source)
  } catch (err) {
    throw new RagtuneError('CONFIG_INVALID', `analyze.format.${field}: expected a regular expression, got ${JSON.stringify(source)} (${(err as Error).message})`, {
      details: { field, source },
      hint: 'write a JavaScript regular expression, e.g. "^Answer:" or "/^answer:/i"',
    })
  }
  compiled.set(source, re)
  return re
}
