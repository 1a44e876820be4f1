import { describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import type { EvalExampleResult, EvalRunRecord } from '../spec/eval-run.js'
import { compareRuns } from './compare.js'
import { gateDecision } from './gate.js'
import { comparisonMarkdown } from './report-markdown.js'
import { comparisonSvg } from './report-svg.js'

type Side = { run: EvalRunRecord; results: EvalExampleResult[] }

/** A run whose examples get metric values from `values(category, index)`. */
function run(id: string, adapter: string, groups: Record<string, number>, values: (category: string, i: number) => Record<string, number>, over: Partial<EvalRunRecord> = {}): Side {
  const results: EvalExampleResult[] = []
  for (const [category, count] of Object.entries(groups)) {
    for (let i = 0; i < count; i++) {
      results.push({ runId: id, exampleId: `${category}-${String(i).padStart(3, '0')}`, category, question: 'q', answer: 'a', metrics: values(category, i), detail: {} })
    }
  }
  return {
    run: { id, time: '2025-06-01T00:00:00.000Z', setName: 'heldout', setSha256: 'f'.repeat(64), adapter, adapterId: adapter === 'base' ? null : `${adapter}@abc`, model: 'm@1', settings: { topK: 4 }, summary: {}, examples: results.length, warnings: [], ...over },
    results,
  }
}

const GROUPS = { format: 40, tone: 40, schema: 30 }
/** A answers half of format and tone and all of schema right. */
const active = run('A', 'base', GROUPS, (c, i) => ({ label_accuracy: c === 'schema' || i % 2 === 0 ? 1 : 0 }))

describe('the promotion gate', () => {
  it('rejects a candidate that wins overall but significantly regresses one category', () => {
    // B fixes every format and tone answer (+40) but breaks 12 of 30 schema answers.
    const candidate = run('B', 'cand', GROUPS, (c, i) => ({ label_accuracy: c === 'schema' ? (i < 12 ? 0 : 1) : 1 }))
    const comparison = compareRuns(active, candidate)
    const overall = comparison.overall.find((m) => m.metric === 'label_accuracy')!
    expect(overall).toMatchObject({ n: 110, verdict: 'better', regression: false })
    expect(overall.diff.low).toBeGreaterThan(0)
    expect(overall.mcnemar).toMatchObject({ aOnly: 12, bOnly: 40 })
    const schema = comparison.categories.find((c) => c.category === 'schema')!.metrics[0]!
    expect(schema).toMatchObject({ verdict: 'worse', regression: true, a: 1, b: 0.6 })
    expect(schema.mcnemar).toMatchObject({ aOnly: 12, bOnly: 0, method: 'exact' })
    expect(schema.mcnemar!.pValue).toBeCloseTo(2 / 4096, 12)

    const decision = gateDecision(comparison)
    expect(decision.pass).toBe(false)
    expect(decision.primary.metric).toBe('label_accuracy')
    expect(decision.primary.gainLow).toBeGreaterThan(0)
    expect(decision.regressions).toEqual([expect.objectContaining({ category: 'schema', metric: 'label_accuracy' })])
    expect(decision.reasons).toHaveLength(1)
    expect(decision.reasons[0]).toMatch(/category "schema": label_accuracy regresses by 0\.400 \(beyond the tolerance 0\.05, McNemar p = 0\.00049\)/)
  })

  it('passes the same gains without the regression, and ignores a drop within the tolerance', () => {
    const clean = run('B', 'cand', GROUPS, () => ({ label_accuracy: 1 }))
    expect(gateDecision(compareRuns(active, clean)).pass).toBe(true)
    // One schema answer of 30 lost: not significant and under 5 points anyway.
    const slight = run('B', 'cand', GROUPS, (c, i) => ({ label_accuracy: c === 'schema' && i === 0 ? 0 : 1 }))
    const decision = gateDecision(compareRuns(active, slight))
    expect(decision).toMatchObject({ pass: true, reasons: [], regressions: [] })
  })

  it('rejects a tie: the lower end of the interval must be above the bound', () => {
    const same = run('B', 'cand', GROUPS, (c, i) => ({ label_accuracy: c === 'schema' || i % 2 === 0 ? 1 : 0 }))
    const decision = gateDecision(compareRuns(active, same))
    expect(decision.pass).toBe(false)
    expect(decision.primary).toMatchObject({ gain: 0, gainLow: 0, gainHigh: 0 })
    expect(decision.reasons[0]).toMatch(/lower end must be above \+0\.000/)
    // A stricter bound rejects a real but small win.
    const small = run('B', 'cand', GROUPS, (c, i) => ({ label_accuracy: c === 'schema' || i % 2 === 0 || (c === 'format' && i < 24) ? 1 : 0 }))
    expect(gateDecision(compareRuns(active, small)).pass).toBe(true)
    expect(gateDecision(compareRuns(active, small), { minLowerBound: 0.2 }).pass).toBe(false)
  })

  it('signs gains of lower-is-better metrics, and picks the named primary metric', () => {
    const a = run('A', 'base', { all: 60 }, (_c, i) => ({ hallucination: i % 3 === 0 ? 0 : 1, f1: 0.5 }))
    const b = run('B', 'cand', { all: 60 }, (_c, i) => ({ hallucination: i % 6 === 0 ? 1 : 0, f1: 0.5 }))
    const comparison = compareRuns(a, b)
    const decision = gateDecision(comparison, { primaryMetric: 'hallucination' })
    expect(decision.pass).toBe(true)
    expect(decision.primary.gain).toBeCloseTo(2 / 3 - 1 / 6, 12)
    expect(gateDecision(comparison).primary.metric).toBe('f1')
    expect(() => gateDecision(comparison, { primaryMetric: 'exact_match' })).toThrow(/needs examples with answer/)
  })

  it('refuses runs of different sets and reports unpaired examples and differing settings', () => {
    const other = run('B', 'cand', GROUPS, () => ({ label_accuracy: 1 }), { setSha256: 'e'.repeat(64) })
    const err = (() => { try { compareRuns(active, other) } catch (e) { return e } })()
    expect(err).toBeInstanceOf(RagtuneError)
    expect((err as RagtuneError).code).toBe('EVAL_SET_MISMATCH')
    const partial = run('B', 'cand', { format: 10 }, () => ({ label_accuracy: 1 }), { settings: { topK: 8 } })
    const comparison = compareRuns(active, partial)
    expect(comparison.pairs).toBe(10)
    expect(comparison.unpaired).toEqual({ onlyA: 100, onlyB: 0 })
    expect(comparison.warnings).toEqual([expect.stringMatching(/setting "topK" differs \(4 vs 8\)/)])
  })
})

describe('comparison reports', () => {
  const candidate = run('B', 'cand', { ...GROUPS, '<b>&': 5 }, (c, i) => ({ label_accuracy: c === 'schema' ? (i < 12 ? 0 : 1) : 1, latency_ms: 100 + i }))
  const base = run('A', 'base', { ...GROUPS, '<b>&': 5 }, (c, i) => ({ label_accuracy: c === 'schema' || i % 2 === 0 ? 1 : 0, latency_ms: 90 + i }))
  const comparison = compareRuns(base, candidate)

  it('markdown shows the gate, every metric with its interval and the regressions', () => {
    const md = comparisonMarkdown(comparison, gateDecision(comparison))
    expect(md).toMatch(/^# A\/B comparison: cand vs base/)
    expect(md).toMatch(/\*\*REJECTED\*\*/)
    expect(md).toMatch(/\| label_accuracy \| 0\.635 \| 0\.896 \| \+0\.261 \|/)
    expect(md).toMatch(/\| latency_ms ↓ \| 107 \| 117 \| \+10 \| \+10 … \+10 \| {2}\| 115 \| worse \|/)
    expect(md).toMatch(/### schema \(30 pairs\)[\s\S]*\*\*regression\*\*/)
    expect(md).toMatch(/## Regressions\n\n- `schema`: `label_accuracy` Δ −0\.400/)
  })

  it('the SVG chart has one row per category, escapes names and is deterministic', () => {
    const svg = comparisonSvg(comparison, 'label_accuracy')
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    expect(svg.match(/<circle /g)).toHaveLength(5)
    expect(svg).toContain('&lt;b&gt;&amp; (5)')
    expect(svg).not.toContain('<b>')
    expect(svg).toMatch(/1\.000 → 0\.600 {2}regression/)
    expect(comparisonSvg(comparison, 'label_accuracy')).toBe(svg)
  })
})
