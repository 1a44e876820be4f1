import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tinyLlama } from '../../../test/fixtures/tiny-llama.js'
import { RagtuneError } from '../../errors.js'
import { LlamaCppGenerator } from '../../models/llama/llama-cpp-generator.js'
import type { GenerateResult, Generator } from '../../spec/generator.js'
import { FAILURE_CATEGORIES, JUDGE_ERROR, type AnalyzableExample } from '../finding.js'
import { judgeExample, judgeMessages } from './judge.js'

const example: AnalyzableExample = {
  question: 'Which port does the heartbeat use?',
  answer: 'Port 9000 [1].',
  sources: [{ n: 1, text: 'The heartbeat uses port 7500 over UDP.' }],
}

/** A Generator that replies with fixed text (or throws): the judge's contract with any generator. */
function scripted(reply: string | Error, finishReason: GenerateResult['finishReason'] = 'stop'): Generator {
  return {
    id: 'scripted', adapter: null,
    async doGenerate(_messages, opts) {
      if (opts?.signal?.aborted) throw new RagtuneError('ABORTED', 'aborted')
      if (reply instanceof Error) throw reply
      return { text: reply, finishReason, usage: { promptTokens: 1, completionTokens: 1 }, timings: { firstTokenMs: 1, totalMs: 1 }, model: 'scripted', adapter: null, renderedPrompt: null, warnings: [] }
    },
    async dispose() {},
  }
}

describe('judgeExample', () => {
  it('turns a strict JSON verdict into findings; "not grounded" alone becomes ungrounded', async () => {
    const verdict = JSON.stringify({ grounded: false, problems: [{ category: 'citation', explanation: 'cites [1] for a number [1] does not hold' }] })
    expect(await judgeExample(scripted(verdict), example)).toEqual([
      expect.objectContaining({ category: 'citation', detector: 'judge', message: 'cites [1] for a number [1] does not hold' }),
      expect.objectContaining({ category: 'ungrounded', detector: 'judge' }),
    ])
    expect(await judgeExample(scripted('{"grounded": true, "problems": []}'), example)).toEqual([])
  })

  it('records every failure as one judge_error, never as a verdict', async () => {
    for (const g of [scripted('The answer looks fine.'), scripted('{"grounded": "yes", "problems": []}'), scripted('{"grounded": true, "prob', 'length'), scripted(new Error('connection refused'))]) {
      const f = await judgeExample(g, example)
      expect(f).toHaveLength(1)
      expect(f[0]).toMatchObject({ category: JUDGE_ERROR, rule: 'judge-error', severity: 'warning' })
      expect(f[0]).not.toHaveProperty('score')
    }
  })

  it('rethrows an abort instead of blaming the judge', async () => {
    const ctrl = new AbortController()
    ctrl.abort()
    await expect(judgeExample(scripted('{}'), example, { signal: ctrl.signal })).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('shows the judge the sources, the question and the answer', () => {
    const [system, user] = judgeMessages(example)
    expect(system!.content).toContain('JSON Schema')
    expect(user!.content).toMatch(/\[1\] The heartbeat uses port 7500[\s\S]*Question: Which port[\s\S]*Answer to grade:\nPort 9000 \[1\]\./)
  })
})

describe('judgeExample with a real local model (tiny Llama)', () => {
  let gen: LlamaCppGenerator
  beforeAll(async () => {
    gen = await LlamaCppGenerator.load({ modelPath: (await tinyLlama()).f32 })
  })
  afterAll(async () => {
    await gen?.dispose()
  })

  it('gives findings of known categories or a judge_error; a verdict cut short is a judge_error', async () => {
    const cut = await judgeExample(gen, example, { maxTokens: 4 })
    expect(cut).toEqual([expect.objectContaining({ category: JUDGE_ERROR, message: expect.stringMatching(/cut at 4 tokens/) })])
    const full = await judgeExample(gen, example, { maxTokens: 96 })
    for (const f of full) expect([...FAILURE_CATEGORIES, JUDGE_ERROR]).toContain(f.category)
  })
})
