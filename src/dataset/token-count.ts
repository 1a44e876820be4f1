import type { ChatMessage } from '../spec/generator.js'

/**
 * Counts the tokens of one training example (prompt and target) as the trainer will see them. The
 * builder takes any implementation; ragtune ships an exact one (the generator's GGUF tokenizer and
 * chat template, llama-token-counter.ts) and this approximation for when no model is at hand.
 */
export interface TokenCounter {
  /** Shown in the build report, e.g. `gguf:qwen2.5-0.5b-instruct-q8_0.gguf` or `approx:chars/3`. */
  readonly name: string
  /** false for approximations; the report says so. */
  readonly exact: boolean
  /** Tokens of the whole conversation (last message: the target), chat-template markers included. */
  count(messages: ChatMessage[]): number | Promise<number>
  dispose?(): Promise<void>
}

/** Tokens a chat template adds per message (role markers) in the approximation. */
const PER_MESSAGE = 4

/**
 * One token per three characters plus four per message. BPE tokenizers of current models average
 * about four characters per token on English prose, so this over-counts English (an example it
 * passes fits) and is closer for code, numbers and other languages.
 */
export const approximateTokenCounter: TokenCounter = {
  name: 'approx:chars/3+4/message',
  exact: false,
  count: (messages) => messages.reduce((n, m) => n + Math.ceil(m.content.length / 3) + PER_MESSAGE, 0),
}

/** A counter from a plain text → tokens function (e.g. a Hugging Face tokenizer's encode().length). */
export function tokenCounterFromFunction(name: string, countText: (text: string) => number, opts: { perMessage?: number; exact?: boolean } = {}): TokenCounter {
  const per = opts.perMessage ?? PER_MESSAGE
  return { name, exact: opts.exact ?? false, count: (messages) => messages.reduce((n, m) => n + countText(m.content) + per, 0) }
}
