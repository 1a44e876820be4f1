import { stat } from 'node:fs/promises'
import path from 'node:path'
import { resolveModelFile } from '../models/llama/lazy-llama.js'
import type { LoadedConfig } from '../config/load-config.js'
import { ensureTinyLlama } from '../models/tiny-llama/ensure-tiny-llama.js'
import { TINY_MODEL_ID } from '../workspace.js'
import { llamaTokenCounter } from './llama-token-counter.js'
import { approximateTokenCounter, type TokenCounter } from './token-count.js'

/**
 * The counter `ragtune dataset build` uses: the configured generator's GGUF tokenizer and chat
 * template when that file is on this machine (tiny, a local path, or an `hf:` model already in the
 * cache; nothing is downloaded just to count), else the stated approximation and the reason.
 */
export async function tokenCounterForConfig(loaded: LoadedConfig, dataDir: string): Promise<{ counter: TokenCounter; reason: string | null }> {
  const g = loaded.config.generator
  if (g.provider !== 'llama') return { counter: approximateTokenCounter, reason: `generator.provider is "${g.provider}": no local tokenizer` }
  let file: string | null = null
  if (g.model === TINY_MODEL_ID) file = (await ensureTinyLlama(path.join(dataDir, 'models'))).q8_0
  else if (g.model.startsWith('hf:')) {
    const dir = loaded.config.models.cacheDir ? path.resolve(loaded.baseDir, loaded.config.models.cacheDir) : path.join(dataDir, 'models')
    file = await resolveModelFile(g.model, { directory: dir, download: false, cli: false }).catch(() => null)
    if (file !== null && !(await isFile(file))) file = null
  } else {
    const local = path.resolve(loaded.baseDir, g.model)
    file = (await isFile(local)) ? local : null
  }
  if (file === null) return { counter: approximateTokenCounter, reason: `generator model ${g.model} is not on this machine` }
  return { counter: await llamaTokenCounter(file), reason: null }
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isFile() ?? false
}
