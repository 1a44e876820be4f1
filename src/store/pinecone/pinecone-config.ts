import { z } from 'zod'

/**
 * `store.vectors` with provider `pinecone`: dense vectors live in a Pinecone index (teams that
 * already pay for it keep it); chunk text, the manifest, the full-text index, logs, datasets and the
 * registry stay in the local (embedded or Postgres) store, and ragtune fuses both as always.
 */
export const pineconeVectorsSchema = z.strictObject({
  provider: z.literal('pinecone'),
  /** Name of an existing index whose dimension is the embedder's (cosine or dotproduct metric). */
  index: z.string().min(1),
  /** One ragtune index per namespace; "" is the index's default namespace. */
  namespace: z.string().default(''),
  /** Environment variable holding the API key (keys never go in the config file). */
  apiKeyEnv: z.string().min(1).default('PINECONE_API_KEY'),
  /** The index host from the console (e.g. docs-index-4zo0ijk.svc.aped-4627-b74a.pinecone.io); saves a control-plane lookup per start. */
  host: z.string().min(1).optional(),
})

/** Where dense vectors live: `local` (pgvector in the same store as everything else, the default) or Pinecone. */
export const vectorsSchema = z
  .discriminatedUnion('provider', [z.strictObject({ provider: z.literal('local') }), pineconeVectorsSchema])
  .default({ provider: 'local' })

export type PineconeVectorsConfig = z.output<typeof pineconeVectorsSchema>
