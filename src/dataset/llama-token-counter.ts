import { basename } from 'node:path'
import { RagtuneError } from '../errors.js'
import { chatWrapperFor, renderChat } from '../models/llama/chat-prompt.js'
import { llamaRuntime } from '../models/llama/llama-runtime.js'
import type { ChatMessage } from '../spec/generator.js'
import { exampleTokens } from '../train/data/tokenize-records.js'
import type { TokenCounter } from './token-count.js'

/**
 * Exact counts from the generator's own GGUF. Messages ending in the assistant's target count as the
 * trainer tokenizes them (exampleTokens: the prompt rendered by the model's chat template, the same
 * renderChat inference uses, then the target and its end-of-turn marker); messages without a target
 * count as the rendered prompt alone. Only the vocabulary is loaded, not the weights, so this costs
 * megabytes even for a 7B model.
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
      if (last?.role !== 'assistant') return renderChat(model, wrapper, messages).tokens.length
      return exampleTokens(model, wrapper, messages.slice(0, -1), last.content).tokens.length
    },
    async dispose() {
      await model.dispose()
    },
  }
}
