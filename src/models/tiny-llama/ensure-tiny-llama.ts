import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureGeneratedDir } from '../generated-dir.js'
import { encodeGguf } from './gguf-writer.js'
import type { TinyLlamaOptions } from './tiny-llama.js'
import { tinyLlamaGguf } from './tiny-llama.js'
import { tinyLoraGguf } from './tiny-lora.js'

/**
 * The shared tiny Llama models that tests and the offline demo load: F32 and Q8_0 versions of one
 * model and a LoRA adapter for it. The folder is regenerated whenever its content hash changes
 * (generator edits included) and replaced by an atomic rename, so parallel test workers never
 * see a half-written model.
 */

/** Written last into the folder; its hash says which generator output the folder holds. */
export const TINY_LLAMA_MARKER_FILE = '.ragtune-tiny-llama.json'

/** The shared base: the tiny shape, untied, seed 42. */
export const TINY_LLAMA_BASE_OPTIONS: Partial<TinyLlamaOptions> = {}

export interface TinyLlamaPaths {
  f32: string
  q8_0: string
  /** A rank-4 adapter on q, k, v, o that fits both base files. */
  lora: string
}

const FILES = { f32: 'tiny-llama-f32.gguf', q8_0: 'tiny-llama-q8_0.gguf', lora: 'tiny-llama-lora.gguf' } as const

/** The three files' bytes; about 1 MB in all, generated in well under a second. */
export function buildTinyLlamaFiles(): Record<keyof TinyLlamaPaths, Buffer> {
  return {
    f32: encodeGguf(tinyLlamaGguf({ ...TINY_LLAMA_BASE_OPTIONS, type: 'f32' })),
    q8_0: encodeGguf(tinyLlamaGguf({ ...TINY_LLAMA_BASE_OPTIONS, type: 'q8_0' })),
    lora: encodeGguf(tinyLoraGguf(TINY_LLAMA_BASE_OPTIONS)),
  }
}

/** Hash over every file's name and contents: equal generator output gives equal hashes. */
export function hashTinyLlamaFiles(files: Record<keyof TinyLlamaPaths, Buffer>): string {
  const hash = createHash('sha256')
  for (const key of Object.keys(FILES) as Array<keyof TinyLlamaPaths>) hash.update(`${FILES[key]}\0${files[key].byteLength}\0`).update(files[key])
  return hash.digest('hex')
}

function pathsIn(dir: string): TinyLlamaPaths {
  return { f32: join(dir, FILES.f32), q8_0: join(dir, FILES.q8_0), lora: join(dir, FILES.lora) }
}

/** Makes sure `rootDir/tiny-llama` holds the current generator's output and returns the file paths. */
export async function ensureTinyLlama(rootDir: string): Promise<TinyLlamaPaths> {
  await mkdir(rootDir, { recursive: true })
  const dir = join(rootDir, 'tiny-llama')
  const files = buildTinyLlamaFiles()
  const sha256 = hashTinyLlamaFiles(files)
  await ensureGeneratedDir({
    dir,
    marker: TINY_LLAMA_MARKER_FILE,
    sha256,
    write: async (staging) => {
      await mkdir(staging, { recursive: true })
      for (const key of Object.keys(FILES) as Array<keyof TinyLlamaPaths>) await writeFile(join(staging, FILES[key]), files[key])
    },
  })
  return pathsIn(dir)
}
