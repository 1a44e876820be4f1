import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { newQueryId } from '../src/observe/query-log.js'
import type { QueryLogEntry } from '../src/spec/query-log.js'
import type { ChunkRecord } from '../src/spec/store.js'
import { PGliteStore } from '../src/store/pglite-store.js'
import { envInt } from './lib/env.js'
import { fmt, note, pct, printTable } from './lib/format.js'
import { watchForeignLoad } from './lib/load.js'
import { ensureBenchModel, MINILM_L6_CROSS_ENCODER } from './lib/models.js'
import { ensureSmolLm2, markerKey, smolLm2Options, sourceKey } from './lib/smollm2.js'
import { DEFAULTS } from './lib/ragtune-index.js'
import { BENCH_DIR, CACHE_DIR, type BenchResult } from './lib/results.js'
import { randomUnitVector, seededRandom, sentence, wordSampler } from './lib/rng.js'
import { mean, summarize, type LatencySummary } from './lib/stats.js'
import { loadBenchEncoder } from './indexing.js'

const REPO = join(BENCH_DIR, '..')
const BIN = join(REPO, 'bin', 'ragtune.js')

const SMOLLM2_Q8 = smolLm2Options('q8_0')


/** Synthetic chunk text of about `words` words (Zipf-distributed common English words). */
function chunkText(random: () => number, word: () => string, words: number): string {
  let text = ''
  while (text.split(' ').length < words) text += `${sentence(random, word)} `
  return text.trim()
}

interface IndexSpec {
  chunks: number
  words: number
  perDoc: number
  embeddingModel: string
  dimensions: number
}

/**
 * A persisted PGliteStore of `chunks` synthetic chunks (random unit vectors of the embedder's width,
 * stored under its id) in bench/.cache/serve, filled through bulkLoad like a first index. Returns the
 * folder to use as a ragtune dataDir (the store is its `db/`), rebuilt only when the spec or the
 * store's code changes.
 */
async function ensureServeIndex(spec: IndexSpec): Promise<{ dataDir: string; built: boolean; buildMs: number }> {
  const dataDir = join(CACHE_DIR, 'serve', `index-${spec.chunks}x${spec.words}`)
  const marker = join(dataDir, '.bench-index.json')
  const pglite = join(REPO, 'node_modules', '@electric-sql', 'pglite', 'package.json')
  const key = await sourceKey({ ...spec, seed: 5 }, [join(REPO, 'src', 'store')], [pglite])
  if ((await markerKey(marker)) === key) return { dataDir, built: false, buildMs: 0 }
  note(`serve: building the ${spec.chunks}-chunk index (cached afterwards)`)
  const t0 = performance.now()
  const staging = `${dataDir}.tmp-${process.pid}`
  await rm(staging, { recursive: true, force: true })
  const store = await PGliteStore.open({ dataDir: join(staging, 'db') })
  try {
    await store.init({ dimensions: spec.dimensions, embeddingModel: spec.embeddingModel })
    const random = seededRandom(5)
    const word = wordSampler(random)
    await store.bulkLoad!(async () => {
      for (let d = 0, rows = 0; rows < spec.chunks; d++) {
        const path = `synthetic/doc-${d}.md`
        const n = Math.min(spec.perDoc, spec.chunks - rows)
        const chunks: ChunkRecord[] = Array.from({ length: n }, (_, i) => ({
          id: `${d}-${i}`,
          documentPath: path,
          ordinal: i,
          text: chunkText(random, word, spec.words),
          headingPath: [`Document ${d}`, `Section ${1 + Math.floor(i / 5)}`],
          tokenCount: spec.words,
          embedding: randomUnitVector(random, spec.dimensions),
        }))
        await store.replaceDocument({ path, contentHash: String(d), size: 0, format: 'md', chunkCount: n, indexedAt: new Date().toISOString() }, chunks)
        rows += n
        if (rows % 2000 < spec.perDoc) note(`serve: ${rows} chunks stored`)
      }
    })
  } finally {
    await store.close()
  }
  await writeFile(join(staging, '.bench-index.json'), `${JSON.stringify({ key, spec })}\n`)
  await rm(dataDir, { recursive: true, force: true })
  await mkdir(join(dataDir, '..'), { recursive: true })
  await rename(staging, dataDir)
  return { dataDir, built: true, buildMs: performance.now() - t0 }
}

/** A warning when dist/ (what `ragtune serve` runs) is older than the newest source file. */
async function staleBuildWarning(): Promise<string | null> {
  const main = join(REPO, 'dist', 'cli', 'main.js')
  const built = await stat(main).then((s) => s.mtimeMs, () => null)
  if (built === null) throw new Error(`${main} is missing: run \`npm run build\` first (the benchmark starts the built CLI, as users run it)`)
  let newest = 0
  for (const name of await readdir(join(REPO, 'src'), { recursive: true })) {
    if (name.endsWith('.ts') && !name.endsWith('.test.ts')) newest = Math.max(newest, (await stat(join(REPO, 'src', name))).mtimeMs)
  }
  return newest > built ? 'dist/ is older than src/: the server measured may not be the current code (run `npm run build`)' : null
}

/** CPU time (user + system, ms) a process has used so far, from /proc; NaN off Linux. */
function procCpuMs(pid: number | undefined): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10 // utime, stime in USER_HZ (100) ticks
  } catch {
    return NaN
  }
}

interface ServerProc {
  url: string
  child: ChildProcess
  /** Request log lines the server wrote on stderr, by query id: the server's own time per request. */
  requestMs: Map<string, number>
  stderr(): string
  exited: Promise<number>
}

/** `node bin/ragtune.js serve --port 0 --no-auth` in `cwd`; resolves once it prints its URL. */
function startServe(cwd: string, readyTimeoutMs: number): Promise<ServerProc> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--no-auth'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  const requestMs = new Map<string, number>()
  let out = ''
  let err = ''
  let partial = ''
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : 0))))
  child.stderr!.on('data', (d: Buffer) => {
    const text = partial + d.toString()
    const lines = text.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      try {
        const j = JSON.parse(line) as { msg?: string; queryId?: string | null; ms?: number }
        if (j.msg === 'request' && j.queryId && typeof j.ms === 'number') requestMs.set(j.queryId, j.ms)
        else if (err.length < 20_000) err += `${line}\n`
      } catch {
        if (err.length < 20_000) err += `${line}\n`
      }
    }
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ragtune serve did not start within ${readyTimeoutMs / 1000} s:\n${err}`)), readyTimeoutMs)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /serving (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ url: m[1]!, child, requestMs, stderr: () => err, exited })
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`ragtune serve exited ${code} before serving:\n${err}`))
    })
  })
}

/** SIGTERM (graceful: in-flight answers finish and are logged), SIGKILL after `graceMs`. */
async function stopServe(server: ServerProc, graceMs: number): Promise<number> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited
  server.child.kill('SIGTERM')
  const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs)
  try {
    return await server.exited
  } finally {
    clearTimeout(timer)
  }
}

interface AnswerTimings {
  retrieveMs: number
  rerankMs: number
  firstTokenMs: number | null
  totalMs: number
}

interface Sample {
  queryId: string
  latencyMs: number
  timings: AnswerTimings
  promptTokens: number
  completionTokens: number
}

/** One POST /v1/answer; a non-200 answer comes back as its status and error text. */
async function ask(url: string, question: string, timeoutMs: number): Promise<{ ok: true; sample: Sample } | { ok: false; status: number; error: string }> {
  const t0 = performance.now()
  const res = await fetch(`${url}/v1/answer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ question }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await res.text()
  const latencyMs = performance.now() - t0
  if (res.status !== 200) return { ok: false, status: res.status, error: text.slice(0, 300) }
  const body = JSON.parse(text) as { queryId: string; timings: AnswerTimings; usage: { promptTokens: number; completionTokens: number } }
  return { ok: true, sample: { queryId: body.queryId, latencyMs, timings: body.timings, promptTokens: body.usage.promptTokens, completionTokens: body.usage.completionTokens } }
}

/** Questions of 4..10 Zipf-drawn words, like the search benchmark's. */
function questions(seed: number, n: number): string[] {
  const random = seededRandom(seed)
  const word = wordSampler(random)
  return Array.from({ length: n }, () => Array.from({ length: 4 + Math.floor(random() * 7) }, word).join(' '))
}

/** Appends `rows` copies of real log entries (fresh ids and times) and times each append. */
async function timeLogAppends(store: PGliteStore, entries: QueryLogEntry[], rows: number, withPrompt: boolean): Promise<{ ms: number[]; bytes: number }> {
  const ms: number[] = []
  let bytes = 0
  for (let i = 0; i < rows; i++) {
    const src = entries[i % entries.length]!
    const entry: QueryLogEntry = { ...src, id: newQueryId(), time: new Date().toISOString(), prompt: withPrompt ? src.prompt : null }
    bytes += Buffer.byteLength(JSON.stringify(entry))
    const t0 = performance.now()
    await store.appendQueryLog(entry)
    ms.push(performance.now() - t0)
  }
  return { ms, bytes: bytes / Math.max(1, rows) }
}

export async function runServe(): Promise<BenchResult> {
  const chunks = envInt('BENCH_SERVE_CHUNKS', 10_000)
  const words = envInt('BENCH_SERVE_WORDS', 64)
  const clients = Math.max(1, envInt('BENCH_SERVE_CLIENTS', 8))
  const requests = Math.max(1, envInt('BENCH_SERVE_REQUESTS', 48))
  const warmup = envInt('BENCH_SERVE_WARMUP', 3)
  const maxTokens = Math.max(1, envInt('BENCH_SERVE_MAX_TOKENS', 32))
  const maxConcurrent = Math.max(1, envInt('BENCH_SERVE_MAX_CONCURRENT', 1))
  const budgetMs = envInt('BENCH_SERVE_MAX_S', 240) * 1000
  const logRows = Math.max(1, envInt('BENCH_SERVE_LOG_ROWS', 500))
  // generator.threads: left unset, node-llama-cpp picks its maxThreads (4 on a 2-core box) and decoding
  // collapses (~0.3 tokens/s here instead of ~55); 0 leaves it unset to measure exactly that.
  const threads = envInt('BENCH_SERVE_THREADS', availableParallelism())
  const notes: string[] = []
  const stale = await staleBuildWarning()
  if (stale) {
    note(stale)
    notes.push(stale)
  }

  // Models and the index, generated once into bench/.cache; none of this is timed.
  const probe = await loadBenchEncoder(DEFAULTS.models.embedder.batchSize)
  const encoder = { id: probe.id, dimensions: probe.dimensions }
  await probe.dispose()
  const rerankerDir = await ensureBenchModel('minilm-l6-cross-encoder-random', MINILM_L6_CROSS_ENCODER)
  const gguf = await ensureSmolLm2('q8_0')
  const index = await ensureServeIndex({ chunks, words, perDoc: 50, embeddingModel: encoder.id, dimensions: encoder.dimensions })
  if (index.built) note(`serve: index built in ${fmt(index.buildMs / 1000)} s`)

  const requestTimeoutMs = Math.max(120_000, budgetMs + 60_000)
  const tempRoot = await mkdtemp(join(tmpdir(), 'ragtune-bench-serve-'))
  let server: ServerProc | undefined
  try {
    // A private copy of the cached index, so the query log rows of this run never reach the cache.
    await cp(index.dataDir, join(tempRoot, 'data'), { recursive: true })
    const config = {
      dataDir: 'data',
      models: { offline: true, embedder: { model: encoder.id }, reranker: { model: rerankerDir } },
      generator: { model: gguf.path, maxTokens, temperature: 0, ...(threads > 0 ? { threads } : {}) },
      // maxQueue >= clients: the 8 clients wait in the server's queue instead of getting 503.
      server: { host: '127.0.0.1', maxConcurrent, maxQueue: Math.max(32, clients), requestTimeoutMs },
    }
    await writeFile(join(tempRoot, 'ragtune.config.json'), JSON.stringify(config, null, 2))

    note(`serve: starting \`ragtune serve\` (${chunks} chunks, SmolLM2-135M-shaped Q8_0 GGUF, ${fmt(gguf.bytes / 2 ** 20)} MiB)`)
    const s0 = performance.now()
    server = await startServe(tempRoot, 180_000)
    const startMs = performance.now() - s0
    const srv = server

    // Warm-up: ONNX sessions, llama context and PGlite caches, one request at a time.
    const warmQs = questions(17, warmup)
    for (const q of warmQs) {
      const r = await ask(srv.url, q, requestTimeoutMs)
      if (!r.ok) throw new Error(`warm-up request failed with ${r.status}: ${r.error}`)
    }

    note(`serve: ${requests} requests from ${clients} concurrent clients`)
    const timedQs = questions(23, requests)
    const samples: Sample[] = []
    const failures: Array<{ status: number; error: string }> = []
    let next = 0
    let lastEnd = 0
    const foreign = watchForeignLoad()
    const cpu0 = procCpuMs(srv.child.pid)
    const t0 = performance.now()
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < requests && performance.now() - t0 < budgetMs) {
          const q = timedQs[next++]!
          try {
            const r = await ask(srv.url, q, requestTimeoutMs)
            if (r.ok) samples.push(r.sample)
            else failures.push({ status: r.status, error: r.error })
          } catch (err) {
            failures.push({ status: 0, error: (err as Error).message })
          }
          lastEnd = performance.now()
          if ((samples.length + failures.length) % 8 === 0) note(`serve: ${samples.length + failures.length} of ${requests} done, ${fmt((lastEnd - t0) / 1000)} s`)
        }
      }),
    )
    const elapsedMs = lastEnd - t0
    const serverCpuPct = (100 * (procCpuMs(srv.child.pid) - cpu0)) / elapsedMs
    // watchForeignLoad counts the server (a child process) as another process: take its share out.
    const foreignPct = Math.max(0, foreign() - serverCpuPct / availableParallelism())
    const sent = samples.length + failures.length
    if (sent < requests) notes.push(`the ${budgetMs / 1000} s budget (BENCH_SERVE_MAX_S) ran out after ${sent} of ${requests} requests`)
    if (failures.length) notes.push(`${failures.length} request(s) failed: ${[...new Set(failures.map((f) => `${f.status} ${f.error}`))].slice(0, 3).join(' | ')}`)

    const exitCode = await stopServe(srv, 30_000)
    if (exitCode !== 0) notes.push(`ragtune serve exited ${exitCode}: ${srv.stderr().slice(-500)}`)
    server = undefined

    // The query log the server wrote, and the cost of writing it, on the same (now closed) store.
    const store = await PGliteStore.open({ dataDir: join(tempRoot, 'data', 'db') })
    let logged: QueryLogEntry[]
    let logWith: { ms: number[]; bytes: number }
    let logWithout: { ms: number[]; bytes: number }
    try {
      const ids = new Set(samples.map((s) => s.queryId))
      logged = (await store.listQueryLogs({ limit: requests + warmup + 100 })).filter((e) => ids.has(e.id))
      if (logged.length === 0) throw new Error('the server logged none of the timed requests')
      note(`serve: timing ${logRows} query-log appends with prompts and ${logRows} without`)
      await timeLogAppends(store, logged, 20, true) // warm-up
      logWith = await timeLogAppends(store, logged, logRows, true)
      logWithout = await timeLogAppends(store, logged, logRows, false)
    } finally {
      await store.close()
    }

    // Per-request numbers.
    const col = (f: (s: Sample) => number | null): number[] => samples.map(f).filter((v): v is number => v !== null && Number.isFinite(v))
    const latency = summarize(col((s) => s.latencyMs))
    const total = summarize(col((s) => s.timings.totalMs))
    const retrieveS = summarize(col((s) => s.timings.retrieveMs))
    const rerankS = summarize(col((s) => s.timings.rerankMs))
    const prefill = summarize(col((s) => (s.timings.firstTokenMs === null ? null : s.timings.firstTokenMs - s.timings.retrieveMs - s.timings.rerankMs)))
    const decode = summarize(col((s) => (s.timings.firstTokenMs === null ? null : s.timings.totalMs - s.timings.firstTokenMs)))
    const generation = summarize(col((s) => s.timings.totalMs - s.timings.retrieveMs - s.timings.rerankMs))
    const serverMs = summarize(col((s) => srv.requestMs.get(s.queryId) ?? null))
    const logMs = summarize(logWith.ms)
    const logNoPromptMs = summarize(logWithout.ms)
    const queue = summarize(col((s) => {
      const ms = srv.requestMs.get(s.queryId)
      return ms === undefined ? null : ms - s.timings.totalMs - logMs.mean
    }))
    const transport = summarize(col((s) => {
      const ms = srv.requestMs.get(s.queryId)
      return ms === undefined ? null : s.latencyMs - ms
    }))
    const stages = (f: (e: QueryLogEntry) => number | undefined): LatencySummary => summarize(logged.map(f).filter((v): v is number => typeof v === 'number'))
    const embedS = stages((e) => e.retrieval?.timings.embedMs)
    const denseS = stages((e) => e.retrieval?.timings.denseMs)
    const lexicalS = stages((e) => e.retrieval?.timings.lexicalMs)
    const promptTokens = mean(col((s) => s.promptTokens))
    const completionTokens = mean(col((s) => s.completionTokens))

    // Service time = answer()'s totalMs (retrieval, rerank, prompt, generation) + the log write after it.
    const serviceMean = total.mean + logMs.mean
    const overheadMean = retrieveS.mean + rerankS.mean + logMs.mean
    const overheadPct = pct(overheadMean, serviceMean)
    const rps = (samples.length * 1000) / elapsedMs
    const wallPerRequest = elapsedMs / Math.max(1, samples.length)
    // Only with one answer at a time do requests' service times add up to the wall time.
    const unattributed = maxConcurrent === 1 ? wallPerRequest - serviceMean : NaN

    printTable(
      `serve: \`ragtune serve\` over ${chunks} chunks (${words}-word texts), ${clients} concurrent clients, ${samples.length} timed requests after ${warmup} warm-up; SmolLM2-135M-shaped Q8_0 GGUF, ${threads > 0 ? threads : 'default'} threads, maxTokens ${maxTokens}, greedy; hybrid + rerank (${DEFAULTS.retrieval.candidates} candidates, top ${DEFAULTS.retrieval.topK}); server.maxConcurrent ${maxConcurrent} (random weights: SPEED ONLY)`,
      ['clients', 'requests ok', 'failed', 'seconds', 'requests/s', 'p50 ms', 'p99 ms', 'mean ms', 'server CPU %', 'other procs %'],
      [[clients, samples.length, failures.length, elapsedMs / 1000, rps, latency.p50, latency.p99, latency.mean, serverCpuPct, foreignPct]],
    )
    const row = (label: string, s: LatencySummary, share: boolean): Array<string | number> => [label, s.p50, s.p99, s.mean, share ? pct(s.mean, serviceMean) : NaN]
    printTable('serve: where a request\'s time goes (ms; "% of service" = share of the mean service time, answer() + log write)', ['stage', 'p50', 'p99', 'mean', '% of service'], [
      row('retrieve (query embed, dense + lexical, fuse)', retrieveS, true),
      row('  query embed (from the query log)', embedS, false),
      row('  dense search (from the query log)', denseS, false),
      row('  lexical search (from the query log)', lexicalS, false),
      row(`rerank ${DEFAULTS.retrieval.candidates} candidates`, rerankS, true),
      row('generation: prompt eval + first token', prefill, true),
      row(`generation: decode (${fmt(completionTokens)} tokens in all)`, decode, true),
      row('generation in all (incl. prompt building)', generation, true),
      row('answer() total (response timings.totalMs)', total, true),
      row('query log write (in-process, per row)', logMs, true),
      ['service: answer() + log write', NaN, NaN, serviceMean, 100],
      row('server time per request (its request log line)', serverMs, false),
      row('  waiting for a slot (server time - service)', queue, false),
      row('client - server time (HTTP over loopback)', transport, false),
      row('client latency', latency, false),
    ])
    printTable('serve: ragtune overhead and logging cost', ['measure', 'value'], [
      ['ragtune overhead (retrieve + rerank + log write), ms per request', overheadMean],
      ['ragtune overhead, % of service time', overheadPct],
      ['  retrieve %', pct(retrieveS.mean, serviceMean)],
      ['  rerank %', pct(rerankS.mean, serviceMean)],
      ['  log write %', pct(logMs.mean, serviceMean)],
      ['wall time per request (1 / requests/s), ms', wallPerRequest],
      ['  not in service time (HTTP, fastify, JSON, slot hand-off), ms', unattributed],
      [`log append with prompt: ms per row p50 / p99 (${logRows} rows, ${fmt(logWith.bytes / 1024)} KiB JSON each)`, `${fmt(logMs.p50)} / ${fmt(logMs.p99)}`],
      [`log append without prompt (observe.logPrompts false): ms per row p50 / p99 (${fmt(logWithout.bytes / 1024)} KiB)`, `${fmt(logNoPromptMs.p50)} / ${fmt(logNoPromptMs.p99)}`],
      ['prompt tokens per request (mean)', promptTokens],
      ['prompt eval, tokens/s (p50 prompt eval + first token)', (promptTokens * 1000) / prefill.p50],
      ['decode, tokens/s (p50)', ((completionTokens - 1) * 1000) / decode.p50],
      ['server start (load models, open store), s', startMs / 1000],
    ])

    notes.push(
      `Chunk texts are ${words} words (random 384-d unit vectors stored under the bge-small-shaped encoder's id, like the search benchmark), so prompts are ~${fmt(promptTokens)} tokens; real 512-token chunks make prompts ~${fmt(512 / (words + 10))}x longer and reranking dearer (see the search benchmark's 510-token row), which moves the shares both ways.`,
      `Generation stops at maxTokens ${maxTokens} (the random model never emits an end token), greedy; a real answer of a few hundred tokens makes generation a larger share and ragtune's overhead a smaller one.`,
      `server.maxConcurrent ${maxConcurrent}, maxQueue ${Math.max(32, clients)}: with one llama sequence, generation is serialized anyway, so ${maxConcurrent === 1 ? 'answer()\'s totalMs is pure service time and waiting shows up as slot time' : 'a second running answer waits for the generator inside answer(): its totalMs includes that wait, which inflates service time'}.`,
      `generator.threads ${threads > 0 ? `${threads} (BENCH_SERVE_THREADS)` : 'unset: node-llama-cpp\'s default'}. "server CPU %" is the server process's CPU time over the timed wall time (100 = one core); "other procs %" leaves the server out, while the runtime table's column counts it as another process.`,
      'Log write: store.appendQueryLog of this run\'s own logged entries (fresh ids), in-process on the same PGlite store after the server stopped; inside the server it runs after totalMs is taken, so it is added to service time.',
    )
    const overheadGoal = { goal: 'ragtune overhead (retrieve + rerank + log) % of service time', value: overheadPct, target: '< 10%', met: overheadPct < 10 }
    return {
      data: {
        chunks, words, clients, requests, warmup, maxTokens, maxConcurrent, threads, model: { path: gguf.path, bytes: gguf.bytes, shape: SMOLLM2_Q8 },
        index: { built: index.built, buildMs: index.buildMs },
        startMs, elapsedMs, ok: samples.length, failed: failures.length, failures: failures.slice(0, 10), requestsPerSecond: rps, serverCpuPct, foreignPct,
        latency, serverMs, queue, transport, total, retrieve: retrieveS, rerank: rerankS, embed: embedS, dense: denseS, lexical: lexicalS, prefill, decode, generation,
        log: { withPrompt: logMs, withoutPrompt: logNoPromptMs, bytesWithPrompt: logWith.bytes, bytesWithoutPrompt: logWithout.bytes, rows: logRows },
        promptTokens, completionTokens, serviceMeanMs: serviceMean, overheadMeanMs: overheadMean, overheadPct, wallPerRequestMs: wallPerRequest, unattributedMs: unattributed,
        samples,
      },
      goals: [overheadGoal],
      notes,
    }
  } finally {
    if (server) await stopServe(server, 10_000)
    await rm(tempRoot, { recursive: true, force: true })
  }
}
