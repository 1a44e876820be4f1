import { z } from 'zod'
import { retrievalModes } from '../config/schema.js'
import { invalidBody } from './http-error.js'

const jsonSchema = z.record(z.string(), z.unknown())
const temperature = z.number().min(0).max(2)
const maxTokens = z.number().int().positive()
/** Text that reaches the store: Postgres text cannot hold NUL, so a NUL is refused here (400), not failed on later (500). */
const text = () => z.string().refine((s) => !s.includes('\u0000'), 'expected text without NUL characters (\\u0000)')

/** POST /v1/answer: ragtune's own route, so unknown fields are mistakes and refused. */
export const answerRequest = z.strictObject({
  question: text().trim().min(1, 'expected a non-empty question'),
  mode: z.enum(retrievalModes).optional(),
  topK: z.number().int().positive().optional(),
  rerank: z.boolean().optional(),
  /** JSON Schema the answer must match (grammar-constrained locally). */
  schema: jsonSchema.optional(),
  stream: z.boolean().optional(),
  temperature: temperature.optional(),
  maxTokens: maxTokens.optional(),
})
export type AnswerRequest = z.output<typeof answerRequest>

const textPart = z.object({ type: z.literal('text'), text: text() })
const chatMessage = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([text(), z.array(textPart), z.null()]).optional(),
})

/**
 * POST /v1/chat/completions. Unknown fields are ignored (OpenAI clients send many: top_p, user,
 * logit_bias…); the ones that would change the meaning of the answer are checked.
 */
export const chatRequest = z.object({
  model: z.string().min(1),
  messages: z.array(chatMessage).min(1, 'expected at least one message'),
  temperature: temperature.nullish(),
  max_tokens: maxTokens.nullish(),
  max_completion_tokens: maxTokens.nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  response_format: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json_object') }),
      z.object({ type: z.literal('json_schema'), json_schema: z.object({ name: z.string().optional(), schema: jsonSchema.optional(), strict: z.boolean().nullish() }) }),
    ])
    .optional(),
  seed: z.number().int().nullish(),
  n: z.literal(1, 'ragtune returns one choice: n must be 1').nullish(),
})
export type ChatRequest = z.output<typeof chatRequest>

/** POST /v1/feedback: the same fields as `ragtune feedback`. */
export const feedbackRequest = z.strictObject({
  queryId: text().trim().min(1, 'expected the queryId of an answer'),
  rating: z.enum(['good', 'bad']).nullish(),
  correction: text().nullish(),
  category: text().nullish(),
})

/** Parses a body or throws the 400 that names the first bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const res = schema.safeParse(body ?? null)
  if (!res.success) throw invalidBody(res.error)
  return res.data
}
