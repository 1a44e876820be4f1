import { createHash } from 'node:crypto'
import type { Chunk, ChunkOptions } from '../../spec/chunker.js'
import type { TokenCounter } from '../../spec/tokenizer.js'
import { RagtuneError } from '../../errors.js'
import { headingPathIndex } from './headings.js'

/** Separators tried in order: markdown headings first, then the "\n\n", "\n", ".", " ". */
const SEPARATORS: readonly RegExp[] = [/\n(?=#{1,6}[ \t])/g, /\n\n/g, /\n/g, /\.(?=\s)/g, / /g]

interface Atom {
  start: number
  end: number
  tokens: number
}

/**
 * Token-aware recursive splitter. Pieces keep their separator, so chunks are exact slices of the
 * text and offsets map back to the document. Token counts come from the embedding model's own
 * tokenizer: pieces are counted once, merged by sum, then each chunk is counted exactly and trimmed if
 * the tokenizer is not additive across the boundary.
 */
export class RecursiveSplitter {
  constructor(private readonly counter: TokenCounter) {}

  chunk(input: { documentPath: string; text: string }, opts: ChunkOptions): Chunk[] {
    const limit = Math.min(opts.chunkTokens, this.counter.maxInputTokens)
    const overlap = Math.min(opts.overlapTokens, Math.floor(limit / 2))
    if (limit < 1) throw new RagtuneError('CHUNK_INVALID', `chunk size must be at least 1 token, got ${limit}`)
    const { text } = input
    const atoms = this.split(text, 0, text.length, 0, limit)
    const headingAt = headingPathIndex(text)
    const chunks: Chunk[] = []
    let i = 0
    // Atoms before `fresh` were already emitted; a chunk must add at least one new atom.
    let fresh = 0
    while (fresh < atoms.length) {
      let j = i
      let sum = 0
      while (j < atoms.length && (j === i || sum + atoms[j]!.tokens <= limit)) sum += atoms[j++]!.tokens
      let [start, end, count] = this.exact(text, atoms, i, j)
      while (count > limit && j - i > 1) [start, end, count] = this.exact(text, atoms, i, --j)
      if (j <= fresh && i < fresh) {
        i = fresh // the overlap left no room for new text: start this chunk without it
        continue
      }
      const slice = text.slice(start, end)
      if (slice.trim().length > 0) {
        chunks.push({
          id: chunkId(input.documentPath, chunks.length, slice),
          ordinal: chunks.length,
          text: slice,
          headingPath: headingAt(atoms[Math.min(fresh, j - 1)]!.start),
          tokenCount: count,
          start,
          end,
        })
      }
      // Step back over whole atoms worth at most `overlap` tokens for the next chunk.
      let back = j
      let carried = 0
      while (back - 1 > i && carried + atoms[back - 1]!.tokens <= overlap) carried += atoms[--back]!.tokens
      fresh = j
      i = back
    }
    return chunks
  }

  private exact(text: string, atoms: Atom[], i: number, j: number): [number, number, number] {
    const start = atoms[i]!.start
    const end = atoms[j - 1]!.end
    return [start, end, this.counter.countTokens(text.slice(start, end))]
  }

  /** Splits [start, end) into atoms of at most `limit` tokens, using separators from `level` on. */
  private split(text: string, start: number, end: number, level: number, limit: number): Atom[] {
    const tokens = this.counter.countTokens(text.slice(start, end))
    if (tokens <= limit) return tokens === 0 && text.slice(start, end).trim() === '' ? mergeBlank(start, end) : [{ start, end, tokens }]
    if (level >= SEPARATORS.length) return this.hardSplit(text, start, end, limit)
    const pieces = piecesOf(text, start, end, SEPARATORS[level]!)
    if (pieces.length === 1) return this.split(text, start, end, level + 1, limit)
    return pieces.flatMap(([s, e]) => this.split(text, s, e, level + 1, limit))
  }

  /** Last resort for a run without separators (a long URL, base64): cut by characters, binary-searched. */
  private hardSplit(text: string, start: number, end: number, limit: number): Atom[] {
    const out: Atom[] = []
    let s = start
    while (s < end) {
      let lo = s + 1
      let hi = end
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1
        if (this.counter.countTokens(text.slice(s, mid)) <= limit) lo = mid
        else hi = mid - 1
      }
      // Never cut a surrogate pair in half (emoji, rare CJK): the halves would not survive storage.
      const high = text.charCodeAt(lo - 1)
      if (lo < end && lo - 1 > s && high >= 0xd800 && high <= 0xdbff) lo--
      out.push({ start: s, end: lo, tokens: this.counter.countTokens(text.slice(s, lo)) })
      s = lo
    }
    return out
  }
}

function mergeBlank(start: number, end: number): Atom[] {
  return [{ start, end, tokens: 0 }]
}

/** Cuts [start, end) after each separator match, keeping the separator with the piece before it. */
function piecesOf(text: string, start: number, end: number, sep: RegExp): Array<[number, number]> {
  const re = new RegExp(sep.source, 'g')
  re.lastIndex = start
  const out: Array<[number, number]> = []
  let s = start
  for (let m = re.exec(text); m && m.index < end; m = re.exec(text)) {
    const cut = m.index + m[0].length
    if (cut >= end) break
    if (cut > s) out.push([s, cut])
    s = cut
    if (m[0].length === 0) re.lastIndex++
  }
  out.push([s, end])
  return out
}

/** Same path, position and text give the same id on every run and machine. */
export function chunkId(documentPath: string, ordinal: number, text: string): string {
  return createHash('sha256').update(documentPath).update('\0').update(String(ordinal)).update('\0').update(text).digest('hex').slice(0, 32)
}
