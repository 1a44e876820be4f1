import { RagtuneError } from '../../errors.js'
import { COMMON_WORDS } from '../tiny/common-words.js'

/**
 * A byte-level BPE vocabulary (GPT-2 style, `tokenizer.ggml.model = "gpt2"`) built without any
 * training corpus: 256 byte tokens, so every UTF-8 string tokenizes and decodes back exactly, then
 * merges that spell common English words (with and without a leading space), then letter
 * combinations until the requested size, then the ChatML control tokens.
 */

/** ChatML's control tokens: the chat template wraps every turn in them. */
export const CHATML_TOKENS = { endOfText: '<|endoftext|>', imStart: '<|im_start|>', imEnd: '<|im_end|>' } as const

/**
 * ChatML as a Jinja template (the form GGUF's `tokenizer.chat_template` holds); node-llama-cpp
 * recognizes it and renders prompts with its ChatML wrapper, exactly as the template would.
 */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

/** llama.cpp token types (`tokenizer.ggml.token_type`). */
export const TOKEN_TYPE = { normal: 1, control: 3 } as const

/** 256 byte tokens + 3 control tokens: the smallest vocabulary that still encodes any text. */
export const MIN_VOCAB_SIZE = 256 + Object.keys(CHATML_TOKENS).length

export interface ByteBpeVocab {
  /** Token strings in id order, bytes written with the GPT-2 byte-to-character map. */
  tokens: string[]
  tokenTypes: Int32Array
  /** "left right" pairs, highest priority first; each one's result is a token. */
  merges: string[]
  bos: number
  eos: number
  pad: number
}

/** GPT-2's map from bytes to printable characters, so tokens never hold spaces or control bytes. */
export function byteToUnicode(): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)
  const out: string[] = []
  let extra = 0
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(printable(b) ? b : 256 + extra++)
  return out
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz'

/** Strings of lowercase letters of one length, in lexicographic order. */
function* letterStrings(length: number): Generator<string> {
  if (length === 0) {
    yield ''
    return
  }
  for (const head of letterStrings(length - 1)) for (const c of LETTERS) yield head + c
}

/** Builds a vocabulary of exactly `size` tokens; deterministic for a given word list. */
export function buildByteBpeVocab(size: number): ByteBpeVocab {
  if (!Number.isInteger(size) || size < MIN_VOCAB_SIZE) {
    throw new RagtuneError('INVALID_OPTIONS', `vocab size must be an integer of at least ${MIN_VOCAB_SIZE} (256 bytes + 3 control tokens), got ${size}`, {
      details: { size },
    })
  }
  const byteChars = byteToUnicode()
  const tokens = [...byteChars]
  const known = new Set(tokens)
  const merges: string[] = []
  const target = size - MIN_VOCAB_SIZE
  const space = byteChars[0x20] as string

  /** Adds `word` through the chain of its prefixes: "Ġt h" → "Ġth", "Ġth e" → "Ġthe". */
  const addWord = (word: string): boolean => {
    const chars = [...word]
    let prefix = chars[0] as string
    for (const c of chars.slice(1)) {
      if (merges.length >= target) return false
      const merged = prefix + c
      if (!known.has(merged)) {
        merges.push(`${prefix} ${c}`)
        tokens.push(merged)
        known.add(merged)
      }
      prefix = merged
    }
    return merges.length < target
  }

  const encode = (text: string): string => [...Buffer.from(text, 'utf8')].map((b) => byteChars[b]).join('')
  fill: {
    for (const word of COMMON_WORDS) {
      const capitalized = word.charAt(0).toUpperCase() + word.slice(1)
      for (const variant of [space + encode(word), encode(word), space + encode(capitalized)]) if (!addWord(variant)) break fill
    }
    for (let length = 1; ; length++) {
      for (const letters of letterStrings(length)) for (const variant of [space + letters, letters]) if (!addWord(variant)) break fill
    }
  }

  const bos = tokens.push(CHATML_TOKENS.endOfText) - 1
  tokens.push(CHATML_TOKENS.imStart)
  const eos = tokens.push(CHATML_TOKENS.imEnd) - 1
  const tokenTypes = new Int32Array(tokens.length).fill(TOKEN_TYPE.normal)
  tokenTypes.fill(TOKEN_TYPE.control, bos)
  return { tokens, tokenTypes, merges, bos, eos, pad: bos }
}
