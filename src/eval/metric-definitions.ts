/**
 * Every metric an eval run records per example. `binary` metrics are 0/1 and get McNemar's test in
 * a comparison; `continuous` ones get a paired bootstrap only. `higherIsBetter` turns a difference
 * into "better" or "worse", and `gated` says whether a category regression in it blocks promotion:
 * latency is measured on a shared machine and in milliseconds, so it is reported, never gated.
 */
export interface MetricDefinition {
  name: string
  kind: 'binary' | 'continuous'
  higherIsBetter: boolean
  gated: boolean
  /** What it needs from an example, for --help and reports. */
  needs: string
  description: string
}

export const METRICS: readonly MetricDefinition[] = [
  { name: 'recall', kind: 'continuous', higherIsBetter: true, gated: true, needs: 'goldDocIds', description: 'recall@k of the gold documents among the k sources the model saw' },
  { name: 'mrr', kind: 'continuous', higherIsBetter: true, gated: true, needs: 'goldDocIds', description: 'reciprocal rank of the first gold document among the sources' },
  { name: 'ndcg', kind: 'continuous', higherIsBetter: true, gated: true, needs: 'goldDocIds', description: 'nDCG of the sources against the gold documents' },
  { name: 'exact_match', kind: 'binary', higherIsBetter: true, gated: true, needs: 'answer', description: 'answer equals a gold answer after SQuAD normalisation' },
  { name: 'f1', kind: 'continuous', higherIsBetter: true, gated: true, needs: 'answer', description: 'token F1 against the best gold answer (SQuAD normalisation)' },
  { name: 'label_accuracy', kind: 'binary', higherIsBetter: true, gated: true, needs: 'label', description: 'the first label word of the answer (e.g. yes/no/maybe) is the gold label' },
  { name: 'schema_valid', kind: 'binary', higherIsBetter: true, gated: true, needs: 'schema', description: 'the answer is JSON satisfying the example\'s JSON Schema (else analyze.format.jsonSchema)' },
  { name: 'format_ok', kind: 'binary', higherIsBetter: true, gated: true, needs: '-', description: 'no format finding from the answer checks' },
  { name: 'citation_accuracy', kind: 'continuous', higherIsBetter: true, gated: true, needs: 'sources', description: 'share of cited [n] that name a given source (a gold one, with goldDocIds); 0 when nothing is cited' },
  { name: 'groundedness', kind: 'continuous', higherIsBetter: true, gated: true, needs: 'sources', description: 'share of the answer supported by its sources (answer checks)' },
  { name: 'hallucination', kind: 'binary', higherIsBetter: false, gated: true, needs: 'sources', description: 'the answer checks found it ungrounded' },
  { name: 'refusal', kind: 'binary', higherIsBetter: false, gated: true, needs: '-', description: 'the answer declines to answer' },
  { name: 'latency_ms', kind: 'continuous', higherIsBetter: false, gated: false, needs: '-', description: 'wall time of retrieval + generation (reported, never gated)' },
]

const BY_NAME = new Map(METRICS.map((m) => [m.name, m]))

/** The definition of a metric name; undefined for names this version does not know. */
export function metricDefinition(name: string): MetricDefinition | undefined {
  return BY_NAME.get(name)
}

/**
 * When the gate is told `auto`, the first of these that both runs measured is the primary metric:
 * the most task-specific measure an eval set supports.
 */
export const PRIMARY_PREFERENCE = ['label_accuracy', 'f1', 'schema_valid', 'recall', 'citation_accuracy', 'groundedness'] as const
