import type { ChatHistoryItem, ChatWrapper, LlamaModel, LlamaText, Token } from 'node-llama-cpp'
import type { ChatMessage } from '../../spec/generator.js'
import { metadataValue } from './adapter-check.js'
import { loadedNodeLlamaCpp } from './lazy-llama.js'

/**
 * Turns chat messages into the exact tokens a GGUF model is fed. The model's own Jinja template
 * (tokenizer.chat_template) is preferred over node-llama-cpp's look-alike wrappers: it is what
 * Hugging Face's apply_chat_template renders, so prompts match what the model and our adapters
 * were trained on. Models without a template fall back to node-llama-cpp's detection.
 */

export interface RenderedChat {
  /** The tokens to evaluate, BOS included when the model adds one. */
  tokens: Token[]
  /** `tokens` decoded with special tokens spelled out: what the model saw, for the query log. */
  text: string
  /** What ends the assistant's turn besides the end-of-generation tokens (e.g. "<|im_end|>"). */
  stopTriggers: LlamaText[]
}

/** The chat wrapper for a model: its Jinja template when it has one, else node-llama-cpp's best guess. */
export function chatWrapperFor(model: LlamaModel): ChatWrapper {
  const hasTemplate = typeof metadataValue(model.fileInfo, 'tokenizer.chat_template') === 'string'
  // Holding a model means llamaRuntime() has imported node-llama-cpp already.
  const { resolveChatWrapper } = loadedNodeLlamaCpp()
  const wrapper = resolveChatWrapper(model, { type: hasTemplate ? 'jinjaTemplate' : 'auto', warningLogs: false })
  // resolveChatWrapper falls back to a general wrapper itself; null only for exotic inputs.
  return wrapper ?? (resolveChatWrapper(model, { type: 'general' }) as ChatWrapper)
}

function toHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history = messages.map((m): ChatHistoryItem => {
    if (m.role === 'assistant') return { type: 'model', response: [m.content] }
    return m.role === 'system' ? { type: 'system', text: m.content } : { type: 'user', text: m.content }
  })
  // An open model turn at the end renders the generation prompt ("<|im_start|>assistant\n").
  history.push({ type: 'model', response: [] })
  return history
}

/**
 * Renders and tokenizes `messages`. Message text is tokenized as plain text, so a user who types
 * "<|im_end|>" cannot end their turn early; only the template's own markers become control tokens.
 */
export function renderChat(model: LlamaModel, wrapper: ChatWrapper, messages: readonly ChatMessage[]): RenderedChat {
  const state = wrapper.generateContextState({ chatHistory: toHistory(messages) })
  const tokens = state.contextText.tokenize(model.tokenizer)
  const bos = model.tokens.bos
  if (model.tokens.shouldPrependBosToken && bos !== null && tokens[0] !== bos) tokens.unshift(bos)
  return { tokens, text: model.detokenize(tokens, true), stopTriggers: state.stopGenerationTriggers }
}
