import { parseCitations } from '../answer/prompt.js'
import type { StoredChunk } from '../spec/dataset.js'
import type { Label, QueryLogEntry } from '../spec/query-log.js'
import type { AnalyzableExample, ExampleSource } from './finding.js'
import { parseLoggedPrompt, type ParsedPrompt } from './logged-prompt.js'

/**
 * Turns a logged query into what the detectors read. Source texts come from the logged prompt
 * (exactly what the model saw); without a logged prompt, from the chunks still indexed under the
 * logged ids (`chunks`), else they stay unknown and text-based checks are skipped for it. A caller
 * that has already parsed the logged prompt passes it as `prompt`.
 */
export function exampleFromLog(
  entry: QueryLogEntry, opts: { chunks?: Map<string, StoredChunk>; labels?: Label[]; prompt?: ParsedPrompt | null } = {},
): AnalyzableExample | null {
  if (entry.answer === null) return null
  const parsed = opts.prompt !== undefined ? opts.prompt : entry.prompt ? parseLoggedPrompt(entry.prompt.messages) : null
  const hits = entry.retrieval?.hits ?? null
  let sources: ExampleSource[] | null = null
  if (hits) {
    sources = hits.map((h) => {
      const fromPrompt = parsed?.sources?.find((s) => s.n === h.rank)
      const text = fromPrompt?.text ?? opts.chunks?.get(h.chunkId)?.text ?? null
      return { n: h.rank, text, path: h.documentPath, chunkId: h.chunkId }
    })
  } else if (parsed?.sources) {
    sources = parsed.sources.map((s) => ({ n: s.n, text: s.text, path: s.path }))
  }
  const example: AnalyzableExample = { id: entry.id, question: entry.question, answer: entry.answer, sources }
  if (parsed?.jsonSchema) example.jsonSchema = parsed.jsonSchema
  const gold = goldFromLabels(entry, opts.labels ?? [])
  if (gold) example.gold = gold
  return example
}

/**
 * The gold chunks a person pointed at: the sources a correction cites, or those a "good" answer
 * cited. Numbers refer to the logged sources; unknown numbers are ignored.
 */
export function goldFromLabels(entry: QueryLogEntry, labels: Label[]): { chunkIds: string[] } | null {
  const current = labels[labels.length - 1]
  if (!current || !entry.retrieval) return null
  const text = current.correction ?? (current.rating === 'good' ? entry.answer : null)
  if (text === null) return null
  const byRank = new Map(entry.retrieval.hits.map((h) => [h.rank, h.chunkId]))
  const chunkIds = parseCitations(text).flatMap((n) => byRank.get(n) ?? [])
  return chunkIds.length > 0 ? { chunkIds } : null
}
