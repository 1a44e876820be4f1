import type { EmbeddingModel } from '../../src/spec/embedding-model.js'
import type { Loader } from '../../src/spec/loader.js'
import type { Store } from '../../src/spec/store.js'

/**
 * Where the indexer's time goes, measured from the outside: thin proxies around the embedder, the
 * loaders and the store add one performance.now() pair per call (microseconds against seconds of
 * encoder work) and change nothing else. Stages overlap (the next file is loaded while a batch
 * embeds), so the parts can add up to more than the wall time.
 */
export interface StageTimes {
  /** Wall time inside doEmbed (tokenize + pad + ONNX run + pooling). */
  embedMs: number
  embedCalls: number
  /** Time in countTokens: the chunker's token counting (doEmbed tokenizes on its own). */
  countTokensMs: number
  countTokensCalls: number
  loadMs: number
  storeWriteMs: number
  storeWrites: number
  /** store.bulkLoad's own work around the run: dropping and rebuilding the vector index. */
  bulkIndexMs: number
}

export function newStageTimes(): StageTimes {
  return { embedMs: 0, embedCalls: 0, countTokensMs: 0, countTokensCalls: 0, loadMs: 0, storeWriteMs: 0, storeWrites: 0, bulkIndexMs: 0 }
}

/** Replaces the methods named in `wrap` on a proxy; everything else reaches the target untouched. */
function wrapMethods<T extends object>(target: T, wrap: Partial<Record<keyof T, (fn: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown>>): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      const bound = (value as (...a: unknown[]) => unknown).bind(t)
      const wrapper = wrap[prop as keyof T]
      return wrapper ? wrapper(bound) : bound
    },
  })
}

const timeAsync = (add: (ms: number) => void) => (fn: (...a: unknown[]) => unknown) => async (...args: unknown[]) => {
  const t0 = performance.now()
  try {
    return await fn(...args)
  } finally {
    add(performance.now() - t0)
  }
}

export function instrumentEmbedder(embedder: EmbeddingModel, times: StageTimes): EmbeddingModel {
  return wrapMethods(embedder, {
    doEmbed: timeAsync((ms) => ((times.embedMs += ms), times.embedCalls++)),
    countTokens: (fn) => (...args: unknown[]) => {
      const t0 = performance.now()
      const n = fn(...args)
      times.countTokensMs += performance.now() - t0
      times.countTokensCalls++
      return n
    },
  })
}

export function instrumentStore(store: Store, times: StageTimes): Store {
  return wrapMethods(store, {
    replaceDocument: timeAsync((ms) => ((times.storeWriteMs += ms), times.storeWrites++)),
    bulkLoad: (fn) => async (...args: unknown[]) => {
      const work = args[0] as () => Promise<unknown>
      let inner = 0
      const t0 = performance.now()
      const result = await fn(async () => {
        const w0 = performance.now()
        try {
          return await work()
        } finally {
          inner = performance.now() - w0
        }
      })
      times.bulkIndexMs += performance.now() - t0 - inner
      return result
    },
  })
}

export function instrumentLoaders(loaders: Loader[], times: StageTimes): Loader[] {
  return loaders.map((l) => wrapMethods(l, { doLoad: timeAsync((ms) => (times.loadMs += ms)) }))
}
