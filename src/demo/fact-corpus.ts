import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { seededRandom } from '../models/seeded-random.js'
import { ADJECTIVES, ATTRIBUTES, factPath, factQuestion, factSentence, NOUNS, VALUES } from '../models/tiny-llama/pretrained/rag-task.js'

/**
 * The demo's corpus: one-sentence fact documents ("The color of the red house is water.") in the
 * exact layout the project's tiny Llama was pre-trained on (`facts/<entity>.md`, no heading), and
 * the team's corrections of those questions as JSON answers. Written by ragtune itself, seeded, so
 * every run of the demo sees the same documents and labels.
 */

export interface Fact {
  entity: string
  attribute: string
  value: string
}

/** `count` facts about distinct entities (at most 256: 16 adjectives × 16 nouns), the same on every machine. */
export function demoFacts(count: number, seed = 7): Fact[] {
  const r = seededRandom(seed)
  const entities = ADJECTIVES.flatMap((a) => NOUNS.map((n) => `${a} ${n}`))
  for (let i = entities.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    ;[entities[i], entities[j]] = [entities[j]!, entities[i]!]
  }
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!
  return entities.slice(0, Math.min(count, entities.length)).map((entity) => ({ entity, attribute: pick(ATTRIBUTES), value: pick(VALUES) }))
}

/** The answer the team wants: JSON `{"answer", "source"}` (ANSWER_SCHEMA); source 1 is the label's own passage. */
export function jsonCorrection(f: Fact, source = 1): string {
  return JSON.stringify({ answer: f.value, source })
}

export interface WrittenCorpus {
  docsDir: string
  labelsFile: string
  facts: Fact[]
}

/**
 * Writes `docs/facts/*.md` and `labels/corrections.jsonl` under `dir`. The labels are the guide's
 * JSONL (`instruction` = question, `input` = the gold passage, `output` = the JSON answer) with the
 * gold document in `metadata.goldDocuments`, as a team exporting its reviewed answers would write them.
 */
export async function writeFactCorpus(dir: string, facts: Fact[]): Promise<WrittenCorpus> {
  const docsDir = path.join(dir, 'docs')
  await mkdir(path.join(docsDir, 'facts'), { recursive: true })
  for (const f of facts) await writeFile(path.join(docsDir, factPath(f.entity)), `${factSentence(f)}\n`)
  const labelsFile = path.join(dir, 'labels', 'corrections.jsonl')
  await mkdir(path.dirname(labelsFile), { recursive: true })
  const lines = facts.map((f) => JSON.stringify({
    instruction: factQuestion(f),
    input: factSentence(f),
    output: jsonCorrection(f),
    metadata: { goldDocuments: [factPath(f.entity)], category: 'schema' },
  }))
  await writeFile(labelsFile, `${lines.join('\n')}\n`)
  return { docsDir, labelsFile, facts }
}
