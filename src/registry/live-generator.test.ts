import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tinyLlama } from '../../test/fixtures/tiny-llama.js'
import { RagtuneError } from '../errors.js'
import { LlamaCppGenerator } from '../models/llama/llama-cpp-generator.js'
import type { TinyLlamaPaths } from '../models/tiny-llama/ensure-tiny-llama.js'
import type { ChatMessage } from '../spec/generator.js'
import { leaseGenerator, LiveGenerator, type GeneratorChoice } from './live-generator.js'

const MESSAGES: ChatMessage[] = [{ role: 'user', content: 'Which port does the heartbeat use?' }]
let tiny: TinyLlamaPaths
const live: LiveGenerator[] = []

/** Choices keyed by name; `wanted` says which one `choose` returns, `loads` counts real loads. */
function chooser(): { wanted: string; loads: string[]; choose: () => Promise<GeneratorChoice> } {
  const state = {
    wanted: 'base',
    loads: [] as string[],
    choose: async (): Promise<GeneratorChoice> => {
      const key = state.wanted
      return {
        key,
        load: async () => {
          if (key === 'broken') throw new RagtuneError('ADAPTER_FILE_NOT_FOUND', 'gone')
          state.loads.push(key)
          return LlamaCppGenerator.load({ modelPath: tiny.q8_0, contextSize: 512, adapter: key === 'base' ? null : { path: tiny.lora, id: `${key}@test` } })
        },
      }
    },
  }
  return state
}

beforeAll(async () => {
  tiny = await tinyLlama()
})
afterAll(async () => {
  await Promise.all(live.map((g) => g.dispose()))
})

describe('LiveGenerator', () => {
  it('swaps for new leases while an old lease finishes on the old generator, then disposes it', async () => {
    const c = chooser()
    const g = await LiveGenerator.open(c.choose)
    live.push(g)
    expect([g.key, g.adapter]).toEqual(['base', null])
    const old = g.acquire()
    const running = old.generator.doGenerate(MESSAGES, { temperature: 0, maxTokens: 64 })
    c.wanted = 'lora'
    expect(await g.refresh()).toEqual({ swapped: true, key: 'lora' })
    expect(g.adapter).toBe('lora@test')
    const fresh = g.acquire()
    expect(fresh.generator).not.toBe(old.generator)
    expect((await running).adapter).toBeNull()
    // Still leased: a second call of the same request (a JSON repair retry) still works on it.
    expect((await old.generator.doGenerate(MESSAGES, { temperature: 0, maxTokens: 4 })).adapter).toBeNull()
    old.release()
    old.release()
    await expect(old.generator.doGenerate(MESSAGES, { maxTokens: 2 })).rejects.toMatchObject({ code: 'GENERATOR_DISPOSED' })
    expect((await fresh.generator.doGenerate(MESSAGES, { temperature: 0, maxTokens: 4 })).adapter).toBe('lora@test')
    fresh.release()
    // Its own doGenerate leases per call.
    expect((await g.doGenerate(MESSAGES, { temperature: 0, maxTokens: 4 })).adapter).toBe('lora@test')
  })

  it('does nothing when the choice is unchanged, and keeps serving when the new one fails to load', async () => {
    const c = chooser()
    const g = await LiveGenerator.open(c.choose)
    live.push(g)
    expect(await g.refresh()).toEqual({ swapped: false, key: 'base' })
    c.wanted = 'broken'
    await expect(g.refresh()).rejects.toMatchObject({ code: 'ADAPTER_FILE_NOT_FOUND' })
    expect(g.key).toBe('base')
    expect((await g.doGenerate(MESSAGES, { maxTokens: 2 })).adapter).toBeNull()
    // Swaps queue in order.
    c.wanted = 'one'
    const first = g.refresh()
    c.wanted = 'two'
    const second = g.refresh()
    expect(await first).toMatchObject({ key: 'two' })
    expect(await second).toEqual({ swapped: false, key: 'two' })
    expect(c.loads).toEqual(['base', 'two'])
  })

  it('leases a plain generator as it is', async () => {
    const plain = await LlamaCppGenerator.load({ modelPath: tiny.q8_0, contextSize: 256 })
    const lease = leaseGenerator(plain)
    expect(lease.generator).toBe(plain)
    lease.release()
    await plain.dispose()
  })
})
