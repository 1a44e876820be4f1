/**
 * Failure analysis: the public API. Every detector is a pure function of one answer, so the failure
 * report, the dataset builder and the eval metrics judge answers identically:
 *
 *   detectAll(example, rules?) → Finding[]             every rule-based detector at once
 *   groundednessScore(answer, contexts, opts?)         0..1 plus the unsupported numbers and names
 *   checkCitations(answer, sources, opts?)             invalid / unsupported citations, accuracy
 *   isRefusal(answer)                                  "I don't know" and its relatives
 *   judgeExample(generator, example, opts?)            optional model judge; failures → judge_error
 *   analyzeLogs(store, opts?) → FailureReport          the `ragtune analyze` report
 */
export { analyzeRules, analyzeRulesSchema, type AnalyzeRules, type AnalyzeRulesInput } from './rules.js'
export {
  FAILURE_CATEGORIES, JUDGE_ERROR, REQUEST_ERROR, finding,
  type AnalyzableExample, type ExampleSource, type FailureCategory, type Finding, type KnownCategory, type Severity,
} from './finding.js'
export { detectAll, categoriesOf, contextTexts, jsonValuesText } from './detect-all.js'
export { detectFormat, compileRule } from './detectors/format.js'
export { detectMarkdown, markdownStats } from './detectors/markdown.js'
export { detectHedging, findHedges, findDisclaimers } from './detectors/hedging.js'
export { detectTone } from './detectors/tone.js'
export { detectCitations, checkCitations, type CitationCheck } from './detectors/citations.js'
export { detectUngrounded, groundednessScore, type Groundedness, type GroundednessOptions } from './detectors/grounding.js'
export { detectRefusal, isRefusal } from './detectors/refusal.js'
export { detectRetrieval, hasGold, isGoldSource } from './detectors/retrieval.js'
export { judgeExample, judgeMessages, JUDGE_SCHEMA, type JudgeOptions } from './detectors/judge.js'
export { exampleFromLog, goldFromLabels } from './log-example.js'
export { parseLoggedPrompt, parseUserTurn, type ParsedPrompt, type ParsedSource } from './logged-prompt.js'
export { analyzeLogs, emptyFailureReport, type AnalyzeLogsOptions, type CategoryStats, type FailureReport } from './failure-report.js'
export { formatFailureReport } from './report-markdown.js'
