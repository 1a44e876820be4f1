import { rm } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PGliteStore } from '../../src/store/pglite-store.js'
import { createKey, indexedWorkspace, post, startServe, tinyConfig, type ServeProcess } from '../helpers/serve.js'
import { ask, prng, scaled } from './helpers.js'

// SIGKILL of a serving `ragtune serve` while 8 clients ask and label, then a restart on the same
// data folder: every answer a client received in full, and every label the server acknowledged
// with 201, must be in the store. Indexing, promotion and training under SIGKILL are covered by
// test/crash.test.ts, test/crash-promote.test.ts and test/train-resume.test.ts.
const ROUNDS = scaled(2, 8)
const CLIENTS = 8
const QUESTIONS = ['Which port does the heartbeat use?', 'How often are keys rotated?', 'Where do backups go?', 'What is the quota policy?']
let cwd: string
let key: string
let current: ServeProcess | undefined

beforeAll(async () => {
  cwd = await indexedWorkspace(
    {
      'ports.md': '# Ports\n\nThe heartbeat uses port 7500 over UDP on the back-end network.',
      'keys.md': '# Keys\n\nRotate the master keys every 90 days with skyctl keys rotate.',
      'backups.md': '# Backups\n\nNightly backups go to the cold bucket and are kept for 35 days.',
      'quota.md': '# Quota\n\nEach team gets 2 TB; the quota policy is reviewed every quarter.',
    },
    tinyConfig({ server: { maxConcurrent: 2, maxQueue: 64 } }),
  )
  key = await createKey(cwd, 'reader', 'query')
})

afterAll(async () => {
  if (current && current.child.exitCode === null) current.child.kill('SIGKILL')
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = performance.now()
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('query log and labels under SIGKILL of ragtune serve', () => {
  it(`keeps every acknowledged answer's log row and every acknowledged label across ${ROUNDS} kills and restarts`, async () => {
    const rand = prng(9)
    const answered = new Set<string>()
    const labelled = new Set<string>()
    let sent = 0
    for (let round = 0; round < ROUNDS; round++) {
      const server = (current = await startServe(cwd))
      let stop = false
      let acks = 0
      const client = async (c: number): Promise<void> => {
        for (let n = c; !stop; n += CLIENTS) {
          try {
            sent++
            const out = await ask(server.url, key, QUESTIONS[n % QUESTIONS.length]!, n)
            if (!out.ackedQueryId) continue
            answered.add(out.ackedQueryId)
            acks++
            if (n % 3 === 0) {
              const res = await post(`${server.url}/v1/feedback`, { queryId: out.ackedQueryId, rating: 'good' }, key)
              if (res.status === 201) labelled.add(out.ackedQueryId)
            }
          } catch {
            // The kill dropped the connection (or refused it): nothing was acknowledged.
          }
        }
      }
      const clients = Array.from({ length: CLIENTS }, (_, c) => client(c))
      // Kill at a different point each round, a few ms after an acknowledgement: writes are in flight.
      await until(() => acks >= 6 + Math.floor(rand() * 10), 60_000)
      await new Promise((r) => setTimeout(r, Math.floor(rand() * 25)))
      server.child.kill('SIGKILL')
      expect(await server.exited).toBe(-1)
      stop = true
      await Promise.all(clients)
    }

    // The restarted server works, and a clean stop releases the store for inspection.
    const server = (current = await startServe(cwd))
    for (let n = 0; n < 4; n++) {
      const out = await ask(server.url, key, QUESTIONS[n]!, n)
      expect(out.status).toBe(200)
      answered.add(out.ackedQueryId!)
    }
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)

    const store = await PGliteStore.open({ dataDir: path.join(cwd, '.ragtune', 'db') })
    try {
      const rows = await store.listQueryLogs({ limit: 100_000 })
      const byId = new Map(rows.map((r) => [r.id, r]))
      expect(byId.size).toBe(rows.length)
      const missing = [...answered].filter((id) => !byId.has(id))
      expect(missing, `${missing.length} of ${answered.size} acknowledged answers lost`).toEqual([])
      for (const id of answered) expect(byId.get(id)).toMatchObject({ error: null, answer: expect.any(String), client: 'http:reader' })
      const labels = new Set((await store.listLabels()).map((l) => l.queryId))
      expect([...labelled].filter((id) => !labels.has(id))).toEqual([])
      // Rows of requests cut off by a kill may exist (marked or complete), but never more rows than requests.
      expect(rows.length).toBeLessThanOrEqual(sent + 4)
      const docs = await store.listDocuments()
      expect(await store.chunkCount()).toBe(docs.reduce((n, d) => n + d.chunkCount, 0))
      expect(labelled.size).toBeGreaterThan(0)
      console.log(`log durability: ${ROUNDS} SIGKILLs, ${answered.size} acknowledged answers and ${labelled.size} labels, all stored; ${rows.length} rows for ${sent + 4} requests`)
    } finally {
      await store.close()
    }
  }, scaled(120_000, 480_000))
})
