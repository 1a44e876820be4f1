import { buildMessages, toPromptSources } from '../answer/prompt.js'
import type { DatasetSplit } from '../spec/dataset.js'
import type { DatasetRecord } from './dataset-record.js'
import { bearsAnswer, chunkKeys, isGoldChunk, type SourceChunk } from './gold-match.js'
import { assembleRaftContext, type RaftContext } from './raft.js'
import type { RetrievedItem } from './retrieve-items.js'
import { exampleRandom } from './rng.js'
import { addCitation, isJsonTarget, quoteThenAnswer, removeCitations, renumberCitations, renumberJsonCitations } from './targets.js'

export interface AssembleOptions {
  p: number
  seed: number
  /** Quote the gold sentence before the answer (RAFT's reasoning style). */
  quote: boolean
  /** Add a [n] of the gold source to targets that cite nothing. */
  cite: boolean
  /** Target when the context lacks the gold: the refusal (default) or the answer without citations. */
  withoutOracle: 'refuse' | 'keep'
  refusalText: string
  /** System instruction for items that do not bring their own (imports); inference's default when undefined. */
  instruction?: string
  /** Evidence keys of the eval split: train contexts must not show them. */
  evalKeys: Set<string>
}

/**
 * One record: the context (RAFT-assembled for train, inference's own top k for eval, so the held-out
 * set measures what users get), the target adapted to it, and the prompt rendered by buildMessages,
 * the function inference uses, so training and inference prompts cannot drift apart. `tokens` is
 * filled in by the caller's counter.
 */
export function assembleRecord(r: RetrievedItem, split: DatasetSplit, k: number, opts: AssembleOptions): DatasetRecord {
  const { item } = r
  const isGold = (c: SourceChunk): boolean => isGoldChunk(c, item.gold)
  // A structured answer has no honest "not in the sources" form that fits its schema: never withhold its gold.
  const json = item.jsonSchema !== undefined || isJsonTarget(item.target)
  let ctx: RaftContext
  if (split === 'train') {
    ctx = assembleRaftContext({
      ranked: r.ranked, k, p: json ? 1 : opts.p, random: exampleRandom(opts.seed, item.id), isGold,
      bearsAnswer: (c) => bearsAnswer(c.text, item.target),
      excluded: (c) => chunkKeys(c).some((key) => opts.evalKeys.has(key)),
      fallbackGold: r.fallbackGold, goldKnown: r.goldKnown,
    })
  } else {
    const sources = r.ranked.slice(0, k)
    const at = sources.findIndex(isGold)
    ctx = { sources, oracle: !r.goldKnown ? 'unknown' : at >= 0 ? 'retrieved' : 'missing', oracleIndex: at >= 0 ? at : null }
  }
  const lacksGold = ctx.oracle === 'withheld' || ctx.oracle === 'missing'
  const refuse = split === 'train' && lacksGold && opts.withoutOracle === 'refuse'
  let target = refuse ? opts.refusalText : renumberCitations(item.target, item.citedChunks, ctx.sources)
  if (!refuse && json) target = renumberJsonCitations(target, item.citedChunks, ctx.sources, ctx.oracleIndex === null ? null : ctx.oracleIndex + 1)
  if (!refuse && split === 'train' && lacksGold) target = removeCitations(target)
  else if (!refuse && ctx.oracleIndex !== null && !json) {
    const n = ctx.oracleIndex + 1
    if (opts.cite) target = addCitation(target, n)
    if (opts.quote) target = quoteThenAnswer(target, ctx.sources[ctx.oracleIndex]!.text, n)
  }
  const instruction = item.instruction ?? opts.instruction
  const messages = buildMessages({
    question: item.question,
    sources: toPromptSources(ctx.sources),
    ...(instruction !== undefined ? { instruction } : {}),
    ...(item.jsonSchema ? { jsonSchema: item.jsonSchema } : {}),
  })
  messages.push({ role: 'assistant', content: target })
  const o = item.origin
  return {
    messages,
    metadata: {
      id: item.id,
      split,
      source: o.kind === 'log' ? 'log' : `import:${o.source}`,
      ...(o.kind === 'log' ? { queryId: o.queryId, labelId: o.labelId } : { labeledExampleId: o.labeledExampleId, batchId: o.batchId }),
      categories: item.categories,
      oracle: ctx.oracle,
      refusalTarget: refuse,
      goldChunkIds: [...new Set(ctx.sources.filter(isGold).flatMap((c) => (c.chunkId ? [c.chunkId] : [])).concat(item.gold.chunkIds))],
      goldDocuments: item.gold.documents,
      sources: ctx.sources.map((c) => ({ chunkId: c.chunkId, documentPath: c.documentPath })),
      tokens: 0,
    },
  }
}
