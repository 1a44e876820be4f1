import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCompatServer, type CompatServer } from '../../test/helpers/openai-compatible-server.js'
import { RagtuneError } from '../errors.js'
import { loadVllmAdapter, vllmAdapterPath } from './vllm-adapters.js'

let server: CompatServer
beforeAll(async () => {
  server = await startCompatServer({ apiKey: 'k' })
})
afterAll(async () => server?.close())

describe('vLLM runtime LoRA loading', () => {
  it('sends the adapter folder (the registered file\'s, or <adapterRoot>/<name>) under the registry name', async () => {
    expect(vllmAdapterPath({ name: 'v2', filePath: '/data/adapters/v2/adapter.gguf' }, undefined)).toBe('/data/adapters/v2')
    expect(vllmAdapterPath({ name: 'v2', filePath: '/data/adapters/v2/adapter.gguf' }, '/mnt/lora')).toBe('/mnt/lora/v2')
    expect(await loadVllmAdapter({ baseURL: server.baseURL, name: 'v2', path: '/mnt/lora/v2', apiKey: 'k' })).toBe('loaded')
    expect(server.requests.at(-1)).toMatchObject({ path: '/v1/load_lora_adapter', body: { lora_name: 'v2', lora_path: '/mnt/lora/v2' }, auth: 'Bearer k' })
    expect(await loadVllmAdapter({ baseURL: `${server.baseURL}/`, name: 'v2', path: '/mnt/lora/v2', apiKey: 'k' })).toBe('already-loaded')
  })

  it('names the fix when the server has no runtime loading or refuses the folder', async () => {
    const missing = await loadVllmAdapter({ baseURL: `${server.baseURL}/nope`, name: 'v3', path: '/x', apiKey: 'k' }).catch((e: unknown) => e)
    expect((missing as RagtuneError).code).toBe('ADAPTER_LOAD_FAILED')
    expect((missing as Error).message).toMatch(/HTTP 404[\s\S]*VLLM_ALLOW_RUNTIME_LORA_UPDATING/)
    server.failNext(1, 500)
    const refused = await loadVllmAdapter({ baseURL: server.baseURL, name: 'v3', path: '/x', apiKey: 'k' }).catch((e: unknown) => e)
    expect((refused as Error).message).toMatch(/HTTP 500[\s\S]*adapterRoot/)
  })
})
