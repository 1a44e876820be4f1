import { describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import { parseConfig } from './load-config.js'
import { MISTRAL_7B_GGUF, PROFILE_NAMES, profileConfig } from './profiles.js'

describe('config profiles', () => {
  it('every profile is a valid config', () => {
    for (const name of PROFILE_NAMES) expect(() => parseConfig(profileConfig(name), name)).not.toThrow()
  })

  it('gpu-7b is the guide\'s stack on CUDA; gpu-7b-vllm generates through a vLLM server', () => {
    const gpu = parseConfig(profileConfig('gpu-7b'))
    expect(gpu.models.embedder.model).toBe('Xenova/bge-large-en-v1.5')
    expect(gpu.generator).toMatchObject({ provider: 'llama', model: MISTRAL_7B_GGUF, gpu: 'cuda', contextSize: 8192 })
    const vllm = parseConfig(profileConfig('gpu-7b-vllm'))
    expect(vllm.generator).toMatchObject({ provider: 'openai', baseURL: 'http://localhost:8000/v1', model: 'mistralai/Mistral-7B-Instruct-v0.3' })
    expect(parseConfig(profileConfig('cpu-small')).generator.gpu).toBe(false)
  })

  it('an unknown profile lists the known ones', () => {
    const err = (() => {
      try {
        profileConfig('gpu-70b')
      } catch (e) {
        return e as RagtuneError
      }
    })()
    expect(err?.code).toBe('USAGE')
    expect(err?.message).toContain('cpu-small, gpu-7b, gpu-7b-vllm')
  })

  it('hosted providers parse: Pinecone vectors and Cohere rerank', () => {
    const c = parseConfig({ store: { vectors: { provider: 'pinecone', index: 'docs-index', namespace: 'support' } }, models: { reranker: { provider: 'cohere' } } })
    expect(c.store.vectors).toEqual({ provider: 'pinecone', index: 'docs-index', namespace: 'support', apiKeyEnv: 'PINECONE_API_KEY' })
    expect(c.models.reranker).toMatchObject({ provider: 'cohere', cohere: { apiKeyEnv: 'CO_API_KEY', topN: 4 } })
    expect(parseConfig({}).store.vectors).toEqual({ provider: 'local' })
    expect(() => parseConfig({ store: { vectors: { provider: 'pinecone' } } })).toThrow(/store\.vectors\.index/)
  })
})
