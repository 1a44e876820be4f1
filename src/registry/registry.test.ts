import { appendFile, copyFile, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tinyLlama } from '../../test/fixtures/tiny-llama.js'
import { RagtuneError } from '../errors.js'
import { TINY_LLAMA_BASE_OPTIONS, type TinyLlamaPaths } from '../models/tiny-llama/ensure-tiny-llama.js'
import { writeTinyLora } from '../models/tiny-llama/tiny-lora.js'
import type { AdapterRecord } from '../spec/adapter-registry.js'
import type { EvalExampleResult } from '../spec/eval-run.js'
import { PGliteStore } from '../store/pglite-store.js'
import { addAdapter, removeAdapter, verifyAdapterFile } from './adapter-registry.js'
import { promoteAdapter, rollbackAdapter } from './promote.js'

let tiny: TinyLlamaPaths
let dir: string
let store: PGliteStore
let runCount = 0
const SET = 'c'.repeat(64)

async function failure(p: Promise<unknown>): Promise<RagtuneError> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(RagtuneError)
  return err as RagtuneError
}

/** Stores an eval run of `record` whose 30 "format" and 30 "schema" examples are right as `right` says. */
async function evalRun(record: AdapterRecord, right: (category: string, i: number) => boolean, opts: { adapterId?: string | null } = {}): Promise<string> {
  const id = `run-${String(++runCount).padStart(3, '0')}`
  const results: EvalExampleResult[] = []
  for (const category of ['format', 'schema']) {
    for (let i = 0; i < 30; i++) results.push({ runId: id, exampleId: `${category}-${i}`, category, question: 'q', answer: 'a', metrics: { label_accuracy: right(category, i) ? 1 : 0 }, detail: {} })
  }
  await store.addEvalRun({
    id, time: new Date(Date.UTC(2025, 0, 1, 0, runCount)).toISOString(), setName: 'heldout', setSha256: SET, adapter: record.name,
    adapterId: opts.adapterId !== undefined ? opts.adapterId : record.id, model: 'tiny@1', settings: {}, summary: {}, examples: results.length, warnings: [],
  }, results)
  return id
}

beforeAll(async () => {
  tiny = await tinyLlama()
  dir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-registry-'))
  await writeTinyLora(path.join(dir, 'second.gguf'), TINY_LLAMA_BASE_OPTIONS, { seed: 8 })
  await writeTinyLora(path.join(dir, 'wide.gguf'), { ...TINY_LLAMA_BASE_OPTIONS, hiddenSize: 128 }, { seed: 8 })
  store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: 4, embeddingModel: 'test/model-4d' })
})
afterAll(async () => {
  await store?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('adding adapters', () => {
  it('registers a LoRA that fits the base model, with hashes, provenance id and lineage', async () => {
    const a1 = await addAdapter(store, { name: 'a1', file: tiny.lora, baseModelPath: tiny.q8_0, datasetVersion: 'ds-7', trainingConfig: { rank: 4 }, reason: 'first try' })
    expect(a1).toMatchObject({ name: 'a1', status: 'candidate', filePath: tiny.lora, datasetVersion: 'ds-7', trainingConfig: { rank: 4 }, baseModel: expect.stringMatching(/^tiny-llama-q8_0\.gguf@/) })
    expect(a1.id).toBe(`a1@${a1.fileSha256!.slice(0, 12)}`)
    expect(a1.baseModelSha256).toMatch(/^[0-9a-f]{64}$/)
    expect(await store.getAdapter('a1')).toEqual(a1)
    const a2 = await addAdapter(store, { name: 'a2', file: path.join(dir, 'second.gguf'), baseModelPath: tiny.q8_0, parent: 'a1' })
    expect(a2.parent).toBe('a1')
    expect((await store.listAdapterEvents({ adapter: 'a1' }))[0]).toMatchObject({ action: 'add', reason: 'first try' })
  })

  it('refuses files that are not a LoRA for this base, missing files, bad names and unknown parents', async () => {
    expect((await failure(addAdapter(store, { name: 'wide', file: path.join(dir, 'wide.gguf'), baseModelPath: tiny.q8_0 }))).code).toBe('ADAPTER_MISMATCH')
    expect((await failure(addAdapter(store, { name: 'model', file: tiny.f32 }))).code).toBe('ADAPTER_MISMATCH')
    expect((await failure(addAdapter(store, { name: 'gone', file: path.join(dir, 'nope.gguf') }))).code).toBe('ADAPTER_FILE_NOT_FOUND')
    expect((await failure(addAdapter(store, { name: 'base', file: tiny.lora }))).code).toBe('USAGE')
    expect((await failure(addAdapter(store, { name: 'has space', file: tiny.lora }))).code).toBe('USAGE')
    expect((await failure(addAdapter(store, { name: 'orphan', file: tiny.lora, parent: 'nobody' }))).code).toBe('ADAPTER_UNKNOWN')
    expect((await failure(addAdapter(store, { name: 'a1', file: tiny.lora }))).code).toBe('ADAPTER_EXISTS')
    expect((await store.listAdapters()).map((a) => a.name)).toEqual(['base', 'a1', 'a2'])
  })
})

describe('promotion and rollback', () => {
  const get = async (name: string) => (await store.getAdapter(name))!

  it('needs eval runs of both sides (base before any promotion), or a forced reason', async () => {
    const err = await failure(promoteAdapter(store, 'a1'))
    expect(err.code).toBe('EVAL_MISSING')
    expect(err.message).toMatch(/"a1" and "base"/)
    expect((await failure(promoteAdapter(store, 'a1', { force: true }))).code).toBe('USAGE')
    expect((await failure(promoteAdapter(store, 'base'))).message).toMatch(/cannot judge "base" itself/)
    expect(await store.getActiveAdapter()).toBeNull()
  })

  it('promotes a candidate that beats base on the same set', async () => {
    await evalRun(await get('base'), (_c, i) => i % 2 === 0)
    await evalRun(await get('a1'), () => true)
    const result = await promoteAdapter(store, 'a1')
    expect(result).toMatchObject({ previous: null, forced: false, active: { name: 'a1', status: 'active' } })
    expect(result.decision).toMatchObject({ pass: true, primary: { metric: 'label_accuracy', a: 0.5, b: 1 } })
    expect((await store.listAdapterEvents()).at(-1)).toMatchObject({ action: 'promote', adapter: 'a1', previous: null, forced: false, detail: { comparedWith: 'base', runs: result.runs } })
  })

  it('rejects a candidate that wins overall but regresses a category, unless forced with a reason', async () => {
    // a1 is right everywhere; a2 would be compared against that, so give a1 a weaker run first.
    await evalRun(await get('a1'), (c, i) => c === 'schema' || i % 3 === 0)
    await evalRun(await get('a2'), (c, i) => c === 'format' || i >= 12)
    const err = await failure(promoteAdapter(store, 'a2'))
    expect(err.code).toBe('GATE_REJECTED')
    expect(err.message).toMatch(/category "schema": label_accuracy regresses/)
    expect((await store.getActiveAdapter())!.name).toBe('a1')
    const forced = await promoteAdapter(store, 'a2', { force: true, reason: 'schema fix ships separately' })
    expect(forced).toMatchObject({ forced: true, previous: 'a1', active: { name: 'a2' } })
    expect((await store.listAdapterEvents()).at(-1)).toMatchObject({ forced: true, reason: 'schema fix ships separately', detail: { decision: { pass: false } } })
    expect((await get('a1')).status).toBe('retired')
  })

  it('ignores eval runs made with another file under the same name', async () => {
    await evalRun(await get('base'), () => true, { adapterId: null })
    await evalRun(await get('a1'), () => true, { adapterId: 'a1@000000000000' })
    // The stale a1 run would win; the only current pair (a1's earlier runs vs a2's) is what counts.
    const err = await failure(promoteAdapter(store, 'a1'))
    expect(err.code).toBe('GATE_REJECTED')
  })

  it('rolls back along the history, one step per call, without a gate', async () => {
    expect(await rollbackAdapter(store, { reason: 'a2 broke tables' })).toMatchObject({ previous: 'a2', active: { name: 'a1', status: 'active' } })
    expect((await store.listAdapterEvents()).at(-1)).toMatchObject({ action: 'rollback', adapter: 'a1', previous: 'a2', reason: 'a2 broke tables' })
    const err = await failure(rollbackAdapter(store))
    expect(err.code).toBe('ADAPTER_NO_HISTORY')
    expect(err.message).toMatch(/"a1" was the first adapter promoted/)
    expect((await store.listAdapters()).filter((a) => a.status === 'active').map((a) => a.name)).toEqual(['a1'])
  })

  it('refuses to serve a file that changed since it was registered', async () => {
    const copy = path.join(dir, 'copy.gguf')
    await copyFile(path.join(dir, 'second.gguf'), copy)
    const record = await addAdapter(store, { name: 'a3', file: copy, baseModelPath: tiny.q8_0 })
    await verifyAdapterFile(record)
    await appendFile(copy, Buffer.from([0]))
    expect((await failure(verifyAdapterFile(record))).code).toBe('ADAPTER_CHANGED')
    expect((await failure(promoteAdapter(store, 'a3', { force: true, reason: 'x' }))).code).toBe('ADAPTER_CHANGED')
    await removeAdapter(store, 'a3', { reason: 'corrupt' })
    expect(await store.getAdapter('a3')).toBeNull()
  })
})
