import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load-config.js'
import { DEFAULT_GENERATOR_MODEL } from '../config/schema.js'
import type { MetricComparison } from '../eval/compare.js'
import { shellLine } from './cli-runner.js'
import { demoConfig } from './demo-config.js'
import { beforeAfterTable, type CompareReport } from './demo-table.js'
import { demoFacts, jsonCorrection } from './fact-corpus.js'
import { parseAsk } from './run-demo.js'

describe('demo parts', () => {
  it('writes the same distinct facts on every run', () => {
    const facts = demoFacts(240)
    expect(facts).toEqual(demoFacts(240))
    expect(new Set(facts.map((f) => f.entity)).size).toBe(240)
    expect(jsonCorrection(facts[0]!, 3)).toBe(JSON.stringify({ answer: facts[0]!.value, source: 3 }))
  })

  it('configs are valid: tiny points at the pre-trained GGUF, default keeps the real models', () => {
    const tiny = parseConfig(demoConfig('tiny', 'models/x.gguf'))
    expect(tiny).toMatchObject({ generator: { model: 'models/x.gguf', temperature: 0 }, retrieval: { rerank: false }, models: { offline: true }, eval: { primaryMetric: 'schema_valid' } })
    expect(tiny.analyze.format.jsonSchema).toMatchObject({ required: ['answer', 'source'] })
    const real = parseConfig(demoConfig('default', ''))
    expect(real).toMatchObject({ generator: { model: DEFAULT_GENERATOR_MODEL }, retrieval: { rerank: true }, models: { offline: false, cacheDir: 'models' } })
  })

  it('reads the query id and numbered sources from `ragtune ask`', () => {
    const out = 'water [2]\n\nSources:\n   [1] facts/a.md\n  *[2] facts/b.md › Intro\n\nmodel m · 5 tokens · 0.1s\nquery 01ABC: rate it with `ragtune feedback 01ABC --good`\n'
    expect(parseAsk(out)).toEqual({ queryId: '01ABC', sources: new Map([['facts/a.md', 1], ['facts/b.md', 2]]) })
    expect(() => parseAsk('nothing')).toThrow(/query id/)
  })

  it('prints commands as a person would type them', () => {
    expect(shellLine(['ask', 'What is it?'])).toBe("ragtune ask 'What is it?'")
    expect(shellLine(['feedback', 'id', '--correction', `{"a":"it's"}`])).toBe(`ragtune feedback id --correction '{"a":"it'\\''s"}'`)
    expect(shellLine(['train', '--dataset', 'dataset:01X', '--lr', '5e-3'])).toBe('ragtune train --dataset dataset:01X --lr 5e-3')
  })

  it('puts the primary metric first in the before/after table', () => {
    const m = (metric: string, a: number, b: number, over: Partial<MetricComparison> = {}): MetricComparison => ({
      metric, kind: 'binary', higherIsBetter: true, n: 10, a, b, diff: { mean: b - a, low: b - a - 0.1, high: b - a + 0.1 } as MetricComparison['diff'],
      mcnemar: null, significant: true, verdict: b > a ? 'better' : 'worse', regression: false, ...over,
    })
    const report = {
      comparison: {
        a: { adapter: 'base' }, b: { adapter: 'v1' }, pairs: 10, options: { alpha: 0.05, resamples: 2000 },
        overall: [m('f1', 0, 0.5), m('schema_valid', 0.1, 0.9), m('latency_ms', 70, 50, { higherIsBetter: false, kind: 'continuous' })],
      },
      decision: { primary: { metric: 'schema_valid' } },
    } as unknown as CompareReport
    const lines = beforeAfterTable(report).split('\n')
    expect(lines[0]).toMatch(/^metric\s+before \(base\)\s+after \(v1\)\s+change \[95% CI\]\s+verdict$/)
    expect(lines[2]).toMatch(/^schema_valid \*\s+0\.100\s+0\.900\s+\+0\.800 \[\+0\.700, \+0\.900\]\s+better$/)
    expect(lines[4]).toMatch(/^latency_ms ↓\s+70 ms\s+50 ms\s+−20 \[−20, −20\]/)
  })
})
