import type { AnswerResult } from '../answer/answer.js'
import { HttpError } from './http-error.js'
import type { ChatRequest } from './schemas.js'

/**
 * The question of a chat request: the LAST user message. Earlier turns (and system prompts) are
 * ignored, not folded in: ragtune retrieves for one question and writes its own grounded prompt, and
 * folding a conversation into the retrieval query would make retrieval depend on chat history the
 * log could not reproduce. The response's `ragtune.warnings` says how many messages were ignored.
 */
export function questionOf(messages: ChatRequest['messages']): { question: string; ignored: number } {
  let last = -1
  messages.forEach((m, i) => {
    if (m.role === 'user') last = i
  })
  if (last < 0) throw new HttpError(400, 'invalid_value', 'messages: expected at least one message with role "user" (the question)', 'messages')
  const content = messages[last]!.content
  const question = typeof content === 'string' ? content : (content ?? []).map((p) => p.text).join('\n')
  if (question.trim() === '') throw new HttpError(400, 'invalid_value', `messages.${last}.content: expected the question, got empty text`, `messages.${last}.content`)
  return { question, ignored: messages.length - 1 }
}

/** OpenAI's names for the token counts. */
export function chatUsage(u: AnswerResult['usage']): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  return { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens }
}

/** The model id clients see: the adapter when one is active (as vLLM names LoRA models), else the base. */
export function servedModel(r: Pick<AnswerResult, 'model' | 'adapter'>): string {
  return r.adapter ?? r.model
}

/** ragtune's additions to OpenAI's shapes; clients that do not know them ignore them. */
export function ragtuneExtra(r: AnswerResult, warnings: string[]): { queryId: string; citations: number[]; warnings: string[] } {
  return { queryId: r.queryId, citations: r.citations, warnings: [...warnings, ...r.warnings] }
}

/** A `chat.completion` object with the answer's sources and ragtune fields added. */
export function chatCompletion(r: AnswerResult, created: number, warnings: string[]): Record<string, unknown> {
  return {
    id: completionId(r.queryId),
    object: 'chat.completion',
    created,
    model: servedModel(r),
    system_fingerprint: null,
    choices: [{ index: 0, message: { role: 'assistant', content: r.answer, refusal: null }, logprobs: null, finish_reason: finishReason(r) }],
    usage: chatUsage(r.usage),
    sources: r.sources,
    ragtune: ragtuneExtra(r, warnings),
  }
}

/** Completion ids carry the query id, so a client can find its query in the log from either. */
export function completionId(queryId: string): string {
  return `chatcmpl-${queryId}`
}

/** 'length' when generation hit max tokens; an aborted answer never reaches a client as a success. */
export function finishReason(r: Pick<AnswerResult, 'finishReason'>): 'stop' | 'length' {
  return r.finishReason === 'length' ? 'length' : 'stop'
}

/** One `chat.completion.chunk` of a streamed answer. */
export function chatChunk(
  head: { id: string; created: number; model: string },
  delta: Record<string, unknown> | null,
  finish: 'stop' | 'length' | null,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: head.id,
    object: 'chat.completion.chunk',
    created: head.created,
    model: head.model,
    system_fingerprint: null,
    choices: delta === null ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...extra,
  }
}
