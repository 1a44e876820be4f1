/**
 * One evaluation of one adapter (or the base model) on one eval set. Per-example results are kept,
 * not just means: the A/B comparison pairs them example by example, which is what makes a small
 * set able to tell a real change from noise.
 */
export interface EvalRunRecord {
  /** Time-sortable id (ULID). */
  id: string
  /** ISO 8601 (UTC, milliseconds). */
  time: string
  /** Eval set name (file name without extension) and the sha256 of its content: pairs need the same set. */
  setName: string
  setSha256: string
  /** Registry name of the evaluated adapter (`base` for none). */
  adapter: string
  /** Provenance id of the adapter that answered (`<name>@<sha>`), null for base. */
  adapterId: string | null
  /** Generator (base model) id. */
  model: string
  /** Settings that shape the answers (retrieval, temperature, max tokens, seed): runs to compare should match. */
  settings: Record<string, unknown>
  /** Mean of each metric over the examples where it applies. */
  summary: Record<string, number>
  examples: number
  warnings: string[]
}

/**
 * One example's outcome. `metrics` holds only the metrics that apply to it (no gold answer, no F1);
 * binary metrics are 0 or 1.
 */
export interface EvalExampleResult {
  runId: string
  exampleId: string
  category: string
  question: string
  answer: string | null
  metrics: Record<string, number>
  /** Citations, source paths, predicted label, finish reason, error code, warnings. */
  detail: Record<string, unknown>
}

export interface EvalRunFilter {
  adapter?: string
  setSha256?: string
  limit?: number
}

/** The eval part of the Store. */
export interface EvalRunStore {
  /** Writes the run and all its example rows in one transaction. */
  addEvalRun(run: EvalRunRecord, results: EvalExampleResult[]): Promise<void>
  getEvalRun(id: string): Promise<EvalRunRecord | null>
  /** Newest first. */
  listEvalRuns(filter?: EvalRunFilter): Promise<EvalRunRecord[]>
  /** In example-id order. */
  listEvalResults(runId: string): Promise<EvalExampleResult[]>
}
