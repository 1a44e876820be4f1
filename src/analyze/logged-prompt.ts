import type { ChatMessage } from '../spec/generator.js'

/**
 * Reads back what buildMessages() (src/answer/prompt.ts) wrote: the numbered sources, the question,
 * the instruction and the JSON Schema. The query log keeps chunk ids but not chunk texts; the
 * logged prompt holds the texts exactly as the model saw them, which is what grounding must be
 * judged against (the index may have changed since).
 */

export interface ParsedSource {
  n: number
  path: string
  heading: string[]
  text: string
}

export interface ParsedPrompt {
  /** null when the user turn holds no sources block (another template). */
  sources: ParsedSource[] | null
  question: string | null
  instruction: string | null
  jsonSchema: Record<string, unknown> | null
}

/** Must match buildMessages' schema suffix. */
const SCHEMA_MARKER = '\n\nReply with JSON only, matching this JSON Schema:\n'
const SOURCE_RE = /<source n="(\d+)" path="([^"]*)"(?: heading="([^"]*)")?>\n([\s\S]*?)\n<\/source>/g

export function parseLoggedPrompt(messages: ChatMessage[]): ParsedPrompt {
  const system = messages.find((m) => m.role === 'system')?.content ?? null
  const user = [...messages].reverse().find((m) => m.role === 'user')?.content ?? null
  let instruction = system
  let jsonSchema: Record<string, unknown> | null = null
  if (system !== null) {
    const at = system.lastIndexOf(SCHEMA_MARKER)
    if (at >= 0) {
      try {
        jsonSchema = JSON.parse(system.slice(at + SCHEMA_MARKER.length)) as Record<string, unknown>
        instruction = system.slice(0, at)
      } catch {
        jsonSchema = null
      }
    }
  }
  return { ...parseUserTurn(user), instruction, jsonSchema }
}

/** Sources and question of a user turn rendered as `<sources>…</sources>\n\nQuestion: …`. */
export function parseUserTurn(user: string | null): Pick<ParsedPrompt, 'sources' | 'question'> {
  if (user === null) return { sources: null, question: null }
  const end = user.lastIndexOf('</sources>\n\nQuestion: ')
  if (!user.startsWith('<sources>\n') || end < 0) return { sources: null, question: null }
  const block = user.slice(0, end)
  const question = user.slice(end + '</sources>\n\nQuestion: '.length)
  const sources: ParsedSource[] = []
  for (const m of block.matchAll(SOURCE_RE)) {
    sources.push({
      n: Number(m[1]),
      path: unescapeAttribute(m[2]!),
      heading: m[3] === undefined ? [] : unescapeAttribute(m[3]).split(' > '),
      text: unescapeSourceText(m[4]!),
    })
  }
  return { sources, question }
}

function unescapeAttribute(v: string): string {
  return v.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&amp;/g, '&')
}

/** Undoes escapeSourceText: `&lt;` in front of a sources tag was a `<`. */
function unescapeSourceText(text: string): string {
  return text.replace(/&lt;([\s\u200b-\u200f\u2060\ufeff]*\/?[\s\u200b-\u200f\u2060\ufeff]*sources?\b)/gi, '<$1')
}
