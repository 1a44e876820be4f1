import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { LlamaCppGenerator } from '../../src/models/llama/llama-cpp-generator.js'
import type { EmbeddingModel } from '../../src/spec/embedding-model.js'
import type { ChatMessage, Generator } from '../../src/spec/generator.js'

/**
 * A small but real OpenAI-compatible server, the kind ragtune meets in production (TEI, vLLM):
 * `/v1/embeddings` runs a real embedding model (the generated tiny encoder), `/v1/chat/completions`
 * streams what a real GGUF model generates (the tiny Llama), and `/v1/load_lora_adapter` loads a
 * GGUF LoRA from the folder it is given and serves it under its name, as vLLM's runtime LoRA
 * loading does. Faults can be injected to test retries; every request is recorded.
 */
export interface CompatServer {
  /** Base URL ending in /v1, as clients are configured. */
  baseURL: string
  requests: Array<{ path: string; body: Record<string, unknown>; auth: string | null }>
  /** Adapters loaded through /v1/load_lora_adapter: name → folder. */
  loaded: Map<string, string>
  /** The next `count` requests fail with `status` (and Retry-After seconds when given). */
  failNext(count: number, status: number, retryAfter?: number): void
  close(): Promise<void>
}

export interface CompatServerOptions {
  embedder?: EmbeddingModel
  /** Base GGUF of the chat model, served under `chatModel`. */
  chatModelPath?: string
  chatModel?: string
  /** Required bearer key; none by default. */
  apiKey?: string
}

export async function startCompatServer(opts: CompatServerOptions): Promise<CompatServer> {
  const requests: CompatServer['requests'] = []
  const loaded = new Map<string, string>()
  const generators = new Map<string, Generator>()
  let faults: { count: number; status: number; retryAfter?: number } = { count: 0, status: 0 }

  const generatorFor = async (model: string): Promise<Generator | null> => {
    if (generators.has(model)) return generators.get(model)!
    if (!opts.chatModelPath) return null
    const folder = loaded.get(model)
    if (model !== opts.chatModel && folder === undefined) return null
    const g = await LlamaCppGenerator.load({ modelPath: opts.chatModelPath, adapter: folder ? { path: join(folder, 'adapter.gguf'), id: model } : null, threads: 1 })
    generators.set(model, g)
    return g
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await new Promise<string>((resolve) => {
      let s = ''
      req.on('data', (d: Buffer) => (s += d.toString()))
      req.on('end', () => resolve(s))
    })
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {}
    const path = (req.url ?? '').split('?')[0]!
    requests.push({ path, body, auth: req.headers.authorization ?? null })
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload))
    }
    if (faults.count > 0) {
      faults.count--
      return send(faults.status, { error: { message: 'injected fault' } }, faults.retryAfter !== undefined ? { 'retry-after': String(faults.retryAfter) } : {})
    }
    if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) return send(401, { error: { message: 'bad key' } })
    if (path === '/v1/embeddings' && opts.embedder) {
      const input = typeof body.input === 'string' ? [body.input] : (body.input as string[])
      const vectors = await opts.embedder.doEmbed(input, { kind: 'document' })
      // Answered out of order on purpose: clients must place vectors by `index`.
      const data = vectors.map((v, index) => ({ object: 'embedding', index, embedding: Array.from(v) })).reverse()
      return send(200, { object: 'list', model: body.model, data, usage: { prompt_tokens: 0, total_tokens: 0 } })
    }
    if (path === '/v1/load_lora_adapter') {
      const name = String(body.lora_name)
      if (loaded.has(name)) return send(400, { error: { message: `The lora adapter '${name}' has already been loaded.` } })
      loaded.set(name, String(body.lora_path))
      return send(200, `Success: LoRA adapter '${name}' added successfully.`)
    }
    if (path === '/v1/chat/completions') {
      const generator = await generatorFor(String(body.model))
      if (!generator) return send(404, { error: { message: `The model \`${String(body.model)}\` does not exist.` } })
      const out = await generator.doGenerate(body.messages as ChatMessage[], { maxTokens: Number(body.max_tokens ?? 16), temperature: 0 })
      const chunk = (delta: Record<string, unknown>, finish: string | null, usage?: unknown): string =>
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: body.model, choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(chunk({ role: 'assistant', content: out.text }, null))
      res.write(chunk({}, out.finishReason === 'length' ? 'length' : 'stop'))
      res.write(chunk({}, null, { prompt_tokens: out.usage.promptTokens, completion_tokens: out.usage.completionTokens, total_tokens: out.usage.promptTokens + out.usage.completionTokens }))
      res.end('data: [DONE]\n\n')
      return
    }
    send(404, { error: { message: `no route ${path}` } })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: err.message } }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    loaded,
    failNext: (count, status, retryAfter) => (faults = { count, status, ...(retryAfter !== undefined ? { retryAfter } : {}) }),
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      for (const g of generators.values()) await g.dispose()
    },
  }
}
