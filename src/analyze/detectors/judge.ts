import { checkStructured } from '../../answer/structured.js'
import { RagtuneError } from '../../errors.js'
import type { ChatMessage, Generator } from '../../spec/generator.js'
import { FAILURE_CATEGORIES, finding, JUDGE_ERROR, type AnalyzableExample, type Finding } from '../finding.js'

/** The verdict the judge must return; strict so that anything else is a judge error, not a guess. */
export const JUDGE_SCHEMA = {
  type: 'object',
  properties: {
    grounded: { type: 'boolean' },
    problems: {
      type: 'array',
      maxItems: 8,
      items: {
        type: 'object',
        properties: { category: { type: 'string', enum: [...FAILURE_CATEGORIES] }, explanation: { type: 'string' } },
        required: ['category', 'explanation'],
        additionalProperties: false,
      },
    },
  },
  required: ['grounded', 'problems'],
  additionalProperties: false,
} as const

const INSTRUCTION = [
  'You grade one answer of a retrieval-augmented assistant. The assistant had to answer only from the numbered sources and cite them as [n].',
  `List each problem with a category from: ${FAILURE_CATEGORIES.join(', ')}.`,
  'Set grounded to false when any claim of the answer is not supported by the sources.',
  'Reply with JSON only, matching this JSON Schema:',
  JSON.stringify(JUDGE_SCHEMA),
].join('\n')

export interface JudgeOptions {
  /** Default 256: a verdict is short. */
  maxTokens?: number
  signal?: AbortSignal
}

/** The chat the judge receives; exported so a team can see (and test) what its judge is asked. */
export function judgeMessages(example: AnalyzableExample): ChatMessage[] {
  const sources = (example.sources ?? []).map((s) => `[${s.n}] ${s.text ?? '(text not kept)'}`).join('\n\n') || '(no sources)'
  return [
    { role: 'system', content: INSTRUCTION },
    { role: 'user', content: `Sources:\n${sources}\n\nQuestion: ${example.question}\n\nAnswer to grade:\n${example.answer}` },
  ]
}

/**
 * Asks any configured generator to grade an answer as strict JSON. Every way a judge can fail (the
 * call throws, the output is cut, not JSON, or breaks the schema) becomes ONE `judge_error` finding
 * with the reason: a failed judge must never count as a pass or turn into a score. An abort is
 * rethrown, since it says nothing about the answer.
 */
export async function judgeExample(generator: Generator, example: AnalyzableExample, opts: JudgeOptions = {}): Promise<Finding[]> {
  let text: string
  try {
    const res = await generator.doGenerate(judgeMessages(example), { temperature: 0, maxTokens: opts.maxTokens ?? 256, jsonSchema: { ...JUDGE_SCHEMA }, ...(opts.signal ? { signal: opts.signal } : {}) })
    if (res.finishReason === 'abort') throw new RagtuneError('ABORTED', 'the judge was aborted')
    if (res.finishReason === 'length') return [judgeError(`the verdict was cut at ${opts.maxTokens ?? 256} tokens`, res.text)]
    text = res.text
  } catch (err) {
    if (opts.signal?.aborted || (err instanceof RagtuneError && err.code === 'ABORTED')) throw err
    return [judgeError(`the judge ${generator.id} failed: ${(err as Error).message}`)]
  }
  const check = checkStructured(text, { ...JUDGE_SCHEMA })
  if (!check.ok) return [judgeError(`expected a JSON verdict matching the judge schema, got: ${check.errors.slice(0, 3).join('; ')}`, text)]
  const verdict = check.value as { grounded: boolean; problems: Array<{ category: string; explanation: string }> }
  const out = verdict.problems.map((p) => finding('judge', p.category, 'judge', p.explanation || `the judge flagged ${p.category}`))
  if (!verdict.grounded && !out.some((f) => f.category === 'ungrounded')) {
    out.push(finding('judge', 'ungrounded', 'judge', 'the judge found claims the sources do not support'))
  }
  return out
}

function judgeError(message: string, output?: string): Finding {
  return finding('judge', JUDGE_ERROR, 'judge-error', message, { severity: 'warning', ...(output !== undefined ? { evidence: [output.slice(0, 200)] } : {}) })
}
