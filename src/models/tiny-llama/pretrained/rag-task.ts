import { buildMessages } from '../../../answer/prompt.js'
import { checkStructured } from '../../../answer/structured.js'
import type { ChatMessage } from '../../../spec/generator.js'
import { seededRandom } from '../../seeded-random.js'

/**
 * A synthetic retrieval-augmented QA task in the exact prompt layout of `ragtune ask`: four numbered
 * sources (one holds the fact asked about, three are distractors) and a question. Words come from
 * the tiny vocabulary's common words, so each value is a token or two and a tiny model can learn to
 * copy it. Answer styles: plain text with a citation and JSON {"value", "citation"} when the prompt
 * asks for it (what the pre-trained fixture learns), and
 * JSON `{"answer", "source"}` (what a LoRA adapter must teach it).
 */

export const ADJECTIVES = ['red', 'green', 'black', 'white', 'old', 'new', 'small', 'large', 'cold', 'warm', 'dark', 'quick', 'slow', 'strong', 'real', 'main']
export const NOUNS = ['house', 'river', 'school', 'farm', 'ship', 'road', 'tree', 'city', 'machine', 'garden', 'mountain', 'office', 'station', 'market', 'bridge', 'island']
export const ATTRIBUTES = ['owner', 'color', 'animal', 'food', 'music', 'sport', 'tool', 'plant']
/**
 * Values are the words the tiny vocabulary holds as ONE token without a leading space, so a value
 * is one token in the plain answer ("water [2]") and inside a JSON string alike.
 */
export const VALUES = ['time', 'way', 'water', 'sound', 'people', 'day']

export interface RagTaskExample {
  messages: ChatMessage[]
  /** The value asked for and the number of the source that holds it. */
  answer: string
  source: number
}

/** The JSON Schema the adapter's answers must satisfy. */
export const ANSWER_SCHEMA = {
  type: 'object',
  properties: { answer: { type: 'string' }, source: { type: 'integer', minimum: 1 } },
  required: ['answer', 'source'],
  additionalProperties: false,
} as const

/** One fact as a source: the document path and sentence of the pre-training layout (the offline demo writes its corpus with these). */
export function factPath(entity: string): string {
  return `facts/${entity.replace(' ', '-')}.md`
}

export function factSentence(f: { entity: string; attribute: string; value: string }): string {
  return `The ${f.attribute} of the ${f.entity} is ${f.value}.`
}

export function factQuestion(f: { entity: string; attribute: string }): string {
  return `What is the ${f.attribute} of the ${f.entity}?`
}

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)] as T

/**
 * The JSON shape the pre-trained model answers in when its system prompt asks for JSON with this
 * schema: JSON it knows, but not the team's ({"answer", "source"}), which only an adapter teaches.
 */
export const PRETRAIN_JSON_SCHEMA = {
  type: 'object',
  properties: { value: { type: 'string' }, citation: { type: 'integer', minimum: 1 } },
  required: ['value', 'citation'],
  additionalProperties: false,
} as const

/** Example `index` of the task family `seed`; held-out sets use another seed. */
export function ragTaskExample(seed: number, index: number, opts: { jsonSchema?: Record<string, unknown> } = {}): RagTaskExample {
  const r = seededRandom(Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b))
  const facts: Array<{ entity: string; attribute: string; value: string }> = []
  while (facts.length < 4) {
    const entity = `${pick(r, ADJECTIVES)} ${pick(r, NOUNS)}`
    if (facts.some((f) => f.entity === entity)) continue
    facts.push({ entity, attribute: pick(r, ATTRIBUTES), value: pick(r, VALUES) })
  }
  const gold = Math.floor(r() * 4)
  const asked = facts[gold]!
  const sources = facts.map((f, i) => ({ n: i + 1, path: factPath(f.entity), heading: [], text: factSentence(f) }))
  return {
    messages: buildMessages({ question: factQuestion(asked), sources, ...(opts.jsonSchema ? { jsonSchema: opts.jsonSchema } : {}) }),
    answer: asked.value,
    source: gold + 1,
  }
}

/** The plain style the pre-trained fixture answers in: "water [2]" (value first, then the citation). */
export function plainAnswer(e: RagTaskExample): string {
  return `${e.answer} [${e.source}]`
}

/** The JSON the pre-trained model knows, asked for by PRETRAIN_JSON_SCHEMA in the prompt. */
export function pretrainJsonAnswer(e: RagTaskExample): string {
  return JSON.stringify({ value: e.answer, citation: e.source })
}

/** The JSON style a LoRA adapter teaches. */
export function jsonAnswer(e: RagTaskExample): string {
  return JSON.stringify({ answer: e.answer, source: e.source })
}

/** True when `text` is one JSON object that satisfies ANSWER_SCHEMA. */
export function isSchemaCompliant(text: string): boolean {
  return checkStructured(text.trim(), ANSWER_SCHEMA).ok
}
