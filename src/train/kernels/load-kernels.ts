import { availableParallelism } from 'node:os'
import { RagtuneError } from '../../errors.js'
import { JsKernels } from './js-kernels.js'
import type { Kernels } from './kernels.js'
import { NativeKernels } from './native-kernels.js'

export interface LoadKernelsOptions {
  /** 'auto' (default): native when the addon loads, else JS with a warning. 'native' fails instead. */
  backend?: 'auto' | 'native' | 'js'
  /** Native thread count; default one per core (os.availableParallelism()). JS always runs on one. */
  threads?: number
}

/** Kernels plus the non-fatal problems met choosing them (e.g. why JS runs instead of native). */
export type LoadedKernels = Kernels & { readonly warnings: readonly string[] }

const MAX_THREADS = 256
/** One native instance (one thread pool) per thread count for the whole process. */
const nativeByThreads = new Map<number, NativeKernels>()

/** The trainer's kernels: the C++ addon when it was built, the TypeScript reference otherwise. */
export function loadKernels(opts: LoadKernelsOptions = {}): LoadedKernels {
  const backend = opts.backend ?? 'auto'
  if (backend !== 'auto' && backend !== 'native' && backend !== 'js') {
    throw new RagtuneError('INVALID_OPTIONS', `kernels backend must be 'auto', 'native' or 'js', got ${String(backend)}`)
  }
  const threads = opts.threads ?? availableParallelism()
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new RagtuneError('INVALID_OPTIONS', `kernels threads must be an integer in [1, ${MAX_THREADS}], got ${String(threads)}`)
  }
  if (backend === 'js') return new JsKernels()
  try {
    let kernels = nativeByThreads.get(threads)
    if (!kernels) {
      kernels = new NativeKernels(threads)
      nativeByThreads.set(threads, kernels)
    }
    return kernels
  } catch (err) {
    if (backend === 'native' || !(err instanceof RagtuneError) || err.code !== 'NATIVE_KERNELS_UNAVAILABLE') throw err
    return new JsKernels({ warnings: [`${err.message.split('\n')[0]}; training runs on the much slower JS kernels (fix: ${err.hint})`] })
  }
}
