export interface Chunk {
  /** Stable id: the same document text and settings always give the same ids. */
  id: string
  /** Position in the document, from 0. */
  ordinal: number
  text: string
  /** Markdown heading path in force where the chunk starts, outermost first. */
  headingPath: string[]
  tokenCount: number
  /** Character offsets of the chunk in the loaded text. */
  start: number
  end: number
}

export interface ChunkOptions {
  chunkTokens: number
  overlapTokens: number
}

export interface Chunker {
  chunk(input: { documentPath: string; text: string }, opts: ChunkOptions): Chunk[]
}
