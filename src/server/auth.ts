import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { ulid } from '../observe/ulid.js'
import type { ApiKeyRecord, ApiKeyScope } from '../spec/api-key.js'
import type { Store } from '../spec/store.js'
import { HttpError } from './http-error.js'

/** Marks ragtune keys in config files and secret scanners. */
export const API_KEY_PREFIX = 'rt_'

export const apiKeyScopes: readonly ApiKeyScope[] = ['query', 'admin']

/** Who is calling: the key's name and scope, or the open door of `--no-auth`. */
export interface Principal {
  name: string | null
  scope: ApiKeyScope
}

/** sha256 hex of the whole key: what the store keeps instead of the key. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/**
 * A new key (32 random bytes, base64url, `rt_` prefix) and the record to store. The key itself is
 * returned once, to be printed once; only its hash is kept.
 */
export function newApiKey(name: string, scope: ApiKeyScope, now = new Date()): { key: string; record: ApiKeyRecord } {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url')
  return { key, record: { id: ulid(), name, scope, keyHash: hashApiKey(key), createdAt: now.toISOString(), revokedAt: null } }
}

/** The key a request presents: `Authorization: Bearer <key>` (what OpenAI clients send) or `x-api-key`. */
export function presentedKey(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth)
    if (m) return m[1]!
  }
  const x = headers['x-api-key']
  return typeof x === 'string' && x.trim() !== '' ? x.trim() : null
}

/**
 * Finds the active key matching the presented one. Every active hash is compared, in constant time
 * and without stopping at a match, so response times say nothing about which bytes were right.
 * Keys are read per request: a revoked key stops working at once, and the table is a few rows.
 */
export async function authenticate(store: Store, headers: IncomingHttpHeaders): Promise<Principal> {
  const key = presentedKey(headers)
  if (key === null) {
    throw new HttpError(401, 'missing_api_key', 'this route needs an API key: send `Authorization: Bearer <key>` (create one with `ragtune keys create <name>`)')
  }
  const presented = Buffer.from(hashApiKey(key), 'hex')
  let match: ApiKeyRecord | null = null
  for (const record of await store.listApiKeys()) {
    if (record.revokedAt !== null) continue
    if (timingSafeEqual(Buffer.from(record.keyHash, 'hex'), presented)) match = record
  }
  if (!match) throw new HttpError(401, 'invalid_api_key', 'the API key is not valid (unknown or revoked)')
  return { name: match.name, scope: match.scope }
}

/** 403 unless the principal may use a route of `needed` scope; `admin` includes `query`. */
export function requireScope(principal: Principal, needed: ApiKeyScope): void {
  if (needed === 'admin' && principal.scope !== 'admin') {
    throw new HttpError(403, 'insufficient_scope', `this route needs an API key with scope "admin"; the key "${principal.name}" has scope "${principal.scope}"`)
  }
}
