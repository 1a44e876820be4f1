import { describe, expect, it } from 'vitest'
import { categoriesOf, contextTexts, detectAll } from './detect-all.js'
import type { AnalyzableExample } from './finding.js'
import { analyzeRules } from './rules.js'

const sources = [
  { n: 1, text: 'Rotate the master keys every 90 days with skyctl keys rotate.', path: 'keys.md', chunkId: 'k1' },
  { n: 2, text: 'The heartbeat uses port 7500 over UDP on the back-end network.', path: 'ports.md', chunkId: 'p1' },
]
const ex = (answer: string, over: Partial<AnalyzableExample> = {}): AnalyzableExample => ({ question: 'Which port does the heartbeat use?', answer, sources, ...over })

describe('detectAll', () => {
  it('finds nothing wrong with a grounded, cited, plain answer', () => {
    expect(detectAll(ex('The heartbeat uses port 7500 over UDP [2].'))).toEqual([])
  })

  it('collects the findings of every detector', () => {
    const f = detectAll(ex('I think it is probably port 9000 [3]!!! Great question!'), analyzeRules({ tone: { forbiddenPhrases: ['great question'] } }))
    expect(categoriesOf(f)).toEqual(['hedging', 'tone', 'citation', 'ungrounded'])
  })

  it('judges refusals by the gold: a miss when the gold was absent, a refusal when it was there', () => {
    expect(detectAll(ex("I don't know.", { gold: { chunkIds: ['p1'] } })).map((f) => f.rule)).toEqual(['refused-with-gold-in-context'])
    expect(detectAll(ex("I don't know.", { gold: { documents: ['faq.md'] } })).map((f) => f.rule)).toEqual(['gold-not-retrieved'])
    expect(detectAll(ex("I don't know.")).map((f) => f.rule)).toEqual(['refused'])
  })

  it('checks the request schema, and skips text checks when the context is unknown', () => {
    const schema = { type: 'object', required: ['port'] }
    expect(detectAll(ex('{"port": 7500}', { jsonSchema: schema }))).toEqual([])
    expect(detectAll(ex('{"host": "a"}', { jsonSchema: schema })).map((f) => f.rule)).toEqual(['schema-violation'])
    expect(detectAll(ex('Port 9000.', { sources: null }))).toEqual([])
    expect(contextTexts({ sources: [{ n: 1, text: null }] })).toBeNull()
    expect(contextTexts({ sources: [] })).toEqual([])
  })
})
