import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import type { Llama } from 'node-llama-cpp'
import { RagtuneError } from '../../errors.js'
import { nodeLlamaCpp } from './lazy-llama.js'

/**
 * Process-wide pieces of the node-llama-cpp backend: one native binding per GPU setting (loading
 * it tests the prebuilt binaries, about a second), and content-hash ids for model and adapter
 * files, so the query log names exactly which weights answered.
 */

/** `false` runs on the CPU; `'auto'` uses CUDA, Vulkan or Metal when a prebuilt binary fits; a named backend fails loudly when it cannot load. */
export type LlamaGpuSetting = false | 'auto' | 'cuda' | 'vulkan' | 'metal'

const runtimes = new Map<string, Promise<Llama>>()

/**
 * The shared binding. Only the prebuilt binaries that ship in npm packages are used: never a
 * download of llama.cpp sources and never a local build, so an offline machine behaves the same
 * every time (node-llama-cpp's default would try to compile when no prebuilt binary fits).
 */
export function llamaRuntime(gpu: LlamaGpuSetting = false): Promise<Llama> {
  const key = String(gpu)
  let runtime = runtimes.get(key)
  if (!runtime) {
    runtime = nodeLlamaCpp()
      .then(({ getLlama, LlamaLogLevel }) => getLlama({ gpu, build: 'never', skipDownload: true, usePrebuiltBinaries: true, progressLogs: false, logLevel: LlamaLogLevel.warn }))
      .catch((error: unknown) => {
        runtimes.delete(key)
        throw new RagtuneError('UNSUPPORTED_PLATFORM', `node-llama-cpp has no working prebuilt binary for ${process.platform}-${process.arch} (gpu: ${key}): ${String(error)}`, {
          details: { platform: process.platform, arch: process.arch, gpu },
          hint: gpu === false ? 'reinstall node-llama-cpp so npm adds its @node-llama-cpp/<platform> package' : 'retry with gpu: false to run on the CPU',
          cause: error,
        })
      })
    runtimes.set(key, runtime)
  }
  return runtime
}

const hashes = new Map<string, Promise<string>>()

/** Hex sha256 of a file, cached per path, size and mtime (a 4 GB model takes seconds to hash). */
export async function fileSha256(path: string): Promise<string> {
  const info = await stat(path)
  const key = `${path}\0${info.size}\0${info.mtimeMs}`
  let hash = hashes.get(key)
  if (!hash) {
    hash = new Promise<string>((resolve, reject) => {
      const h = createHash('sha256')
      createReadStream(path)
        .on('data', (chunk) => h.update(chunk))
        .on('error', reject)
        .on('end', () => resolve(h.digest('hex')))
    })
    hash.catch(() => hashes.delete(key))
    hashes.set(key, hash)
  }
  return hash
}

/** `<file name>@<first 12 hex digits of its sha256>`: readable, and changes whenever the weights do. */
export async function fileId(path: string): Promise<string> {
  return `${basename(path)}@${(await fileSha256(path)).slice(0, 12)}`
}
