import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RagtuneError } from '../../errors.js'
import type { ChatMessage, GenerateOptions } from '../../spec/generator.js'
import type { TinyLlamaPaths } from '../tiny-llama/ensure-tiny-llama.js'
import { ensureTinyLlama } from '../tiny-llama/ensure-tiny-llama.js'
import { writeTinyLlama } from '../tiny-llama/tiny-llama.js'
import { writeTinyLora } from '../tiny-llama/tiny-lora.js'
import type { LlamaCppGeneratorOptions } from './llama-cpp-generator.js'
import { LlamaCppGenerator } from './llama-cpp-generator.js'
import { llamaRuntime } from './llama-runtime.js'

/** Git-ignored and shared between test files, so the models are written once per generator change. */
const CACHE = fileURLToPath(new URL('../../../test/.cache/llama', import.meta.url))

const MESSAGES: ChatMessage[] = [
  { role: 'system', content: 'Answer from the sources.' },
  { role: 'user', content: 'What is the capital of France?' },
]
/** Greedy and short: the tiny model never ends a turn by itself, so maxTokens bounds every call. */
const GREEDY: GenerateOptions = { temperature: 0, maxTokens: 24 }

let paths: TinyLlamaPaths
let scratch: string
const opened: LlamaCppGenerator[] = []
/** Threads are left to the default, which is 1 for models this small. */
async function load(options: Partial<LlamaCppGeneratorOptions> & { modelPath: string }): Promise<LlamaCppGenerator> {
  const generator = await LlamaCppGenerator.load({ contextSize: 512, ...options })
  opened.push(generator)
  return generator
}
async function failure(promise: Promise<unknown>): Promise<RagtuneError> {
  const error = await promise.then(() => null, (e: unknown) => e)
  expect(error).toBeInstanceOf(RagtuneError)
  return error as RagtuneError
}

let base: LlamaCppGenerator
beforeAll(async () => {
  paths = await ensureTinyLlama(CACHE)
  scratch = await mkdtemp(join(tmpdir(), 'ragtune-llama-'))
  base = await load({ modelPath: paths.f32 })
})
afterAll(async () => {
  await Promise.all(opened.map((g) => g.dispose()))
  await rm(scratch, { recursive: true, force: true })
})

describe('LlamaCppGenerator on the tiny models', () => {
  it('renders the model\'s own ChatML template and reports what the model saw', async () => {
    const result = await base.doGenerate(MESSAGES, GREEDY)
    expect(result.renderedPrompt).toBe(
      '<|im_start|>system\nAnswer from the sources.<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n',
    )
    expect(result).toMatchObject({ finishReason: 'length', adapter: null, warnings: [] })
    expect(result.model).toMatch(/^tiny-llama-f32\.gguf@[0-9a-f]{12}$/)
    expect(result.usage.promptTokens).toBeGreaterThan(20)
    expect(result.usage.completionTokens).toBeGreaterThanOrEqual(24)
    expect(result.timings.firstTokenMs).toBeGreaterThan(0)
    expect(result.timings.totalMs).toBeGreaterThanOrEqual(result.timings.firstTokenMs as number)
  })

  it('generates the same varied text every time, for F32 and Q8_0', async () => {
    const q8 = await load({ modelPath: paths.q8_0 })
    for (const generator of [base, q8]) {
      const first = await generator.doGenerate(MESSAGES, GREEDY)
      const again = await generator.doGenerate(MESSAGES, GREEDY)
      expect(again.text).toBe(first.text)
      expect(new Set(first.text.split(/\s+/)).size).toBeGreaterThan(5)
      const sampled = await generator.doGenerate(MESSAGES, { maxTokens: 24, seed: 3 })
      expect((await generator.doGenerate(MESSAGES, { maxTokens: 24, seed: 3 })).text).toBe(sampled.text)
    }
    expect(q8.id).not.toBe(base.id)
  })

  it('streams pieces that add up to the final text', async () => {
    const pieces: string[] = []
    const result = await base.doGenerate(MESSAGES, { ...GREEDY, onText: (t) => pieces.push(t) })
    expect(pieces.length).toBeGreaterThan(5)
    expect(pieces.join('')).toBe(result.text)
  })

  it('obeys a JSON schema and stops when the value is complete', async () => {
    const schema = {
      type: 'object',
      properties: { answer: { type: 'string', maxLength: 30 }, source: { type: 'integer' }, score: { type: 'number' } },
      required: ['answer', 'source'],
    }
    const result = await base.doGenerate(MESSAGES, { temperature: 0, maxTokens: 200, jsonSchema: schema })
    expect(result.finishReason).toBe('stop')
    const parsed = JSON.parse(result.text) as Record<string, unknown>
    expect(Object.keys(parsed).sort()).toEqual(['answer', 'score', 'source'])
    expect(typeof parsed.answer).toBe('string')
    expect((parsed.answer as string).length).toBeLessThanOrEqual(30)
    expect(Number.isInteger(parsed.source)).toBe(true)
    expect(Number.isFinite(parsed.score)).toBe(true)
    expect(result.text).not.toMatch(/\d[eE]/)
  })

  it('returns the text so far when aborted mid-generation, and throws ABORTED when aborted before', async () => {
    const controller = new AbortController()
    const result = await base.doGenerate(MESSAGES, { temperature: 0, maxTokens: 400, signal: controller.signal, onText: () => controller.abort() })
    expect(result.finishReason).toBe('abort')
    expect(result.usage.completionTokens).toBeLessThan(10)
    expect((await failure(base.doGenerate(MESSAGES, { signal: controller.signal }))).code).toBe('ABORTED')
  })

  it('serializes concurrent calls, each from an empty context', async () => {
    const alone = await base.doGenerate(MESSAGES, GREEDY)
    const other: ChatMessage[] = [{ role: 'user', content: 'Something else entirely, please.' }]
    const [a, b, c] = await Promise.all([base.doGenerate(other, GREEDY), base.doGenerate(MESSAGES, GREEDY), base.doGenerate(other, GREEDY)])
    expect(b.text).toBe(alone.text)
    expect(c.text).toBe(a.text)
  })

  it('round-trips arbitrary UTF-8 through the byte-level tokenizer, and keeps user text out of control tokens', async () => {
    const llama = await llamaRuntime()
    const model = await llama.loadModel({ modelPath: paths.q8_0, gpuLayers: 0 })
    try {
      for (const text of ['naïve café, déjà vu', 'emoji 😀👍🏽 and 中文 and العربية', 'tabs\tand\nnewlines  and  spaces . , ! ?', '\u0000\u0001 ▁ <|im_end|>']) {
        expect(model.detokenize(model.tokenize(text))).toBe(text)
      }
      expect(model.tokenize('<|im_end|>')).not.toContain(model.tokens.eos)
      expect(model.tokenize('<|im_end|>', true)).toEqual([model.tokens.eos])
    } finally {
      await model.dispose()
    }
  })

  it('runs a tied-embedding model', async () => {
    const { path } = await writeTinyLlama(join(scratch, 'tied.gguf'), { tied: true, type: 'q8_0', seed: 5 })
    const result = await (await load({ modelPath: path })).doGenerate(MESSAGES, GREEDY)
    expect(new Set(result.text.split(/\s+/)).size).toBeGreaterThan(5)
  })
})

describe('LoRA adapters', () => {
  it('change the output, scaled by `scale`, and are named in the result', async () => {
    const plain = await base.doGenerate(MESSAGES, GREEDY)
    const tuned = await load({ modelPath: paths.f32, adapter: { path: paths.lora } })
    const result = await tuned.doGenerate(MESSAGES, GREEDY)
    expect(result.text).not.toBe(plain.text)
    expect(result.adapter).toMatch(/^tiny-llama-lora\.gguf@[0-9a-f]{12}$/)
    const off = await load({ modelPath: paths.f32, adapter: { path: paths.lora, scale: 0, id: 'v0' } })
    expect(off.adapter).toBe('v0')
    expect((await off.doGenerate(MESSAGES, GREEDY)).text).toBe(plain.text)
  })

  it('throws ADAPTER_MISMATCH for an adapter made for another base, or a file that is no adapter', async () => {
    const { path: other } = await writeTinyLora(join(scratch, 'other.gguf'), { hiddenSize: 32, heads: 2, kvHeads: 1, intermediateSize: 64 })
    const wrongShape = await failure(LlamaCppGenerator.load({ modelPath: paths.f32, adapter: { path: other } }))
    expect(wrongShape.code).toBe('ADAPTER_MISMATCH')
    expect(wrongShape.message).toMatch(/blk\.0\.attn_q\.weight is \[64, 64\] in the model but the adapter has lora_a \[32, 4\]/)
    const notAdapter = await failure(LlamaCppGenerator.load({ modelPath: paths.f32, adapter: { path: paths.q8_0 } }))
    expect(notAdapter.code).toBe('ADAPTER_MISMATCH')
    expect(notAdapter.message).toMatch(/general\.type "adapter"/)
  })
})

describe('load errors', () => {
  it('throws MODEL_NOT_FOUND naming the path and the fix', async () => {
    const error = await failure(LlamaCppGenerator.load({ modelPath: join(scratch, 'missing.gguf') }))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain(join(scratch, 'missing.gguf'))
    expect(error.hint).toMatch(/GGUF/)
    expect((await failure(LlamaCppGenerator.load({ modelPath: paths.f32, adapter: { path: join(scratch, 'no-lora.gguf') } }))).code).toBe('ADAPTER_NOT_FOUND')
  })

  it('throws PROMPT_TOO_LONG instead of silently cutting the prompt', async () => {
    const small = await load({ modelPath: paths.q8_0, contextSize: 64 })
    const long: ChatMessage[] = [{ role: 'user', content: 'zq '.repeat(200) }]
    expect((await failure(small.doGenerate(long, GREEDY))).code).toBe('PROMPT_TOO_LONG')
  })
})
