/**
 * The shapes the JSON routes answer with, taken from the library's own types (type-only imports:
 * nothing of the server is bundled), so a field renamed there breaks the dashboard's typecheck.
 */
export type { FailureReport, CategoryStats } from '../../src/analyze/failure-report.js'
export type { AnswerSource } from '../../src/answer/answer.js'
export type { Comparison, MetricComparison } from '../../src/eval/compare.js'
export type { GateDecision } from '../../src/eval/gate.js'
export type { LogListEntry } from '../../src/server/log-routes.js'
export type { AdapterEvent, AdapterRecord } from '../../src/spec/adapter-registry.js'
export type { DatasetVersion } from '../../src/spec/dataset.js'
export type { EvalRunRecord } from '../../src/spec/eval-run.js'
export type { JobRunRecord } from '../../src/spec/job-run.js'
export type { Label, LoggedHit, QueryLogEntry } from '../../src/spec/query-log.js'

import type { AnswerSource } from '../../src/answer/answer.js'
import type { Comparison } from '../../src/eval/compare.js'
import type { GateDecision } from '../../src/eval/gate.js'
import type { AdapterEvent, AdapterRecord } from '../../src/spec/adapter-registry.js'
import type { EvalRunRecord } from '../../src/spec/eval-run.js'
import type { Label, QueryLogEntry } from '../../src/spec/query-log.js'

export interface ListResponse<T> {
  object: 'list'
  data: T[]
}

/** POST /v1/answer (src/server/run-answer.ts answerBody). */
export interface AnswerResponse {
  queryId: string
  answer: string
  sources: AnswerSource[]
  citations: number[]
  model: string
  adapter: string | null
  finishReason: string
  timings: { retrieveMs: number; rerankMs: number; firstTokenMs: number | null; totalMs: number }
  usage: { promptTokens: number; completionTokens: number }
  warnings: string[]
}

export type PublicAdapter = Omit<AdapterRecord, 'filePath'>

export interface AdapterList extends ListResponse<PublicAdapter> {
  active: string | null
  serving: { model: string; adapter: string | null }
}

export interface AdapterDetail {
  adapter: PublicAdapter
  evalRuns: EvalRunRecord[]
  history: AdapterEvent[]
}

export interface CompareResponse {
  comparison: Comparison
  decision: GateDecision | null
}

export type LogDetail = QueryLogEntry & { labels: Label[] }

export interface Health {
  status: string
  models: { generator: string; adapter: string | null }
}
