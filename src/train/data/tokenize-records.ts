import type { ChatWrapper, LlamaModel, Token } from 'node-llama-cpp'
import { chatWrapperFor, renderChat } from '../../models/llama/chat-prompt.js'
import type { ChatMessage } from '../../spec/generator.js'
import type { TrainingRecord } from './training-records.js'

/**
 * Turns records into token sequences with the GGUF's own tokenizer and chat template (through
 * node-llama-cpp), so the trainer sees exactly the tokens inference feeds the model: the prompt is
 * rendered by the same `renderChat` the generator uses, then the answer's tokens as the model
 * would generate them, then the template's end-of-turn token, which the model must learn to emit.
 */

export interface TokenizedExample {
  line: number
  tokens: Int32Array
  /** Tokens before this index are prompt (not scored); from it to the end is the answer. */
  answerStart: number
}

export interface TokenizeReport {
  examples: TokenizedExample[]
  /** Records longer than maxLength: never cut (that would train on a truncated answer). */
  overLength: Array<{ line: number; tokens: number }>
}

/** The token(s) that close the assistant turn: the template's stop trigger, else end-of-generation. */
export function endOfTurnTokens(model: LlamaModel, stop: ReturnType<typeof renderChat>['stopTriggers']): Token[] {
  for (const trigger of stop) {
    const tokens = trigger.tokenize(model.tokenizer)
    if (tokens.length === 1) return tokens
  }
  const eos = model.tokens.eos
  return eos === null ? [] : [eos]
}

/**
 * The tokens one example trains on: `prompt` rendered by the chat template, `answer` as the model
 * would generate it, then the end-of-turn marker. The trainer and `dataset build`'s length filter
 * both count with this, so a record kept by the filter is never over length for the trainer.
 */
export function exampleTokens(model: LlamaModel, wrapper: ChatWrapper, prompt: readonly ChatMessage[], answer: string): { tokens: Token[]; answerStart: number } {
  const rendered = renderChat(model, wrapper, prompt)
  const tokens = [...rendered.tokens, ...model.tokenize(answer, false), ...endOfTurnTokens(model, rendered.stopTriggers)]
  return { tokens, answerStart: rendered.tokens.length }
}

export function tokenizeRecords(model: LlamaModel, records: readonly TrainingRecord[], maxLength: number): TokenizeReport {
  const wrapper = chatWrapperFor(model)
  const examples: TokenizedExample[] = []
  const overLength: TokenizeReport['overLength'] = []
  for (const record of records) {
    const { tokens, answerStart } = exampleTokens(model, wrapper, record.prompt, record.answer)
    if (tokens.length > maxLength) {
      overLength.push({ line: record.line, tokens: tokens.length })
      continue
    }
    examples.push({ line: record.line, tokens: Int32Array.from(tokens), answerStart })
  }
  return { examples, overLength }
}
