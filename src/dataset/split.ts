import type { DatasetSplit } from '../spec/dataset.js'
import { hashUniform } from './rng.js'

export interface SplitCandidate {
  id: string
  /** Evidence keys (see evidenceKeys); none: the question alone decides its group. */
  keys: string[]
  question: string
}

export interface SplitResult {
  splits: Map<string, DatasetSplit>
  groups: { train: number; eval: number }
  /** Every evidence key of the eval side: what train contexts must never show. */
  evalKeys: Set<string>
}

/**
 * Train/eval split by evidence, not by question: questions that share a document, chunk or passage
 * form one group (union-find over their keys) and the whole group goes to one side, so no eval
 * question's gold appears in training. A group's side is a hash of its key and the seed: stable when
 * the dataset grows. With two or more groups each side gets at least one.
 */
export function splitByEvidence(items: SplitCandidate[], opts: { evalFraction: number; seed: number }): SplitResult {
  const parent = new Map<string, string>()
  const find = (x: string): string => {
    let root = x
    while (parent.get(root) !== root) root = parent.get(root)!
    parent.set(x, root)
    return root
  }
  const union = (a: string, b: string): void => {
    const [ra, rb] = [find(a), find(b)]
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb)
  }
  const keysOf = (it: SplitCandidate): string[] => (it.keys.length ? it.keys : [`question:${it.question.toLowerCase().replace(/\s+/g, ' ').trim()}`])
  for (const it of items) for (const k of keysOf(it)) if (!parent.has(k)) parent.set(k, k)
  for (const it of items) {
    const ks = keysOf(it)
    for (const k of ks.slice(1)) union(ks[0]!, k)
  }
  const groupOf = new Map(items.map((it) => [it.id, find(keysOf(it)[0]!)]))
  const groups = [...new Set(groupOf.values())].sort()
  const draw = new Map(groups.map((g) => [g, hashUniform('split', opts.seed, g)]))
  const evalGroups = new Set(groups.filter((g) => draw.get(g)! < opts.evalFraction))
  if (groups.length >= 2 && opts.evalFraction > 0 && evalGroups.size === 0) evalGroups.add(groups.reduce((a, b) => (draw.get(a)! <= draw.get(b)! ? a : b)))
  if (groups.length >= 2 && opts.evalFraction < 1 && evalGroups.size === groups.length) evalGroups.delete(groups.reduce((a, b) => (draw.get(a)! >= draw.get(b)! ? a : b)))
  const splits = new Map<string, DatasetSplit>()
  const evalKeys = new Set<string>()
  for (const it of items) {
    const side: DatasetSplit = evalGroups.has(groupOf.get(it.id)!) ? 'eval' : 'train'
    splits.set(it.id, side)
    if (side === 'eval') for (const k of it.keys) evalKeys.add(k)
  }
  return { splits, groups: { train: groups.length - evalGroups.size, eval: evalGroups.size }, evalKeys }
}

/**
 * The leakage guard's proof: train examples whose evidence or whose context touches an eval key
 * (a document, chunk or passage of an eval question). Must be 0; the build report shows it.
 */
export function countLeakage(train: Array<{ keys: string[]; contextKeys: string[] }>, evalKeys: Set<string>): number {
  return train.filter((t) => t.keys.some((k) => evalKeys.has(k)) || t.contextKeys.some((k) => evalKeys.has(k))).length
}
