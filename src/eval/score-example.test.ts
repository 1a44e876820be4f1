import { describe, expect, it } from 'vitest'
import type { EvalExample } from './eval-set.js'
import { scoreExample, summarizeMetrics } from './score-example.js'

const example = (over: Partial<EvalExample> = {}): EvalExample => ({ id: 'e', question: 'q', answers: [], label: null, goldDocIds: [], category: 'c', schema: null, ...over })
const sources = [
  { chunkId: 'a#0', path: 'a.md' },
  { chunkId: 'b#0', path: 'b.md' },
  { chunkId: 'a#1', path: 'a.md' },
  { chunkId: 'c#0', path: 'c.md' },
]
const clean = { categories: [], groundedness: 0.9 }

describe('per-example metrics', () => {
  it('scores only what the example supports', () => {
    const { metrics } = scoreExample({ example: example(), labels: [], answer: 'text', sources: [], k: 4, check: { categories: [], groundedness: null }, latencyMs: 12 })
    expect(metrics).toEqual({ format_ok: 1, refusal: 0, latency_ms: 12 })
  })

  it('retrieval metrics fold chunks to documents and accept chunk ids as gold', () => {
    const byDoc = scoreExample({ example: example({ goldDocIds: ['b.md', 'c.md'] }), labels: [], answer: '', sources, k: 4, check: clean, latencyMs: 1 }).metrics
    // Ranked documents: a, b, c; gold b (rank 2) and c (rank 3).
    expect(byDoc.recall).toBe(1)
    expect(byDoc.mrr).toBe(0.5)
    expect(byDoc.ndcg).toBeCloseTo((1 / Math.log2(3) + 1 / Math.log2(4)) / (1 + 1 / Math.log2(3)), 12)
    const byChunk = scoreExample({ example: example({ goldDocIds: ['a#1', 'z.md'] }), labels: [], answer: '', sources, k: 4, check: clean, latencyMs: 1 }).metrics
    // Ranked: a.md, b.md, a#1, c.md → gold a#1 at rank 3; z.md never found.
    expect(byChunk).toMatchObject({ recall: 0.5, mrr: 1 / 3 })
  })

  it('answer, label and schema metrics', () => {
    const m = scoreExample({
      example: example({ answers: ['port 7500', 'UDP 7500'], label: 'yes', schema: { type: 'object', required: ['label'] } }),
      labels: ['yes', 'no'], answer: 'Yes: port 7500 [1].', sources, k: 4, check: clean, latencyMs: 1,
    })
    expect(m.predictedLabel).toBe('yes')
    expect(m.metrics).toMatchObject({ exact_match: 0, label_accuracy: 1, schema_valid: 0 })
    // "yes port 7500 1" against "port 7500": P = 1/2, R = 1.
    expect(m.metrics.f1).toBeCloseTo(2 / 3, 12)
    const json = scoreExample({ example: example({ schema: { type: 'object', required: ['label'] } }), labels: [], answer: '{"label":"no"}', sources: [], k: 4, check: clean, latencyMs: 1 })
    expect(json.metrics.schema_valid).toBe(1)
  })

  it('citation accuracy: valid citations, gold ones when gold is known, 0 without any', () => {
    const score = (answer: string, goldDocIds: string[] = []) => scoreExample({ example: example({ goldDocIds }), labels: [], answer, sources, k: 4, check: clean, latencyMs: 1 }).metrics.citation_accuracy
    expect(score('See [1] and [2].')).toBe(1)
    expect(score('See [1] and [9].')).toBe(0.5)
    expect(score('No citation.')).toBe(0)
    expect(score('See [1, 2].', ['b.md'])).toBe(0.5)
  })

  it('maps check findings to format, hallucination and refusal; summaries average what exists', () => {
    const m = scoreExample({ example: example(), labels: [], answer: 'x', sources, k: 4, check: { categories: ['format', 'ungrounded', 'refusal'], groundedness: 0.2 }, latencyMs: 5 }).metrics
    expect(m).toMatchObject({ format_ok: 0, hallucination: 1, refusal: 1, groundedness: 0.2 })
    expect(summarizeMetrics([{ f1: 1, refusal: 0 }, { refusal: 1 }, { f1: 0.5, refusal: 1 }])).toEqual({ f1: 0.75, refusal: 2 / 3 })
  })
})
