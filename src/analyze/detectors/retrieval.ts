import { finding, type AnalyzableExample, type ExampleSource, type Finding } from '../finding.js'

/** Whether the example carries gold evidence that sources can be matched against. */
export function hasGold(gold: AnalyzableExample['gold']): boolean {
  return (gold?.chunkIds?.length ?? 0) + (gold?.documents?.length ?? 0) > 0
}

/** Whether a source is (part of) the gold evidence: same chunk id, or a chunk of a gold document. */
export function isGoldSource(source: ExampleSource, gold: NonNullable<AnalyzableExample['gold']>): boolean {
  if (source.chunkId !== undefined && gold.chunkIds?.includes(source.chunkId)) return true
  return source.path !== undefined && (gold.documents?.includes(source.path) ?? false)
}

/**
 * Retrieval misses, judged against labeled gold evidence: the gold document or chunk was not among
 * the sources (`retrieval-miss`: fix retrieval, not the model), or it was and the answer still said
 * it did not know (`refusal`: the model failed to use its context, which fine-tuning can fix). A
 * refusal without the gold in context is the right answer and yields nothing.
 */
export function detectRetrieval(example: Pick<AnalyzableExample, 'sources' | 'gold'>, opts: { refusal: boolean }): Finding[] {
  const gold = example.gold
  if (!gold || !hasGold(gold) || example.sources === null) return []
  const hit = example.sources.find((s) => isGoldSource(s, gold))
  if (!hit) {
    const wanted = [...(gold.documents ?? []), ...(gold.chunkIds ?? [])]
    return [finding('retrieval', 'retrieval-miss', 'gold-not-retrieved', `expected the gold evidence (${wanted.slice(0, 3).join(', ')}) among the ${example.sources.length} sources, got none of it`,
      { evidence: wanted })]
  }
  if (opts.refusal) {
    return [finding('retrieval', 'refusal', 'refused-with-gold-in-context', `expected an answer from source [${hit.n}], which holds the gold evidence, got a refusal`, { evidence: [`[${hit.n}]`] })]
  }
  return []
}
