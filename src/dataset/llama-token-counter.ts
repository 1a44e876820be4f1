import { basename } from 'node:path'
import { RagtuneError } from '../errors.js'
import { chatWrapperFor, renderChat } from '../models/llama/chat-prompt.js'
import { llamaRuntime } from '../models/llama/llama-runtime.js'
import type { ChatMessage } from '../spec/generator.js'
import type { TokenCounter } from './token-count.js'

/** Tokens that close the assistant's turn after the target (an end-of-turn marker). */
const END_OF_TURN = 1

/**
 * Exact counts from the generator's own GGUF: the prompt rendered by the model's chat template (the
 * same renderChat inference uses) plus the target's tokens and its end-of-turn marker. Only the
 * vocabulary is loaded, not the weights, so this costs megabytes even for a 7B model.
 */
export async function llamaTokenCounter(modelPath: string): Promise<TokenCounter> {
  const llama = await llamaRuntime(false)
  let model: Awaited<ReturnType<typeof llama.loadModel>>
  try {
    model = await llama.loadModel({ modelPath, vocabOnly: true, gpuLayers: 0 })
  } catch (error) {
    throw new RagtuneError('MODEL_LOAD_FAILED', `could not read the tokenizer of ${modelPath}: ${String(error)}`, {
      details: { modelPath },
      hint: 'check generator.model, or leave it unset to count tokens approximately',
      cause: error,
    })
  }
  const wrapper = chatWrapperFor(model)
  return {
    name: `gguf:${basename(modelPath)}`,
    exact: true,
    count(messages: ChatMessage[]): number {
      const last = messages[messages.length - 1]
      const target = last?.role === 'assistant' ? last.content : null
      const prompt = target === null ? messages : messages.slice(0, -1)
      const promptTokens = renderChat(model, wrapper, prompt).tokens.length
      return promptTokens + (target === null ? 0 : model.tokenize(target).length + END_OF_TURN)
    },
    async dispose() {
      await model.dispose()
    },
  }
}
