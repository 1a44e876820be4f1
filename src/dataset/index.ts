/**
 * The dataset builder: labels in, a versioned RAFT dataset out.
 *
 *   importLabels(store, file, format)        guide / openai / squad / pubmedqa files → stored labels
 *   buildDataset(deps, opts)                 logs + labels → retrieval → RAFT → split → length check → stored version
 *   exportDataset(store, id, format, dir)    openai chat JSONL (the trainer's input), guide JSONL, hf folder
 */
export { importLabels, readLabelFile, labeledExampleId, LABEL_FORMATS, type ImportLabelsOptions, type ImportLabelsResult } from './labels/import-labels.js'
export { buildDataset, type BuildDatasetOptions, type BuildDatasetResult } from './build-dataset.js'
export type { BuildReport } from './build-report.js'
export { datasetRecordSchema, recordMetadataSchema, type DatasetRecord, type RecordMetadata } from './dataset-record.js'
export { exportDataset, writeDatasetFiles, toGuideRecord, EXPORT_FORMATS, type ExportFormat } from './export-dataset.js'
export { assembleRaftContext, type OracleMode, type RaftContext, type RaftInput } from './raft.js'
export { splitByEvidence, countLeakage } from './split.js'
export { approximateTokenCounter, tokenCounterFromFunction, type TokenCounter } from './token-count.js'
export { llamaTokenCounter } from './llama-token-counter.js'
export { datasetHash, indexFingerprint } from './dataset-hash.js'
