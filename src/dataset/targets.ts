import { jsonCitationFields, parseCitations, parseJsonObject } from '../answer/prompt.js'
import { contentOverlap, sentences } from '../analyze/text-features.js'
import type { SourceChunk } from './gold-match.js'

/** The target when RAFT withholds the gold: what ragtune's prompt tells the model to say then. */
export const DEFAULT_REFUSAL = 'The sources do not contain the answer to this question.'

/**
 * Rewrites a target's [n] markers for a rebuilt context. A correction cites the sources of the
 * logged prompt; in the training prompt the same chunk may sit at another number or be absent.
 * `cited` maps old numbers to chunk ids; numbers whose chunk is absent are dropped.
 */
export function renumberCitations(target: string, cited: Record<number, string>, sources: SourceChunk[]): string {
  if (Object.keys(cited).length === 0) return target
  const position = new Map(sources.flatMap((s, i) => (s.chunkId === null ? [] : [[s.chunkId, i + 1] as const])))
  return target
    .replace(/\s*\[(\d+(?:\s*,\s*\d+)*)\]/g, (whole, list: string) => {
      const lead = /^\s*/.exec(whole)![0]
      const mapped = [...new Set(list.split(',').flatMap((x) => {
        const chunk = cited[Number(x.trim())]
        const n = chunk === undefined ? undefined : position.get(chunk)
        return n === undefined ? [] : [n]
      }))]
      return mapped.length === 0 ? '' : `${lead}${mapped.map((n) => `[${n}]`).join('')}`
    })
    .trim()
}

/**
 * The JSON counterpart of renumberCitations: a JSON target cites by field (`"source": 2`, see
 * jsonCitationFields), and those numbers must name the same chunks in the rebuilt context. A logged
 * correction's number maps through the logged sources (`cited`); an imported label has none (its
 * number refers to its own passage), so it points at the gold's place, `goldN`. Unknown: unchanged.
 */
export function renumberJsonCitations(target: string, cited: Record<number, string>, sources: SourceChunk[], goldN: number | null): string {
  const json = parseJsonObject(target)
  const fields = json ? jsonCitationFields(json) : []
  if (!json || fields.length === 0) return target
  const position = new Map(sources.flatMap((s, i) => (s.chunkId === null ? [] : [[s.chunkId, i + 1] as const])))
  const map = (n: number): number => {
    const chunk = cited[n]
    return (chunk === undefined ? undefined : position.get(chunk)) ?? goldN ?? n
  }
  const out: Record<string, unknown> = { ...json }
  for (const f of fields) {
    const v = json[f] as number | number[]
    out[f] = Array.isArray(v) ? [...new Set(v.map(map))] : map(v)
  }
  return fields.every((f) => JSON.stringify(out[f]) === JSON.stringify(json[f])) ? target : JSON.stringify(out)
}

/**
 * Cites the gold source when the target cites nothing, as ragtune's prompt demands: "Rotate them
 * monthly." becomes "Rotate them monthly [2]." (imported Q&A pairs never carry citations).
 */
export function addCitation(target: string, n: number): string {
  if (parseCitations(target).length > 0) return target
  const m = /^([\s\S]*?)([.!?]*)(\s*)$/.exec(target)!
  return `${m[1]} [${n}]${m[2]}${m[3]}`
}

/** Removes every [n]: a target kept for a context without its sources must not cite them. */
export function removeCitations(target: string): string {
  return target.replace(/\s*\[\d+(?:\s*,\s*\d+)*\]/g, '').trim()
}

/**
 * Quote-then-answer (RAFT's chain-of-thought style, simplified): the sentence of the gold source that
 * best supports the answer, quoted and cited, then the answer. Teaches the model to find its
 * evidence before answering. Returns the target unchanged when no sentence shares a content word.
 */
export function quoteThenAnswer(target: string, goldText: string, n: number): string {
  let best: { s: string; score: number } | null = null
  for (const s of sentences(goldText.replace(/^#{1,6} .*$/gm, ''))) {
    const score = contentOverlap(target, s)
    if (score > 0 && (!best || score > best.score)) best = { s, score }
  }
  if (!best) return target
  return `> "${best.s.replace(/\s+/g, ' ')}" [${n}]\n\n${target}`
}

/** Whether a target is JSON (citations and quotes would break it). */
export function isJsonTarget(target: string): boolean {
  const t = target.trim()
  if (!/^[[{]/.test(t)) return false
  try {
    JSON.parse(t)
    return true
  } catch {
    return false
  }
}
