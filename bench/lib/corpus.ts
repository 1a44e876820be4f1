import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { seededRandom, sentence, wordSampler } from './rng.js'

export interface CorpusOptions {
  files: number
  /** Chunks the whole corpus should cut into, about (the file sizes are drawn around it). */
  targetChunks: number
  /** Tokens per chunk and overlap, as the indexer will cut them (for the estimate only). */
  chunkTokens: number
  overlapTokens: number
  countTokens: (text: string) => number
  seed: number
}

export interface CorpusInfo {
  dir: string
  files: string[]
  bytes: number
  tokens: number
  estimatedChunks: number
}

/**
 * One markdown file of at most `maxTokens` tokens: a title, then sections of 1..4 paragraphs,
 * filled sentence by sentence until the next one would not fit.
 */
function markdownFile(random: () => number, word: () => string, index: number, maxTokens: number, countTokens: (t: string) => number): string {
  let text = `# Document ${index}: ${sentence(random, word).slice(0, -1)}\n\n`
  let tokens = countTokens(text)
  const add = (piece: string): boolean => {
    const n = countTokens(piece) + 1
    if (tokens + n > maxTokens) return false
    text += piece
    tokens += n
    return true
  }
  for (let s = 1; ; s++) {
    if (!add(`## Section ${s}: ${word()} ${word()} ${word()}\n\n`)) return text
    for (let p = 1 + Math.floor(random() * 4); p > 0; p--) {
      for (let k = 3 + Math.floor(random() * 6); k > 0; k--) if (!add(`${sentence(random, word)} `)) return text
      text = `${text.trimEnd()}\n\n`
    }
  }
}

/**
 * Writes `files` deterministic markdown files (10 per folder) into `dir`, replacing what was there.
 * File sizes are drawn so that each cuts into a whole number of chunks near targetChunks / files
 * (a file of n chunks holds between (n-1)*step+overlap and n*step+overlap tokens, step = chunk-overlap).
 */
export async function writeCorpus(dir: string, opts: CorpusOptions): Promise<CorpusInfo> {
  await rm(dir, { recursive: true, force: true })
  const random = seededRandom(opts.seed)
  const word = wordSampler(random)
  const info: CorpusInfo = { dir, files: [], bytes: 0, tokens: 0, estimatedChunks: 0 }
  const step = opts.chunkTokens - opts.overlapTokens
  const perFile = opts.targetChunks / opts.files
  for (let i = 0; i < opts.files; i++) {
    // Whole chunks around the mean (floor or ceil, at random, so the total comes out near the target).
    const n = Math.max(1, Math.floor(perFile) + (random() < perFile - Math.floor(perFile) ? 1 : 0))
    const maxTokens = Math.round((n - 1 + 0.55 + 0.4 * random()) * step + opts.overlapTokens)
    const text = markdownFile(random, word, i, maxTokens, opts.countTokens)
    const tokens = opts.countTokens(text)
    const rel = `part-${String(Math.floor(i / 10)).padStart(3, '0')}/doc-${String(i).padStart(5, '0')}.md`
    await mkdir(join(dir, rel, '..'), { recursive: true })
    await writeFile(join(dir, rel), text)
    info.files.push(rel)
    info.bytes += Buffer.byteLength(text)
    info.tokens += tokens
    info.estimatedChunks += Math.max(1, Math.ceil((tokens - opts.overlapTokens) / step))
  }
  return info
}

/**
 * Edits `fraction` of the files (at least one, spread evenly): one new sentence at the end of each.
 * Returns the edited paths.
 */
export async function editFiles(dir: string, files: readonly string[], fraction: number, seed: number): Promise<string[]> {
  const count = Math.max(1, Math.round(files.length * fraction))
  const random = seededRandom(seed)
  const word = wordSampler(random)
  const picked = Array.from({ length: count }, (_, k) => files[Math.floor((k * files.length) / count)]!)
  for (const rel of picked) {
    const text = await readFile(join(dir, rel), 'utf8')
    await writeFile(join(dir, rel), `${text}Edited: ${sentence(random, word)}\n`)
  }
  return picked
}
