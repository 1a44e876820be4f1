import { spawn, type ChildProcess } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { BIN, ragtune } from './cli.js'
import { makeCorpus } from './corpus.js'

/** Tiny offline models; callers add `server` settings and generator options. */
export function tinyConfig(extra: { server?: Record<string, unknown>; generator?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    models: { offline: true, embedder: { model: 'tiny' }, reranker: { model: 'tiny' } },
    generator: { model: 'tiny', maxTokens: 16, ...extra.generator },
    ...(extra.server ? { server: extra.server } : {}),
  }
}

/** Runs the CLI and fails loudly (with its stderr) unless it exits 0. */
export async function ragtuneOk(cwd: string, ...args: string[]): Promise<string> {
  const run = await ragtune(cwd, ...args)
  if (run.code !== 0) throw new Error(`ragtune ${args.join(' ')} exited ${run.code}:\n${run.stderr}`)
  return run.stdout
}

/** A temp folder with a config and `docs/`, indexed with the built CLI. */
export async function indexedWorkspace(docs: Record<string, string>, config: Record<string, unknown>): Promise<string> {
  const files = Object.fromEntries(Object.entries(docs).map(([p, text]) => [`docs/${p}`, text]))
  const cwd = await makeCorpus(files, 'ragtune-serve-')
  await writeFile(path.join(cwd, 'ragtune.config.json'), JSON.stringify(config))
  await ragtuneOk(cwd, 'index', 'docs')
  return cwd
}

/** `ragtune keys create` → the key, printed once. */
export async function createKey(cwd: string, name: string, scope: 'query' | 'admin'): Promise<string> {
  return (JSON.parse(await ragtuneOk(cwd, 'keys', 'create', name, '--scope', scope, '--json')) as { key: string }).key
}

export interface ServeProcess {
  url: string
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves with the exit code. */
  exited: Promise<number>
}

/** Spawns `ragtune serve --port 0 ...args` and resolves once it prints its URL. */
export function startServe(cwd: string, ...args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : 0))))
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /serving (http:\/\/\S+)/.exec(out)
      if (m) resolve({ url: m[1]!, child, stdout: () => out, stderr: () => err, exited })
    })
    void exited.then((code) => reject(new Error(`ragtune serve exited ${code} before serving:\n${err}`)))
  })
}

/** A query key ("reader") and an admin key ("ops") for `cwd`, then `ragtune serve` there. */
export async function serveWithKeys(cwd: string, ...args: string[]): Promise<{ server: ServeProcess; reader: string; admin: string }> {
  const reader = await createKey(cwd, 'reader', 'query')
  const admin = await createKey(cwd, 'ops', 'admin')
  return { server: await startServe(cwd, ...args), reader, admin }
}

/** afterAll of a served workspace: kills the server if it still runs, then removes the folder. Either may be unset (a failed beforeAll). */
export async function stopServeAndRemove(server: ServeProcess | undefined, cwd: string | undefined): Promise<void> {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL')
  if (cwd) await rm(cwd, { recursive: true, force: true })
}

/** JSON POST with an optional bearer key. */
export function post(url: string, body: unknown, key?: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    ...init,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...(init.headers as Record<string, string>) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

/** Server-sent events of a finished response body, in order. */
export function parseSse(text: string): Array<{ event: string | null; data: string }> {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n')
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? null
      const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
      return { event, data }
    })
}
