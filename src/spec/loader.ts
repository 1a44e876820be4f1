/**
 * A loader turns the bytes of one file into text. Structure that retrieval needs (headings) is kept
 * as markdown `#` lines so that one markdown-aware chunker serves every format.
 */
export interface LoadedDocument {
  /** UTF-8 text; headings as markdown `#`..`######` lines at the start of a line. */
  text: string
  /** Title when the format carries one (html <title>, pdf metadata). */
  title?: string
}

export interface LoadInput {
  /** Path relative to the indexed root, with forward slashes. */
  path: string
  bytes: Uint8Array
}

export interface Loader {
  /** Lower-case file extensions without the dot, e.g. ['md', 'markdown']. */
  readonly extensions: readonly string[]
  /** Throws a RagtuneError (code LOAD_*) when the file cannot be read as this format. */
  doLoad(input: LoadInput, opts?: { signal?: AbortSignal }): Promise<LoadedDocument>
}
