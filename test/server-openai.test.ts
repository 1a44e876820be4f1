import { rm } from 'node:fs/promises'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RagtuneError } from '../src/errors.js'
import { OpenAIGenerator } from '../src/models/openai/openai-generator.js'
import { ragtune } from './helpers/cli.js'
import { createKey, indexedWorkspace, ragtuneOk, startServe, tinyConfig, type ServeProcess } from './helpers/serve.js'

// The official SDK and ragtune's own OpenAI generator, unchanged, against a real `ragtune serve`
// whose generator runs the tiny Llama with its LoRA adapter (so /v1/models lists two ids).
let cwd: string
let server: ServeProcess
let key: string
let revoked: string
let client: OpenAI

interface Extra {
  sources?: Array<{ n: number; path: string }>
  ragtune?: { queryId: string; citations: number[]; warnings: string[] }
}

beforeAll(async () => {
  cwd = await indexedWorkspace(
    {
      'ports.md': '# Ports\n\nThe heartbeat uses port 7500 over UDP on the back-end network.',
      'keys.md': '# Keys\n\nRotate the master keys every 90 days with skyctl keys rotate.',
    },
    tinyConfig({ generator: { adapter: 'tiny' } }),
  )
  key = await createKey(cwd, 'sdk', 'query')
  revoked = await createKey(cwd, 'old', 'query')
  expect(await ragtuneOk(cwd, 'keys', 'revoke', 'old')).toMatch(/revoked API key "old"/)
  server = await startServe(cwd)
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 })
})

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGTERM')
    await server.exited
  }
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

describe('OpenAI clients against ragtune serve', () => {
  it('lists the base model and the active adapter', async () => {
    const ids: string[] = []
    for await (const m of client.models.list()) ids.push(m.id)
    expect(ids).toHaveLength(2)
    expect(ids[0]).toMatch(/^tiny-llama-q8_0\.gguf@/)
    expect(ids[1]).toMatch(/^tiny-llama-lora\.gguf@/)
  })

  it('chat.completions.create answers from the sources, with usage and ragtune fields', async () => {
    const res = await client.chat.completions.create({
      model: 'anything',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What is a port?' },
        { role: 'assistant', content: 'A number.' },
        { role: 'user', content: 'Which port does the heartbeat use?' },
      ],
      max_tokens: 12,
      temperature: 0,
    })
    expect(res.object).toBe('chat.completion')
    expect(res.model).toMatch(/^tiny-llama-lora\.gguf@/)
    expect(res.choices[0]!.message).toMatchObject({ role: 'assistant', content: expect.any(String) })
    expect(res.choices[0]!.finish_reason).toBe('length')
    // A token cut inside a UTF-8 character is counted with the next one: maxTokens + 1 can happen.
    expect(res.usage!.completion_tokens).toBeGreaterThanOrEqual(12)
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens)
    const extra = res as unknown as Extra
    expect(extra.sources!.map((x) => [x.n, x.path])).toContainEqual([1, expect.stringMatching(/\.md$/)])
    expect(extra.sources!.map((x) => x.path)).toContain('ports.md')
    expect(res.id).toBe(`chatcmpl-${extra.ragtune!.queryId}`)
    expect(extra.ragtune!.warnings.join('\n')).toMatch(/3 other message\(s\) were ignored/)
  })

  it('streams chunks with sources first, a finish reason and a usage chunk, then [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'anything',
      messages: [{ role: 'user', content: 'How often are keys rotated?' }],
      max_completion_tokens: 10,
      stream: true,
      stream_options: { include_usage: true },
    })
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = []
    for await (const c of stream) chunks.push(c)
    expect((chunks[0] as unknown as Extra).sources!.map((x) => x.path)).toContain('keys.md')
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant')
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')
    expect(text.length).toBeGreaterThan(0)
    const finished = chunks.find((c) => c.choices[0]?.finish_reason)!
    expect(finished.choices[0]!.finish_reason).toBe('length')
    expect((finished as unknown as Extra).ragtune!.queryId).toMatch(/^[0-9A-Z]{26}$/)
    expect(chunks.at(-1)!.choices).toEqual([])
    expect(chunks.at(-1)!.usage!.completion_tokens).toBeGreaterThanOrEqual(10)
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1)
  })

  it('honours response_format json_schema', async () => {
    const schema = { type: 'object', properties: { port: { enum: [7500, 90] } }, required: ['port'], additionalProperties: false }
    const res = await client.chat.completions.create({
      model: 'anything',
      messages: [{ role: 'user', content: 'Which port?' }],
      max_tokens: 60,
      response_format: { type: 'json_schema', json_schema: { name: 'port', schema } },
    })
    expect([{ port: 7500 }, { port: 90 }]).toContainEqual(JSON.parse(res.choices[0]!.message.content!))
  })

  it('maps errors to the SDK error classes', async () => {
    const bad = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: revoked, maxRetries: 0 })
    await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError)
    const err = await client.chat.completions.create({ model: 'm', messages: [], max_tokens: 5 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages')
  })

  it('OpenAIGenerator gets text, usage and a first-token time from it', async () => {
    const gen = new OpenAIGenerator({ baseURL: `${server.url}/v1`, apiKey: key, model: 'ragtune', maxRetries: 0 })
    const r = await gen.doGenerate([{ role: 'user', content: 'Which port does the heartbeat use?' }], { maxTokens: 8 })
    expect(r.text.length).toBeGreaterThan(0)
    expect(r.usage.promptTokens).toBeGreaterThan(0)
    expect(r.usage.completionTokens).toBeGreaterThanOrEqual(8)
    expect(r.finishReason).toBe('length')
    expect(r.timings.firstTokenMs).toBeGreaterThan(0)
    expect(r.warnings).toEqual([])
  })

  it('OpenAIGenerator reports a refused key and an unreachable server by code', async () => {
    const codeOf = async (g: OpenAIGenerator): Promise<string> => {
      const e = await g.doGenerate([{ role: 'user', content: 'hi' }], { maxTokens: 4 }).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(RagtuneError)
      return (e as RagtuneError).code
    }
    expect(await codeOf(new OpenAIGenerator({ baseURL: `${server.url}/v1`, apiKey: 'rt_wrong', model: 'm', maxRetries: 0 }))).toBe('GENERATOR_AUTH')
    expect(await codeOf(new OpenAIGenerator({ baseURL: 'http://127.0.0.1:9/v1', apiKey: key, model: 'm', maxRetries: 0 }))).toBe('GENERATOR_UNREACHABLE')
  })

  it('refuses --no-auth on a non-loopback host before opening anything', async () => {
    const run = await ragtune(cwd, 'serve', '--no-auth', '--host', '0.0.0.0', '--port', '0')
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/--no-auth is only allowed on a loopback host/)
  })

  it('lists keys without revealing them', async () => {
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    const list = JSON.parse(await ragtuneOk(cwd, 'keys', 'list', '--json')) as Array<Record<string, unknown>>
    expect(list.map((k) => [k.name, k.scope, k.revokedAt === null])).toEqual([['sdk', 'query', true], ['old', 'query', false]])
    expect(JSON.stringify(list)).not.toContain(key.slice(3))
    expect(Object.keys(list[0]!).sort()).toEqual(['createdAt', 'name', 'revokedAt', 'scope'])
  })
})
