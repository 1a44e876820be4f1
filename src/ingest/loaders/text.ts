import type { LoadedDocument, LoadInput, Loader } from '../../spec/loader.js'
import { throwIfAborted } from '../../errors.js'
import { decodeText } from './checks.js'

/** Plain text has no structure to recover; it is only checked (binary, UTF-8) and passed on. */
export class TextLoader implements Loader {
  readonly extensions = ['txt', 'text'] as const

  async doLoad(input: LoadInput, opts: { signal?: AbortSignal } = {}): Promise<LoadedDocument> {
    throwIfAborted(opts.signal)
    return { text: decodeText(input) }
  }
}
