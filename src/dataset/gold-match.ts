import { createHash } from 'node:crypto'
import { normalizeText, stripCitations, words } from '../analyze/text-features.js'
import type { GoldEvidence } from '../spec/dataset.js'

/** A chunk as the dataset builder handles it: retrieved, read back by id, or a label's own passage (chunkId null). */
export interface SourceChunk {
  chunkId: string | null
  documentPath: string
  headingPath: string[]
  text: string
}

/**
 * Whether a chunk is the gold evidence. Chunk ids are exact and win when the label has them (a
 * feedback correction citing [2]); otherwise the document (path, path without extension, or file
 * name without extension, so a PubMed id matches `12345.txt`) or the label's passage text decides.
 */
export function isGoldChunk(chunk: SourceChunk, gold: GoldEvidence): boolean {
  if (gold.chunkIds.length > 0) return chunk.chunkId !== null && gold.chunkIds.includes(chunk.chunkId)
  if (gold.documents.length > 0 && documentMatches(chunk.documentPath, gold.documents)) return true
  return gold.text !== null && passageMatches(chunk.text, gold.text)
}

export function documentMatches(path: string, documents: string[]): boolean {
  const noExt = path.replace(/\.[^./]+$/, '')
  const name = noExt.slice(noExt.lastIndexOf('/') + 1)
  return documents.some((d) => d === path || d === noExt || d === name)
}

/** Minimum share of a chunk's word trigrams found in the passage for the chunk to be (part of) it. */
const PASSAGE_TRIGRAM_SHARE = 0.6

/**
 * Whether a chunk is (part of) a passage: one contains the other after normalising case and spaces,
 * or most of the chunk's word trigrams occur in the passage (chunking may cut mid-sentence, add a
 * heading line or join two paragraphs).
 */
export function passageMatches(chunkText: string, passage: string): boolean {
  const body = chunkText.replace(/^#{1,6} .*$/gm, '')
  const a = normalizeText(body)
  const b = normalizeText(passage)
  if (a.length === 0 || b.length === 0) return false
  if (b.includes(a) || a.includes(b)) return true
  const cw = words(body)
  if (cw.length < 3) return false
  const pw = words(passage)
  const grams = new Set<string>()
  for (let i = 0; i + 3 <= pw.length; i++) grams.add(pw.slice(i, i + 3).join(' '))
  let found = 0
  for (let i = 0; i + 3 <= cw.length; i++) if (grams.has(cw.slice(i, i + 3).join(' '))) found++
  return found / (cw.length - 2) >= PASSAGE_TRIGRAM_SHARE
}

/**
 * Whether a chunk states a short answer verbatim ("Denver Broncos", "port 7500"): such a chunk must
 * not serve as a distractor in a context that is supposed to lack the answer. Long answers are never
 * verbatim in a source, so they do not count.
 */
export function bearsAnswer(chunkText: string, target: string): boolean {
  const answer = normalizeText(stripCitations(target)).replace(/[.!?]+$/, '').trim()
  const n = answer.split(' ').length
  if (answer.length < 3 || n > 12) return false
  return normalizeText(chunkText).includes(answer)
}

/**
 * Keys that tie questions to their evidence for the split: documents, chunk ids and the passage
 * text. Two questions sharing any key stay on one side of the split.
 */
export function evidenceKeys(gold: GoldEvidence, goldChunks: SourceChunk[]): string[] {
  const keys = new Set<string>()
  for (const d of gold.documents) keys.add(`doc:${d}`)
  for (const c of gold.chunkIds) keys.add(`chunk:${c}`)
  if (gold.text !== null) keys.add(`text:${createHash('sha256').update(normalizeText(gold.text)).digest('hex').slice(0, 24)}`)
  for (const c of goldChunks) {
    keys.add(`doc:${c.documentPath}`)
    if (c.chunkId !== null) keys.add(`chunk:${c.chunkId}`)
  }
  return [...keys]
}

/** The keys under which a chunk appearing in a context could leak evidence. */
export function chunkKeys(c: SourceChunk): string[] {
  return c.chunkId === null ? [`doc:${c.documentPath}`] : [`doc:${c.documentPath}`, `chunk:${c.chunkId}`]
}
