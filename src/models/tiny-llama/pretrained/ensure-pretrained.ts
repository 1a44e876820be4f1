import { createHash } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Kernels } from '../../../train/kernels/kernels.js'
import { loadKernels } from '../../../train/kernels/load-kernels.js'
import { ensureGeneratedDir } from '../../generated-dir.js'
import { encodeGguf } from '../gguf-writer.js'
import type { PretrainRecipe } from './pretrain-tiny.js'
import { DEFAULT_PRETRAIN_RECIPE, PRETRAIN_RECIPE_VERSION, pretrainTinyLlama } from './pretrain-tiny.js'

/**
 * The pre-trained tiny Llama (F32 and Q8_0), built once per recipe into `rootDir/tiny-llama-rag`
 * and reused: tests and the offline demo fine-tune it. About a minute on two cores, so the folder is
 * keyed by the recipe (not by its output, which would need the minute to know).
 */

export interface PretrainedTinyLlamaPaths {
  f32: string
  q8_0: string
  /** Loss of every pre-training step, for the record. */
  report: string
}

export const PRETRAINED_MARKER_FILE = '.ragtune-tiny-llama-rag.json'

export async function ensurePretrainedTinyLlama(
  rootDir: string,
  opts: { recipe?: PretrainRecipe; kernels?: Kernels; onStep?: (step: number, total: number, loss: number) => void } = {},
): Promise<PretrainedTinyLlamaPaths> {
  const recipe = opts.recipe ?? DEFAULT_PRETRAIN_RECIPE
  const dir = join(rootDir, 'tiny-llama-rag')
  await mkdir(rootDir, { recursive: true })
  const sha256 = createHash('sha256').update(JSON.stringify({ version: PRETRAIN_RECIPE_VERSION, recipe })).digest('hex')
  await ensureGeneratedDir({
    dir,
    marker: PRETRAINED_MARKER_FILE,
    sha256,
    write: async (staging) => {
      const result = await pretrainTinyLlama({ recipe, kernels: opts.kernels ?? loadKernels(), workDir: join(staging, 'work'), ...(opts.onStep ? { onStep: opts.onStep } : {}) })
      await writeFile(join(staging, 'tiny-llama-rag-f32.gguf'), encodeGguf(result.gguf('f32')))
      await writeFile(join(staging, 'tiny-llama-rag-q8_0.gguf'), encodeGguf(result.gguf('q8_0')))
      await rm(join(staging, 'work'), { recursive: true, force: true })
      await writeFile(join(staging, 'pretrain-report.json'), `${JSON.stringify({ recipe, losses: result.losses }, null, 2)}\n`)
    },
  })
  return { f32: join(dir, 'tiny-llama-rag-f32.gguf'), q8_0: join(dir, 'tiny-llama-rag-q8_0.gguf'), report: join(dir, 'pretrain-report.json') }
}
