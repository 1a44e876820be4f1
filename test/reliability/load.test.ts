import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PGliteStore } from '../../src/store/pglite-store.js'
import { createKey, indexedWorkspace, startServe, tinyConfig, type ServeProcess } from '../helpers/serve.js'
import { ask, median, percentile, rssBytes, scaled, STRESS } from './helpers.js'

// 32 clients against one `ragtune serve` with the tiny model for 20 s (npm test) or 2 min
// (npm run test:stress). maxConcurrent 1 and a queue of 8 make the server refuse work with 503 +
// Retry-After, the deliberate backpressure; anything else is an error.
const DURATION_MS = scaled(20_000, 120_000)
const CLIENTS = 32
const REPORT = fileURLToPath(new URL(`../.cache/reliability/load-${STRESS ? 'stress' : 'short'}.json`, import.meta.url))
const QUESTIONS = ['Which port does the heartbeat use?', 'How often are keys rotated?', 'Where do backups go?', 'What is the quota policy?', 'zebra']
let cwd: string
let server: ServeProcess | undefined

beforeAll(async () => {
  const docs: Record<string, string> = {
    'ports.md': '# Ports\n\nThe heartbeat uses port 7500 over UDP on the back-end network.',
    'keys.md': '# Keys\n\nRotate the master keys every 90 days with skyctl keys rotate.',
    'backups.md': '# Backups\n\nNightly backups go to the cold bucket and are kept for 35 days.',
  }
  for (let i = 0; i < 20; i++) docs[`notes/n${i}.md`] = `# Note ${i}\n\n${'The quota policy of team '.repeat(3)}${i} is reviewed every quarter by the storage group.`
  cwd = await indexedWorkspace(docs, tinyConfig({ server: { maxConcurrent: 1, maxQueue: 8 } }))
})

afterAll(async () => {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL')
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

interface Sample {
  atMs: number
  rss: number
}

describe(`load: ${CLIENTS} clients for ${DURATION_MS / 1000} s`, () => {
  it('answers everything or refuses with 503 + Retry-After, keeps memory flat, and logs every answer', async () => {
    const key = await createKey(cwd, 'load', 'query')
    const s = (server = await startServe(cwd))
    const pid = s.child.pid!
    const errors: string[] = []
    const latencies = new Map<string, number[]>()
    const acked: string[] = []
    let refused = 0
    let other = 0
    const samples: Sample[] = []
    const t0 = performance.now()
    const deadline = t0 + DURATION_MS
    const sampler = setInterval(() => {
      void rssBytes(pid).then((rss) => rss !== null && samples.push({ atMs: performance.now() - t0, rss }))
    }, 250)

    const client = async (c: number): Promise<void> => {
      for (let n = c; performance.now() < deadline; n += CLIENTS) {
        try {
          if (n % 10 === 7) {
            // Cheap routes stay fast while generation is saturated.
            const res = await fetch(`${s.url}${n % 20 === 7 ? '/health' : '/v1/models'}`, { headers: { authorization: `Bearer ${key}` } })
            await res.arrayBuffer()
            if (res.status !== 200) errors.push(`${res.status} on a cheap route`)
            else other++
            continue
          }
          const out = await ask(s.url, key, QUESTIONS[n % QUESTIONS.length]!, n)
          if (out.status === 503) {
            refused++
            // Retry-After is whole seconds; the test keeps the pressure on with a short jittered wait.
            await new Promise((r) => setTimeout(r, 50 + ((n * 37) % 200)))
            continue
          }
          if (out.status !== 200 || out.streamError || !out.ackedQueryId) {
            errors.push(`${out.kind}: status ${out.status}${out.streamError ? ` ${out.streamError}` : ''}`)
            continue
          }
          acked.push(out.ackedQueryId)
          const list = latencies.get(out.kind) ?? []
          list.push(out.ms)
          latencies.set(out.kind, list)
        } catch (err) {
          errors.push(`request failed: ${(err as Error).message}`)
        }
      }
    }
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)))
    clearInterval(sampler)
    const wallS = (performance.now() - t0) / 1000

    const all = [...latencies.values()].flat()
    const byKind = Object.fromEntries([...latencies].map(([k, v]) => [k, { n: v.length, p50Ms: Math.round(median(v)), p99Ms: Math.round(percentile(v, 99)) }]))
    // Warm-up: the first quarter (model pages, JIT, Postgres caches). Flat: the last quarter's median
    // RSS stays within 10% (at least 40 MB) of the second quarter's.
    const quarter = (q: number): number[] => samples.filter((x) => x.atMs >= (q * DURATION_MS) / 4 && x.atMs < ((q + 1) * DURATION_MS) / 4).map((x) => x.rss)
    const warm = median(quarter(1))
    const end = median(quarter(3))
    const report = {
      clients: CLIENTS,
      durationS: Math.round(wallS * 10) / 10,
      answered: all.length,
      answersPerS: Math.round((all.length / wallS) * 10) / 10,
      refused503: refused,
      cheapRequests: other,
      errors: errors.length,
      p50Ms: Math.round(median(all)),
      p99Ms: Math.round(percentile(all, 99)),
      byKind,
      rssMiB: { afterWarmUp: Math.round(warm / 2 ** 20), end: Math.round(end / 2 ** 20), max: Math.round(Math.max(...samples.map((x) => x.rss)) / 2 ** 20) },
    }
    await mkdir(path.dirname(REPORT), { recursive: true })
    await writeFile(REPORT, JSON.stringify(report, null, 2) + '\n')
    console.log(`load report (${REPORT}):\n${JSON.stringify(report, null, 2)}`)

    expect(errors.slice(0, 5)).toEqual([])
    expect(all.length).toBeGreaterThan(5)
    expect(refused).toBeGreaterThan(0)
    expect(samples.length).toBeGreaterThan(DURATION_MS / 500)
    expect(end - warm).toBeLessThan(Math.max(40 * 2 ** 20, 0.1 * warm))

    s.child.kill('SIGTERM')
    expect(await s.exited).toBe(0)
    const store = await PGliteStore.open({ dataDir: path.join(cwd, '.ragtune', 'db') })
    try {
      const ids = new Set((await store.listQueryLogs({ limit: 1_000_000 })).map((r) => r.id))
      expect(acked.filter((id) => !ids.has(id))).toEqual([])
    } finally {
      await store.close()
    }
  }, DURATION_MS + 120_000)
})
