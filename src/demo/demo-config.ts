import type { RagtuneConfigInput } from '../config/schema.js'
import { ANSWER_SCHEMA } from '../models/tiny-llama/pretrained/rag-task.js'
import { TINY_MODEL_ID } from '../workspace.js'

/** Which models the demo runs: the project's own tiny ones (offline) or the real defaults (network once). */
export type DemoModels = 'tiny' | 'default'

/** Where the pre-trained tiny Llama lives inside the demo folder (kept between runs: pre-training is the slow part). */
export const DEMO_MODELS_DIR = 'models'

/**
 * The demo's ragtune.config.json. The team's rule is a JSON Schema on answers (`analyze.format.jsonSchema`)
 * and the gate's primary metric is compliance with it (`schema_valid`). With tiny models the generator is
 * the Llama the project pre-trains (plain-text answers, "water [2]", unless a prompt asks for JSON), decoding is greedy and the
 * cross-encoder is off: the tiny reranker has random weights and would shuffle the fused ranking.
 */
export function demoConfig(models: DemoModels, generatorModel: string): RagtuneConfigInput {
  const shared: RagtuneConfigInput = {
    docs: { root: 'docs' },
    analyze: { format: { jsonSchema: { ...ANSWER_SCHEMA } as Record<string, unknown> } },
    eval: { primaryMetric: 'schema_valid' },
  }
  // Downloads go to models/, which a re-run of the demo keeps.
  if (models === 'default') return { ...shared, models: { cacheDir: DEMO_MODELS_DIR }, generator: { temperature: 0, maxTokens: 64 } }
  return {
    ...shared,
    models: { offline: true, embedder: { model: TINY_MODEL_ID }, reranker: { model: TINY_MODEL_ID } },
    retrieval: { rerank: false },
    generator: { model: generatorModel, temperature: 0, maxTokens: 48 },
  }
}
