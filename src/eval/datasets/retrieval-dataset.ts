/**
 * The one shape every public retrieval benchmark is parsed into, so indexing, retrieval and the
 * metrics never need to know whether the data came from SQuAD, PubMedQA or BEIR.
 */
export interface RetrievalDataset {
  /** Stable label for reports, e.g. `squad:dev-v2.0`, `pubmedqa:test`, `beir:scifact:test`. */
  name: string
  documents: RetrievalDocument[]
  /** Only queries with at least one judgment in the chosen split. */
  queries: RetrievalQuery[]
  /** Queries present in the source but left out by design (SQuAD v2 unanswerable questions). */
  skipped: number
  /** Non-fatal oddities of the source (dangling qrels, queries without a positive judgment). */
  warnings: string[]
}

export interface RetrievalDocument {
  id: string
  title?: string
  text: string
}

export interface RetrievalQuery {
  id: string
  text: string
  /** Document id -> relevance grade, as in qrels; grades <= 0 are judged non-relevant. */
  relevant: Record<string, number>
}

/** The formats ragtune can read; each maps a public benchmark's own layout onto RetrievalDataset. */
export type DatasetFormat = 'squad' | 'pubmedqa' | 'beir'

export interface LoadDatasetOptions {
  /**
   * Which split to evaluate. BEIR: the qrels file `qrels/<split>.tsv` (default `test`, or the split
   * of the qrels file passed as the path). PubMedQA: `test` restricts queries to the PMIDs of
   * `test_ground_truth.json` beside `ori_pqal.json`. SQuAD: the file is the split; ignored.
   */
  split?: string
  /** PubMedQA only: an explicit ground-truth file whose PMIDs restrict the queries; wins over split. */
  groundTruth?: string
  signal?: AbortSignal
}
