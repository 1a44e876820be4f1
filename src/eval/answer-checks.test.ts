import { describe, expect, it } from 'vitest'
import { analyzeRules } from '../analyze/rules.js'
import { analysisAnswerChecks, type AnswerCheckInput } from './answer-checks.js'

const sources = [
  { n: 1, text: 'The heartbeat uses port 7500 over UDP on the back-end network.', path: 'ports.md', chunkId: 'p#0' },
  { n: 2, text: 'Rotate the master keys every 90 days with skyctl keys rotate.', path: 'keys.md', chunkId: 'k#0' },
]
const input = (answer: string, over: Partial<AnswerCheckInput> = {}): AnswerCheckInput => ({ id: 'x', question: 'Which port does the heartbeat use?', answer, sources, finishReason: 'stop', ...over })

describe('analysis detectors as eval checks', () => {
  const checks = analysisAnswerChecks()

  it('finds nothing wrong in a grounded, cited answer', async () => {
    const r = await checks.check(input('The heartbeat uses port 7500 over UDP [1].'))
    expect(r.categories).toEqual([])
    expect(r.groundedness).toBeGreaterThan(0.8)
  })

  it('flags invented numbers as ungrounded, truncation as format, refusals as refusals', async () => {
    const invented = await checks.check(input('The heartbeat uses port 9999 over TCP [1].'))
    expect(invented.categories).toContain('ungrounded')
    expect(invented.groundedness).toBeLessThan(1)
    expect((await checks.check(input('The heartbeat uses port 7500 [1].', { finishReason: 'length' }))).categories).toContain('format')
    expect((await checks.check(input(''))).categories).toContain('format')
    const refusal = await checks.check(input('The sources do not contain the answer.'))
    expect(refusal).toMatchObject({ groundedness: null })
    expect(refusal.categories).toContain('refusal')
    expect(refusal.categories).not.toContain('ungrounded')
  })

  it('judges a JSON answer by its values and the team\'s schema, its source field as a citation', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' }, source: { type: 'integer' } }, required: ['answer', 'source'], additionalProperties: false }
    const json = analysisAnswerChecks(analyzeRules({ format: { jsonSchema: schema } }))
    const ok = await json.check(input('{"answer": "port 7500", "source": 1}'))
    expect(ok).toMatchObject({ categories: [], schemaValid: true })
    expect(ok.groundedness).toBe(1)
    const prose = await json.check(input('The heartbeat uses port 7500 over UDP [1].'))
    expect(prose.schemaValid).toBe(false)
    expect(prose.categories).toContain('schema')
    expect((await checks.check(input('Port 7500 [1].'))).schemaValid).toBeUndefined()
  })

  it('has no groundedness without sources', async () => {
    expect((await checks.check(input('Port 7500.', { sources: [] }))).groundedness).toBeNull()
  })
})
