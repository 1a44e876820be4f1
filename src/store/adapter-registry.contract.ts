import { beforeAll, describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import type { ActivateAdapterInput, AdapterEvent, AdapterRecord } from '../spec/adapter-registry.js'
import type { EvalExampleResult, EvalRunRecord } from '../spec/eval-run.js'
import type { Store } from '../spec/store.js'

const T0 = Date.parse('2025-05-01T10:00:00.000Z')
const at = (minute: number): string => new Date(T0 + minute * 60_000).toISOString()

function adapter(name: string, minute: number, over: Partial<AdapterRecord> = {}): AdapterRecord {
  const sha = name.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a').slice(0, 64)
  return {
    name, id: `${name}@${sha.slice(0, 12)}`, filePath: `/adapters/${name}.gguf`, fileSha256: sha, baseModel: 'tiny@1', baseModelSha256: 'b'.repeat(64),
    datasetVersion: 'ds-1', trainingConfig: { rank: 8 }, parent: null, status: 'candidate', createdAt: at(minute), activatedAt: null, ...over,
  }
}
const event = (id: string, name: string, action: AdapterEvent['action'], minute: number): AdapterEvent =>
  ({ id, time: at(minute), action, adapter: name, previous: null, forced: false, reason: null, detail: null })
const activation = (name: string, expectedActive: string | null, minute: number, over: Partial<ActivateAdapterInput> = {}): ActivateAdapterInput =>
  ({ name, action: 'promote', eventId: `ev-${name}-${minute}`, time: at(minute), forced: false, reason: null, detail: { why: 'test' }, expectedActive, ...over })

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(RagtuneError)
  return (err as RagtuneError).code
}

/**
 * The registry and eval-run parts of the Store contract; `getStore` returns a fresh, initialised
 * store per suite (the tests share it in order: the registry's state is what they check).
 */
export function describeAdapterRegistryContract(name: string, getStore: () => Promise<Store>): void {
  describe(`${name}: adapter registry`, () => {
    let store: Store
    beforeAll(async () => {
      store = await getStore()
    })
    const actives = async (): Promise<string[]> => (await store.listAdapters()).filter((a) => a.status === 'active').map((a) => a.name)

    it('starts with the base row only, nothing active', async () => {
      const all = await store.listAdapters()
      expect(all.map((a) => [a.name, a.status, a.filePath, a.id])).toEqual([['base', 'candidate', null, null]])
      expect(await store.getActiveAdapter()).toBeNull()
    })

    it('adds candidates exactly as given, base first then by time, and refuses duplicates and bad rows', async () => {
      await store.addAdapter(adapter('b2', 2), event('e-add-b2', 'b2', 'add', 2))
      await store.addAdapter(adapter('a1', 1), event('e-add-a1', 'a1', 'add', 1))
      expect(await store.getAdapter('a1')).toEqual(adapter('a1', 1))
      expect((await store.listAdapters()).map((a) => a.name)).toEqual(['base', 'a1', 'b2'])
      expect(await codeOf(store.addAdapter(adapter('a1', 3), event('e-dup', 'a1', 'add', 3)))).toBe('ADAPTER_EXISTS')
      expect(await codeOf(store.addAdapter(adapter('base', 3, { name: 'base' }), event('e-b', 'base', 'add', 3)))).toBe('STORE_BAD_ARGUMENT')
      expect(await codeOf(store.addAdapter(adapter('x', 3, { status: 'active' }), event('e-x', 'x', 'add', 3)))).toBe('STORE_BAD_ARGUMENT')
      expect(await codeOf(store.addAdapter(adapter('y', 3, { fileSha256: 'nope' }), event('e-y', 'y', 'add', 3)))).toBe('STORE_BAD_ARGUMENT')
      expect(await store.getAdapter('x')).toBeNull()
      expect((await store.listAdapterEvents()).map((e) => e.id)).toEqual(['e-add-a1', 'e-add-b2'])
    })

    it('activates in one step: the old active retires, the event records what was before', async () => {
      const a1 = await store.activateAdapter(activation('a1', null, 10))
      expect(a1).toMatchObject({ name: 'a1', status: 'active', activatedAt: at(10) })
      const b2 = await store.activateAdapter(activation('b2', 'a1', 11, { forced: true, reason: 'hotfix' }))
      expect(b2.status).toBe('active')
      expect((await store.getAdapter('a1'))!.status).toBe('retired')
      expect(await actives()).toEqual(['b2'])
      expect((await store.getActiveAdapter())!.name).toBe('b2')
      const events = await store.listAdapterEvents({ adapter: 'a1' })
      expect(events.map((e) => [e.action, e.adapter, e.previous])).toEqual([['add', 'a1', null], ['promote', 'a1', null], ['promote', 'b2', 'a1']])
      expect(events[2]).toMatchObject({ forced: true, reason: 'hotfix', detail: { why: 'test' } })
    })

    it('refuses a stale decision, an active target and unknown names, changing nothing', async () => {
      expect(await codeOf(store.activateAdapter(activation('a1', 'a1', 12)))).toBe('ADAPTER_CONFLICT')
      expect(await codeOf(store.activateAdapter(activation('b2', 'b2', 12)))).toBe('ADAPTER_ALREADY_ACTIVE')
      expect(await codeOf(store.activateAdapter(activation('nope', 'b2', 12)))).toBe('ADAPTER_UNKNOWN')
      expect(await actives()).toEqual(['b2'])
      expect((await store.listAdapterEvents()).filter((e) => e.action === 'promote')).toHaveLength(2)
      // A rollback is the same atomic step with its own action.
      await store.activateAdapter(activation('a1', 'b2', 13, { action: 'rollback' }))
      expect(await actives()).toEqual(['a1'])
      expect((await store.listAdapterEvents()).at(-1)).toMatchObject({ action: 'rollback', adapter: 'a1', previous: 'b2' })
      await store.activateAdapter(activation('base', 'a1', 14))
      expect(await actives()).toEqual(['base'])
    })

    it('removes candidates and retired adapters, never the active one or base', async () => {
      expect(await codeOf(store.removeAdapter('base', event('e-rm-base', 'base', 'remove', 20)))).toBe('ADAPTER_IN_USE')
      await store.activateAdapter(activation('b2', 'base', 20))
      expect(await codeOf(store.removeAdapter('b2', event('e-rm-b2', 'b2', 'remove', 21)))).toBe('ADAPTER_IN_USE')
      await store.removeAdapter('a1', event('e-rm-a1', 'a1', 'remove', 21))
      expect(await store.getAdapter('a1')).toBeNull()
      expect(await codeOf(store.removeAdapter('a1', event('e-rm-a1b', 'a1', 'remove', 22)))).toBe('ADAPTER_UNKNOWN')
      expect((await store.listAdapterEvents({ adapter: 'a1' })).at(-1)).toMatchObject({ id: 'e-rm-a1', action: 'remove' })
    })
  })

  describe(`${name}: eval runs`, () => {
    let store: Store
    beforeAll(async () => {
      store = await getStore()
    })
    const runRecord = (id: string, adapterName: string, minute: number, set = 's'.repeat(64).replace(/s/g, 'a')): EvalRunRecord => ({
      id, time: at(minute), setName: 'heldout', setSha256: set, adapter: adapterName, adapterId: `${adapterName}@1`, model: 'tiny@1',
      settings: { topK: 4 }, summary: { f1: 0.5 }, examples: 2, warnings: [],
    })
    const results = (runId: string): EvalExampleResult[] => [
      { runId, exampleId: 'q2', category: 'tone', question: 'second', answer: null, metrics: { f1: 0 }, detail: { error: { code: 'X' } } },
      { runId, exampleId: 'q1', category: 'format', question: 'first', answer: 'a\u0000b', metrics: { f1: 1, latency_ms: 3.5 }, detail: { citations: [1] } },
    ]

    it('stores a run with its examples and reads them back in id order', async () => {
      await store.addEvalRun(runRecord('r1', 'a1', 1), results('r1'))
      expect(await store.getEvalRun('r1')).toEqual(runRecord('r1', 'a1', 1))
      expect(await store.getEvalRun('nope')).toBeNull()
      const back = await store.listEvalResults('r1')
      expect(back.map((r) => r.exampleId)).toEqual(['q1', 'q2'])
      expect(back[0]).toEqual({ ...results('r1')[1], answer: 'a\uFFFDb' })
    })

    it('lists newest first, filtered by adapter and set', async () => {
      await store.addEvalRun(runRecord('r2', 'a1', 5, 'b'.repeat(64)), results('r2'))
      await store.addEvalRun(runRecord('r3', 'base', 3), results('r3'))
      expect((await store.listEvalRuns()).map((r) => r.id)).toEqual(['r2', 'r3', 'r1'])
      expect((await store.listEvalRuns({ adapter: 'a1' })).map((r) => r.id)).toEqual(['r2', 'r1'])
      expect((await store.listEvalRuns({ adapter: 'a1', setSha256: 'a'.repeat(64) })).map((r) => r.id)).toEqual(['r1'])
      expect((await store.listEvalRuns({ limit: 1 })).map((r) => r.id)).toEqual(['r2'])
    })

    it('stores a run whole or not at all', async () => {
      expect(await codeOf(store.addEvalRun({ ...runRecord('r4', 'a1', 6), examples: 3 }, results('r4')))).toBe('STORE_BAD_ARGUMENT')
      const dup = results('r5')
      dup[1]!.exampleId = 'q2'
      expect(await codeOf(store.addEvalRun(runRecord('r5', 'a1', 6), dup))).toBe('STORE_BAD_ARGUMENT')
      // A duplicate run id fails inside the transaction: no example rows are left behind.
      expect(await codeOf(store.addEvalRun(runRecord('r1', 'a1', 7), results('r1')))).toBe('STORE_BAD_ARGUMENT')
      expect(await store.listEvalResults('r1')).toHaveLength(2)
      expect(await store.getEvalRun('r4')).toBeNull()
    })
  })
}
