import type { EmbeddingModel } from '../../src/spec/embedding-model.js'
import { PGliteStore } from '../../src/store/pglite-store.js'

/** Topic axes of the fake embedder: a text's vector counts its words on each axis. */
const AXES = [['key', 'keys', 'rotate', 'rotation'], ['port', 'ports', 'heartbeat', 'udp'], ['backup', 'backups', 'restore'], ['log', 'logs', 'retention']]

/** An embedder without weights: deterministic keyword vectors, enough to tell dense hits from lexical ones. */
export function keywordEmbedder(): EmbeddingModel {
  const embed = (text: string): Float32Array => {
    const words = text.toLowerCase().split(/\W+/)
    const v = Float32Array.from(AXES, (axis) => words.filter((w) => axis.includes(w)).length + 0.01)
    const norm = Math.hypot(...v)
    return v.map((x) => x / norm)
  }
  return {
    id: 'test/keyword-4d',
    dimensions: AXES.length,
    countTokens: (text: string) => text.split(/\s+/).length,
    doEmbed: async (texts, opts) => {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted')
      return texts.map(embed)
    },
    dispose: async () => {},
  } as EmbeddingModel
}

const DOCS: Record<string, string[]> = {
  'keys.md': ['Rotate the master keys every 90 days with skyctl keys rotate.', 'Key rotation is logged in the audit log.'],
  'ports.md': ['The heartbeat uses port 7500 over UDP on the back-end network.'],
  'backups.md': ['Backups run nightly; restore with skyctl restore --from <date>.'],
}

/** An in-memory store holding three small documents, embedded with keywordEmbedder(). */
export async function openSmallStore(): Promise<{ store: PGliteStore; embedder: EmbeddingModel }> {
  const embedder = keywordEmbedder()
  const store = await PGliteStore.open({ lexical: 'tsvector' })
  await store.init({ dimensions: embedder.dimensions, embeddingModel: embedder.id })
  for (const [path, texts] of Object.entries(DOCS)) {
    const vectors = await embedder.doEmbed(texts, { kind: 'document' })
    await store.replaceDocument(
      { path, contentHash: path, size: 100, format: 'md', chunkCount: texts.length, indexedAt: '2025-06-01T00:00:00.000Z' },
      texts.map((text, i) => ({ id: `${path}#${i}`, documentPath: path, ordinal: i, text, headingPath: [path], tokenCount: 10, embedding: vectors[i]! })),
    )
  }
  return { store, embedder }
}
