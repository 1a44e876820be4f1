import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TINY_LLAMA_BASE_OPTIONS } from '../src/models/tiny-llama/ensure-tiny-llama.js'
import { writeTinyLora } from '../src/models/tiny-llama/tiny-lora.js'
import { addAdapter } from '../src/registry/adapter-registry.js'
import { promoteAdapter, rollbackAdapter } from '../src/registry/promote.js'
import { PGliteStore } from '../src/store/pglite-store.js'
import { tinyLlama } from './fixtures/tiny-llama.js'

const CHILD = fileURLToPath(new URL('./helpers/promote-child.ts', import.meta.url))
const dirs: string[] = []
let files: { a1: string; a2: string; base: string }

/** Runs the promotion loop in a child and SIGKILLs it once `after` promotions are committed (plus a jitter). */
function promoteAndKill(dataDir: string, after: number, jitterMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // One process (not the tsx launcher, which would leave its node child running after SIGKILL).
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let done = 0
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdout.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        const m = /^done (\d+)$/.exec(line)
        if (m && (done = Number(m[1])) >= after && !child.killed) setTimeout(() => child.kill('SIGKILL'), jitterMs)
      }
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(done) : reject(new Error(`child exited with ${code}: ${stderr}`))))
  })
}

beforeAll(async () => {
  const tiny = await tinyLlama()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-crash-lora-'))
  dirs.push(dir)
  files = { a1: path.join(dir, 'a1.gguf'), a2: path.join(dir, 'a2.gguf'), base: tiny.q8_0 }
  await writeTinyLora(files.a1, TINY_LLAMA_BASE_OPTIONS, { seed: 7 })
  await writeTinyLora(files.a2, TINY_LLAMA_BASE_OPTIONS, { seed: 8 })
})

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

describe('a promotion killed with SIGKILL', () => {
  it.each([
    [1, 0],
    [3, 2],
    [5, 7],
  ])('after %i promotions (+%i ms): exactly one adapter is active, the one the history names', async (after, jitter) => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-crash-promote-'))
    dirs.push(dataDir)
    const setup = await PGliteStore.open({ dataDir })
    await setup.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
    await addAdapter(setup, { name: 'a1', file: files.a1, baseModelPath: files.base })
    await addAdapter(setup, { name: 'a2', file: files.a2, baseModelPath: files.base })
    await promoteAdapter(setup, 'a1', { force: true, reason: 'start' })
    await setup.close()

    const committed = await promoteAndKill(dataDir, after, jitter)
    expect(committed).toBeGreaterThanOrEqual(after)

    const store = await PGliteStore.open({ dataDir })
    try {
      const active = (await store.listAdapters()).filter((a) => a.status === 'active')
      expect(active).toHaveLength(1)
      const promotions = (await store.listAdapterEvents()).filter((e) => e.action === 'promote')
      // The kill may land after a commit and before its line was printed, never in between.
      expect([committed + 1, committed + 2]).toContain(promotions.length)
      expect(promotions.at(-1)!.adapter).toBe(active[0]!.name)
      expect(active[0]!.name).toBe((promotions.length - 1) % 2 === 1 ? 'a2' : 'a1')
      // The store is usable: the next rollback goes back exactly one step.
      const back = await rollbackAdapter(store)
      expect(back.active.name).toBe(promotions.at(-1)!.previous)
    } finally {
      await store.close()
    }
  })
})
