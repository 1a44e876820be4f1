/** Where a candidate stood in one ranked list (ranks from 1). */
export interface StageScore {
  rank: number
  score: number
}

export interface Fused<T> {
  item: T
  /** Sum over lists of 1 / (k + rank). */
  score: number
  /** Per list name, the candidate's rank and native score there. */
  stages: Record<string, StageScore>
}

/**
 * Reciprocal rank fusion (Cormack, Clarke & Büttcher 2009). Only ranks matter, so BM25 and cosine
 * scores never need to share a scale. Ties break by the best single rank, then by key, so the order
 * is deterministic.
 */
export function reciprocalRankFusion<T>(
  lists: Record<string, Array<{ item: T; score: number }>>,
  opts: { key: (item: T) => string; k?: number },
): Fused<T>[] {
  const k = opts.k ?? 60
  const byKey = new Map<string, Fused<T> & { best: number; id: string }>()
  for (const [name, list] of Object.entries(lists)) {
    list.forEach(({ item, score }, i) => {
      const id = opts.key(item)
      let entry = byKey.get(id)
      if (!entry) {
        entry = { item, score: 0, stages: {}, best: Infinity, id }
        byKey.set(id, entry)
      }
      if (entry.stages[name]) return // a list that repeats an item counts it once, at its best rank
      entry.stages[name] = { rank: i + 1, score }
      entry.score += 1 / (k + i + 1)
      entry.best = Math.min(entry.best, i + 1)
    })
  }
  return [...byKey.values()]
    .sort((a, b) => b.score - a.score || a.best - b.best || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map(({ item, score, stages }) => ({ item, score, stages }))
}
