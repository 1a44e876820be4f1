import type { OracleMode } from './raft.js'

/** What a build did, to be read before training on its output. Stored with the dataset version. */
export interface BuildReport {
  items: {
    /** Labeled questions found (log + imports). */
    collected: number
    /** Same question and target seen before (kept once). */
    duplicates: number
    /** Labels that cannot become an example, by reason. */
    unusable: Record<string, number>
    kept: { train: number; eval: number }
  }
  raft: {
    p: number
    seed: number
    k: number
    quote: boolean
    withoutOracle: 'refuse' | 'keep'
    /** Train examples by where their gold ended up. */
    oracle: Record<OracleMode, number>
    /** Labeled questions whose gold inference's top k held (retrieval quality on labeled data). */
    goldAtK: { known: number; retrieved: number; rate: number | null }
  }
  split: { evalFraction: number; groups: { train: number; eval: number }; evalKeys: number; leakage: number }
  length: {
    maxLength: number
    tokenizer: string
    exact: boolean
    /** How tokens were counted when not exact. */
    note: string | null
    maxTokens: number
    /** Every example longer than maxLength: left out, never cut. */
    tooLong: Array<{ id: string; split: 'train' | 'eval'; tokens: number }>
  }
  coverage: {
    minExamples: number
    /** Train examples per category. */
    perCategory: Record<string, number>
    /** Categories the log fails on, checked for enough examples. */
    failing: string[]
    lacking: Array<{ category: string; examples: number }>
  }
  /** Train targets that break the configured format or schema rules (they would teach the fault). */
  targetsBreakingFormat: string[]
  warnings: string[]
}

export function emptyOracleCounts(): Record<OracleMode, number> {
  return { retrieved: 0, inserted: 0, withheld: 0, missing: 0, unknown: 0 }
}
