import { z } from 'zod'

/**
 * One training example in OpenAI chat form, the form the trainer (src/train) reads:
 * `{"messages":[system, user, assistant], "metadata":{...}}`. The system and user turns are exactly
 * what inference sends (built by buildMessages from the retrieved sources); the LAST assistant
 * message is the target, and only its tokens carry loss.
 */
export const chatMessageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
})

export const recordMetadataSchema = z.object({
  id: z.string(),
  split: z.enum(['train', 'eval']),
  /** `log` (a labeled query) or `import:<format>`. */
  source: z.string(),
  queryId: z.string().optional(),
  labelId: z.string().optional(),
  labeledExampleId: z.string().optional(),
  batchId: z.string().optional(),
  categories: z.array(z.string()),
  oracle: z.enum(['retrieved', 'inserted', 'withheld', 'missing', 'unknown']),
  /** The target was replaced by the refusal (gold withheld or missing). */
  refusalTarget: z.boolean(),
  goldChunkIds: z.array(z.string()),
  goldDocuments: z.array(z.string()),
  /** The sources in prompt order: [n] = index + 1. chunkId null: the label's own passage. */
  sources: z.array(z.object({ chunkId: z.string().nullable(), documentPath: z.string() })),
  tokens: z.number().int(),
})

export const datasetRecordSchema = z.strictObject({
  messages: z.array(chatMessageSchema).min(2).refine((m) => m[m.length - 1]!.role === 'assistant', { message: 'the last message must be the assistant target' }),
  metadata: recordMetadataSchema,
})

export type RecordMetadata = z.output<typeof recordMetadataSchema>
export type DatasetRecord = z.output<typeof datasetRecordSchema>
