import { throwIfAborted } from '../errors.js'
import { retrieve, type RetrieveDeps, type RetrieveOptions } from '../retrieve/retrieve.js'
import { contentOverlap } from '../analyze/text-features.js'
import type { StoredChunk } from '../spec/dataset.js'
import { documentMatches, evidenceKeys, isGoldChunk, type SourceChunk } from './gold-match.js'
import type { TrainingItem } from './training-item.js'

/** A training item with its retrieval: the ranked chunks, what of them is gold, and its split keys. */
export interface RetrievedItem {
  item: TrainingItem
  /** Inference's ranking, deeper than k (see retrievalDepth). */
  ranked: SourceChunk[]
  goldKnown: boolean
  /** Whether inference's top k held the gold; null when the gold is unknown. */
  goldAtK: boolean | null
  /** The gold when the ranking lacks it: read back from the index by id, or the label's passage. */
  fallbackGold: SourceChunk | null
  keys: string[]
  warnings: string[]
}

/**
 * How deep to retrieve: inference's k plus spare distractors (for inserted golds and for chunks the
 * leakage guard removes). The reranked order is cut after sorting, so the first k of a deeper list
 * are exactly inference's top k.
 */
export function retrievalDepth(retrieval: Pick<RetrieveOptions, 'topK' | 'candidates'>): number {
  return Math.max(retrieval.topK, Math.min(retrieval.candidates, retrieval.topK * 3))
}

/**
 * Retrieves for every item with THE SAME pipeline and settings as inference (retrieve() with the
 * configured mode, k values, fusion and reranker), so training contexts look like inference's.
 */
export async function retrieveItems(
  deps: RetrieveDeps,
  items: TrainingItem[],
  opts: { retrieval: Omit<RetrieveOptions, 'signal'>; signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
): Promise<RetrievedItem[]> {
  const k = opts.retrieval.topK
  const deep = { ...opts.retrieval, topK: retrievalDepth(opts.retrieval), ...(opts.signal ? { signal: opts.signal } : {}) }
  const out: RetrievedItem[] = []
  let paths: Promise<string[]> | undefined
  for (const [i, item] of items.entries()) {
    throwIfAborted(opts.signal)
    const result = await retrieve(deps, item.question, deep)
    const ranked: SourceChunk[] = result.hits.map((h) => ({ chunkId: h.chunkId, documentPath: h.documentPath, headingPath: h.headingPath, text: h.text }))
    const { gold } = item
    const goldKnown = gold.chunkIds.length > 0 || gold.documents.length > 0 || gold.text !== null
    const golds = ranked.filter((c) => isGoldChunk(c, gold))
    const warnings: string[] = []
    let fallbackGold: SourceChunk | null = null
    if (goldKnown && golds.length === 0) {
      paths ??= deps.store.listDocuments().then((docs) => docs.map((d) => d.path))
      fallbackGold = await findGold(deps, item, paths)
      if (!fallbackGold) warnings.push(`${item.id}: its gold evidence (${[...gold.chunkIds, ...gold.documents].join(', ') || 'passage'}) is not in the index and the label has no passage text`)
    }
    out.push({
      item, ranked, goldKnown,
      goldAtK: goldKnown ? ranked.slice(0, k).some((c) => isGoldChunk(c, gold)) : null,
      fallbackGold,
      keys: evidenceKeys(gold, [...golds, ...(fallbackGold?.chunkId ? [fallbackGold] : [])]),
      warnings,
    })
    opts.onProgress?.(i + 1, items.length)
  }
  return out
}

/**
 * The gold when retrieval did not rank it: the labeled chunk read back by id; else, of the labeled
 * documents' chunks, the one sharing most words with the question and answer; else the label's own
 * passage (a source that is not in the index, used as RAFT's oracle document).
 */
async function findGold(deps: RetrieveDeps, item: TrainingItem, indexed: Promise<string[]>): Promise<SourceChunk | null> {
  const { gold } = item
  const toSource = (c: StoredChunk): SourceChunk => ({ chunkId: c.id, documentPath: c.documentPath, headingPath: c.headingPath, text: c.text })
  if (gold.chunkIds.length > 0) {
    const [stored] = await deps.store.getChunks({ ids: gold.chunkIds })
    if (stored) return toSource(stored)
  } else if (gold.documents.length > 0) {
    const documentPaths = (await indexed).filter((p) => documentMatches(p, gold.documents))
    const chunks = await deps.store.getChunks({ documentPaths })
    const probe = `${item.question} ${item.target}`
    const best = chunks.map((c) => ({ c, score: contentOverlap(probe, c.text) })).sort((a, b) => b.score - a.score)[0]
    if (best) return toSource(best.c)
  }
  return gold.text !== null ? { chunkId: null, documentPath: gold.documents[0] ?? 'label', headingPath: [], text: gold.text } : null
}

