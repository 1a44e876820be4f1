import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SMOLLM2_135M_SHAPE, writeTinyLlama, type TinyLlamaOptions, type TinyLlamaTensorType } from '../../src/models/tiny-llama/tiny-llama.js'
import { note } from './format.js'
import { BENCH_DIR, CACHE_DIR } from './results.js'

const REPO = join(BENCH_DIR, '..')

/** SmolLM2-135M's exact shapes with random weights (seed 42): speed only, never quality. */
export function smolLm2Options(type: TinyLlamaTensorType): Partial<TinyLlamaOptions> {
  return { ...SMOLLM2_135M_SHAPE, type, seed: 42 }
}

/** sha256 over a JSON value and the (non-test) TypeScript sources of `dirs`: a cache key that changes with the generator code. */
export async function sourceKey(value: unknown, dirs: string[], extraFiles: string[] = []): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(value))
  for (const dir of dirs) {
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts')).sort()) {
      hash.update(`\0${name}\0`).update(await readFile(join(dir, name)))
    }
  }
  for (const file of extraFiles) hash.update(`\0${file}\0`).update(await readFile(file))
  return hash.digest('hex')
}

export async function markerKey(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').then((t) => (JSON.parse(t) as { key?: string }).key, () => undefined)
}

/**
 * The SmolLM2-135M-shaped GGUF under bench/.cache/models. Generating ~135M weights takes a while, so
 * the file is kept and rewritten only when the options or the generator's sources change.
 */
export async function ensureSmolLm2(type: TinyLlamaTensorType): Promise<{ path: string; bytes: number }> {
  const options = smolLm2Options(type)
  const dir = join(CACHE_DIR, 'models', `smollm2-135m-random-${type}`)
  const path = join(dir, 'model.gguf')
  const marker = join(dir, '.bench-model.json')
  const key = await sourceKey(options, [join(REPO, 'src', 'models', 'tiny-llama')])
  if ((await markerKey(marker)) === key) return { path, bytes: (await stat(path)).size }
  note(`generating the SmolLM2-135M-shaped ${type} GGUF (random weights; cached afterwards)`)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const written = await writeTinyLlama(`${path}.tmp`, options)
  await rename(`${path}.tmp`, path)
  await writeFile(marker, `${JSON.stringify({ key, options, sha256: written.sha256, bytes: written.bytes })}\n`)
  return { path, bytes: written.bytes }
}
