import { createHash } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { RagtuneError } from '../errors.js'
import type { ApiKeyRecord } from '../spec/api-key.js'
import type { Store } from '../spec/store.js'

const T0 = Date.parse('2025-04-01T08:00:00.000Z')
const at = (minute: number): string => new Date(T0 + minute * 60_000).toISOString()
const hashOf = (s: string): string => createHash('sha256').update(s).digest('hex')

function key(id: string, name: string, minute: number, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return { id, name, scope: 'query', keyHash: hashOf(`rt_secret-${id}`), createdAt: at(minute), revokedAt: null, ...over }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(RagtuneError)
  return (err as RagtuneError).code
}

/**
 * The API key part of the Store contract; `getStore` returns the suite's initialised store. Keys
 * cannot be deleted through the interface, so every test uses names of its own.
 */
export function describeApiKeyContract(getStore: () => Store): void {
  describe('API keys', () => {
    let store: Store
    beforeAll(() => {
      store = getStore()
    })
    const mine = async (prefix: string): Promise<ApiKeyRecord[]> => (await store.listApiKeys()).filter((k) => k.name.startsWith(prefix))

    it('adds keys and lists them oldest first, exactly as given', async () => {
      const b = key('k-b', 'list-b', 5, { scope: 'admin' })
      const a = key('k-a', 'list-a', 1)
      await store.addApiKey(b)
      await store.addApiKey(a)
      expect(await mine('list-')).toEqual([a, b])
    })

    it('refuses a second active key of one name, and issues the name again once revoked', async () => {
      await store.addApiKey(key('k-d1', 'dup', 0))
      expect(await codeOf(store.addApiKey(key('k-d2', 'dup', 1)))).toBe('API_KEY_EXISTS')
      const revoked = await store.revokeApiKey('dup', at(2))
      expect(revoked).toEqual(key('k-d1', 'dup', 0, { revokedAt: at(2) }))
      expect(await codeOf(store.revokeApiKey('dup'))).toBe('API_KEY_NOT_FOUND')
      await store.addApiKey(key('k-d3', 'dup', 3))
      expect((await mine('dup')).map((k) => [k.id, k.revokedAt])).toEqual([['k-d1', at(2)], ['k-d3', null]])
    })

    it('revoking an unknown name is API_KEY_NOT_FOUND; revoke defaults to now', async () => {
      expect(await codeOf(store.revokeApiKey('never-issued'))).toBe('API_KEY_NOT_FOUND')
      await store.addApiKey(key('k-now', 'now', 0))
      const before = Date.now()
      const r = await store.revokeApiKey('now')
      expect(Date.parse(r.revokedAt!)).toBeGreaterThanOrEqual(before - 1000)
    })

    it('refuses bad scopes, hashes, names and times', async () => {
      const bad = (over: Partial<ApiKeyRecord>): ApiKeyRecord => ({ ...key('k-bad', 'bad', 0), ...over })
      expect(await codeOf(store.addApiKey(bad({ scope: 'root' as ApiKeyRecord['scope'] })))).toBe('STORE_BAD_ARGUMENT')
      expect(await codeOf(store.addApiKey(bad({ keyHash: 'rt_plaintext-key' })))).toBe('STORE_BAD_ARGUMENT')
      expect(await codeOf(store.addApiKey(bad({ name: '  ' })))).toBe('STORE_BAD_ARGUMENT')
      expect(await codeOf(store.addApiKey(bad({ createdAt: 'soon' })))).toBe('STORE_BAD_ARGUMENT')
      expect(await codeOf(store.addApiKey(bad({ revokedAt: at(1) })))).toBe('STORE_BAD_ARGUMENT')
      expect(await mine('bad')).toEqual([])
    })

    it('refuses a hash that is already stored', async () => {
      await store.addApiKey(key('k-h1', 'hash-1', 0, { keyHash: hashOf('same') }))
      expect(await codeOf(store.addApiKey(key('k-h2', 'hash-2', 1, { keyHash: hashOf('same') })))).toBe('API_KEY_EXISTS')
    })
  })
}
