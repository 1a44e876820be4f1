import { RagtuneError } from '../../errors.js'
import { COMMON_SUFFIXES, COMMON_WORDS } from './common-words.js'

/**
 * A deterministic WordPiece vocabulary. Every printable ASCII character and its `##` continuation
 * is present, so any ASCII word tokenizes without [UNK]; common words come next so typical text
 * gets realistic token counts.
 */

export const SPECIAL_TOKENS = { pad: '[PAD]', unk: '[UNK]', cls: '[CLS]', sep: '[SEP]', mask: '[MASK]' } as const

/** `'tiny'`: specials, characters and the built-in word list; `{size}`: padded with generated pieces. */
export type VocabOption = 'tiny' | { size: number }

const LETTERS = 'abcdefghijklmnopqrstuvwxyz'

function requiredTokens(): string[] {
  const chars: string[] = []
  for (let c = 33; c <= 126; c++) chars.push(String.fromCharCode(c))
  return [...Object.values(SPECIAL_TOKENS), ...chars, ...chars.map((c) => `##${c}`)]
}

function commonTokens(): string[] {
  const words = [...new Set(COMMON_WORDS)].sort()
  const pieces = [...new Set(COMMON_SUFFIXES)].sort().map((s) => `##${s}`)
  return [...words, ...pieces]
}

/** Letter pairs, then triples, each also as a continuation: realistic filler for large vocabularies. */
function* generatedTokens(): Generator<string> {
  for (const a of LETTERS) for (const b of LETTERS) yield a + b
  for (const a of LETTERS) for (const b of LETTERS) yield `##${a}${b}`
  for (const a of LETTERS) for (const b of LETTERS) for (const c of LETTERS) yield a + b + c
  for (const a of LETTERS) for (const b of LETTERS) for (const c of LETTERS) yield `##${a}${b}${c}`
  for (let i = 0; ; i++) yield `[unused${i}]`
}

/** The vocabulary in id order. */
export function buildVocab(option: VocabOption): string[] {
  const vocab = requiredTokens()
  const seen = new Set(vocab)
  const add = (token: string): void => {
    if (seen.has(token)) return
    seen.add(token)
    vocab.push(token)
  }
  for (const token of commonTokens()) add(token)
  if (option === 'tiny') return vocab

  const minimum = requiredTokens().length
  if (!Number.isInteger(option.size) || option.size < minimum) {
    throw new RagtuneError('INVALID_OPTIONS', `vocab size must be an integer >= ${minimum} (specials + ASCII characters), got ${option.size}`, {
      details: { size: option.size, minimum },
      hint: `use vocab: 'tiny' or {size: ${minimum}} or more`,
    })
  }
  if (vocab.length >= option.size) return vocab.slice(0, option.size)
  for (const token of generatedTokens()) {
    if (vocab.length >= option.size) break
    add(token)
  }
  return vocab
}
