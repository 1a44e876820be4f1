import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/** A temp folder with the given files (relative path -> text or bytes). */
export async function makeCorpus(files: Record<string, string | Uint8Array>, prefix = 'ragtune-corpus-'): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), prefix))
  await writeFiles(root, files)
  return root
}

export async function writeFiles(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, rel)
    await mkdir(path.dirname(abs), { recursive: true })
    await writeFile(abs, content)
  }
}

/** Deterministic English-like markdown with headings, long enough for several chunks. */
export function markdownDoc(topic: string, sections: number, seed = 1): string {
  const words = ['storage', 'bucket', 'replica', 'quota', 'policy', 'network', 'latency', 'upgrade', 'cluster', 'node', 'disk', 'volume', 'snapshot', 'backup', 'metric', 'alert']
  let s = seed
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648)
  const out = [`# ${topic}`, '']
  for (let i = 0; i < sections; i++) {
    out.push(`## ${topic} part ${i + 1}`, '')
    for (let p = 0; p < 3; p++) {
      const sentence = Array.from({ length: 40 }, () => words[next() % words.length]).join(' ')
      out.push(`The ${topic} ${sentence}.`, '')
    }
  }
  return out.join('\n')
}
