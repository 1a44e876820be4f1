import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { RagtuneError } from '../../errors.js'
import { analyzeRules, type AnalyzeRulesInput } from '../rules.js'
import { detectFormat } from './format.js'
import { markdownStats } from './markdown.js'
import { SHARED_DATA_MISSING, sharedDataDir } from '../../../test/helpers/shared-data.js'

const rules = (format: AnalyzeRulesInput['format']) => analyzeRules({ format }).format
const rulesOf = (answer: string, format: AnalyzeRulesInput['format'], schema?: Record<string, unknown>) => detectFormat(answer, rules(format), schema).map((f) => f.rule)

describe('detectFormat', () => {
  it('finds nothing when no format rule is configured', () => {
    expect(detectFormat('Anything goes, **really**!', analyzeRules().format)).toEqual([])
  })

  it('checks JSON and JSON Schema (schema category), with the request schema winning', () => {
    const schema = { type: 'object', properties: { port: { type: 'integer' } }, required: ['port'] }
    expect(rulesOf('{"port": 7500}', { jsonSchema: schema })).toEqual([])
    expect(rulesOf('```json\n{"port": 7500}\n```', { jsonSchema: schema })).toEqual([])
    expect(rulesOf('{"port": "7500"}', { jsonSchema: schema })).toEqual(['schema-violation'])
    expect(rulesOf('The port is 7500.', { jsonSchema: schema })).toEqual(['json-invalid'])
    expect(rulesOf('{"port": 1}', {}, { type: 'object', required: ['host'] })).toEqual(['schema-violation'])
    expect(detectFormat('{"a": 1', rules({ json: true }))[0]).toMatchObject({ category: 'schema', rule: 'json-invalid' })
    expect(rulesOf('[1, 2]', { json: true })).toEqual([])
  })

  it('applies must / must-not regular expressions, "/re/flags" included', () => {
    expect(rulesOf('Answer: 42', { mustMatch: ['^Answer:'] })).toEqual([])
    expect(rulesOf('42', { mustMatch: ['^Answer:'] })).toEqual(['regex-missing'])
    expect(rulesOf('see http://x', { mustNotMatch: ['/HTTP:/i'] })).toEqual(['regex-forbidden'])
    expect(rulesOf('see docs', { mustNotMatch: ['/HTTP:/i'] })).toEqual([])
    expect(() => detectFormat('x', rules({ mustMatch: ['(unclosed'] }))).toThrow(RagtuneError)
  })

  it('checks length, case and commas', () => {
    expect(rulesOf('one two three', { minWords: 4 })).toEqual(['too-short'])
    expect(rulesOf('one two three', { maxWords: 2 })).toEqual(['too-long'])
    expect(rulesOf('one two three', { minWords: 3, maxWords: 3 })).toEqual([])
    expect(rulesOf('One. Two. Three.', { maxSentences: 2 })).toEqual(['too-many-sentences'])
    expect(rulesOf('all lower case', { case: 'lower' })).toEqual([])
    expect(rulesOf('Not lower', { case: 'lower' })).toEqual(['case-not-lower'])
    expect(rulesOf('ALL UPPER 42', { case: 'upper' })).toEqual([])
    expect(rulesOf('Mostly UPPER', { case: 'upper' })).toEqual(['case-not-upper'])
    expect(rulesOf('a, b', { noCommas: true })).toEqual(['comma'])
    expect(rulesOf('a and b', { noCommas: true })).toEqual([])
  })

  it('checks markdown: bullets, headings, code fences, tables, highlights', () => {
    const md = '# Title\n\n- one\n- two\n1. three\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```sh\n# not a heading\n```\n\n*first* and **second**'
    expect(markdownStats(md)).toEqual({ bullets: 3, headings: 1, codeFences: 1, tables: 1, highlights: 2 })
    expect(rulesOf(md, { markdown: { minBullets: 3, maxBullets: 3, minHighlights: 2 } })).toEqual([])
    expect(rulesOf(md, { markdown: { maxBullets: 2, headings: 'forbid', codeFences: 'forbid', tables: 'forbid', minHighlights: 3 } }))
      .toEqual(['too-many-bullets', 'heading-forbidden', 'code-fence-forbidden', 'table-forbidden', 'too-few-highlights'])
    expect(rulesOf('plain text', { markdown: { minBullets: 1, headings: 'require', codeFences: 'require' } })).toEqual(['too-few-bullets', 'heading-missing', 'code-fence-missing'])
  })
})

/**
 * IFEval (google-research, Apache-2.0; ../shared/data/ifeval): GPT-4's responses to prompts with
 * machine-checkable format instructions. Each supported instruction is mapped to ragtune's rules and
 * the detector's verdict compared with the reference verdict of IFEval's own check for that response
 * (computed once with the official rules and listed here: the keys whose response FAILS).
 */
const SHARED = sharedDataDir()

describe.skipIf(!SHARED)(`detectFormat on IFEval responses${SHARED ? '' : ` (skipped: ${SHARED_DATA_MISSING})`}`, () => {
  const data = `${SHARED}/ifeval/`
  type IfevalInput = { key: number; prompt: string; instruction_id_list: string[]; kwargs: Array<Record<string, number>> }
  const lines = (file: string): string[] => (SHARED ? readFileSync(`${data}${file}`, 'utf8').trim().split('\n') : [])
  const inputs = new Map(lines('input_data.jsonl').map((l) => JSON.parse(l) as IfevalInput).map((d) => [d.prompt, d]))
  const responses = lines('input_response_data_gpt4_20231107_145030.jsonl').map((l) => JSON.parse(l) as { prompt: string; response: string })
  const toRules: Record<string, (kw: Record<string, number>) => AnalyzeRulesInput['format']> = {
    'punctuation:no_comma': () => ({ noCommas: true }),
    'change_case:english_lowercase': () => ({ case: 'lower' }),
    'change_case:english_capital': () => ({ case: 'upper' }),
    'detectable_format:json_format': () => ({ json: true }),
    'detectable_format:number_highlighted_sections': (kw) => ({ markdown: { minHighlights: kw.num_highlights! } }),
  }
  const failing: Record<string, number[]> = {
    'change_case:english_capital': [1021, 1566, 1813],
    'change_case:english_lowercase': [1051],
    'detectable_format:json_format': [],
    'detectable_format:number_highlighted_sections': [2616, 2790, 2909],
  }
  const cases = responses.flatMap((r) => {
    const input = inputs.get(r.prompt)
    return input ? input.instruction_id_list.map((id, i) => ({ key: input.key, id, kwargs: input.kwargs[i]!, response: r.response })).filter((c) => toRules[c.id]) : []
  })

  it('agrees with IFEval on every case, for every supported instruction', () => {
    expect(cases.length).toBeGreaterThan(150)
    for (const c of cases) {
      const findings = detectFormat(c.response, rules(toRules[c.id]!(c.kwargs)))
      const expected = c.id === 'punctuation:no_comma' ? c.response.includes(',') : failing[c.id]!.includes(c.key)
      expect(findings.length > 0, `${c.id} key ${c.key}`).toBe(expected)
    }
    const fails = cases.filter((c) => detectFormat(c.response, rules(toRules[c.id]!(c.kwargs))).length > 0).length
    expect(fails).toBeGreaterThan(20)
  })
})
