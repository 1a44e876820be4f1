import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ragtune } from './helpers/cli.js'
import { makeCorpus, markdownDoc } from './helpers/corpus.js'


let cwd: string

beforeAll(async () => {
  cwd = await makeCorpus({
    'docs/a.md': markdownDoc('alpha', 2, 3) + '\n\nThe zebracorn threshold is 17.\n',
    'docs/b.txt': 'Bravo text about replicas and quotas.',
    'docs/broken.pdf': '%PDF-1.4 this is not really a pdf',
  }, 'ragtune-cli-')
})

afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

describe('ragtune CLI', () => {
  it('explains itself with --help', async () => {
    const top = await ragtune(cwd, '--help')
    expect(top.code).toBe(0)
    for (const cmd of ['init', 'index', 'search', 'status', 'eval', 'demo']) expect(top.stdout).toMatch(new RegExp(`\\n\\s+${cmd}\\b`))
    const idx = await ragtune(cwd, 'index', '--help')
    expect(idx.stdout).toContain('--dry-run')
    expect(idx.stdout).toMatch(/only added and changed files are embedded/)
  })

  it('init writes a config once, then refuses to overwrite it', async () => {
    const first = await ragtune(cwd, 'init', '--tiny', '--docs', 'docs')
    expect(first.code).toBe(0)
    const config = JSON.parse(await readFile(path.join(cwd, 'ragtune.config.json'), 'utf8'))
    expect(config.models).toMatchObject({ offline: true, embedder: { model: 'tiny' }, reranker: { model: 'tiny' } })
    expect(config.chunking).toEqual({ chunkTokens: 512, overlapTokens: 64 })
    const again = await ragtune(cwd, 'init')
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/CONFIG_EXISTS.*already exists[\s\S]*--force/)
  })

  it('index --dry-run plans, index indexes and reports the bad file, search finds, status summarises', async () => {
    const dry = await ragtune(cwd, 'index', '--dry-run', '--json')
    expect(dry.code).toBe(0)
    expect(JSON.parse(dry.stdout).plan.added).toEqual(['a.md', 'b.txt', 'broken.pdf'])

    const run = await ragtune(cwd, 'index')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/indexed 2 file\(s\)/)
    expect(run.stdout).toMatch(/broken\.pdf\s+\[LOAD_CORRUPT\]/)
    expect(run.stderr).toMatch(/indexing .* 3\/3 · \d+ chunks/)

    const search = await ragtune(cwd, 'search', 'zebracorn', 'threshold', '--json')
    expect(search.code).toBe(0)
    const res = JSON.parse(search.stdout)
    expect(res.mode).toBe('hybrid')
    expect(res.hits[0].documentPath).toBe('a.md')
    expect(res.hits[0].scores.rerank).toBeTypeOf('number')
    expect(res.hits[0].headingPath[0]).toBe('alpha')

    const text = await ragtune(cwd, 'search', 'zebracorn', '--mode', 'lexical', '--no-rerank', '-k', '1')
    expect(text.stdout).toMatch(/1 result\(s\) for "zebracorn" · mode lexical/)
    expect(text.stdout).toMatch(/\[1\] a\.md › alpha/)

    const status = await ragtune(cwd, 'status', '--json')
    const s = JSON.parse(status.stdout)
    expect(s.store).toMatchObject({ documents: 2, lexicalBackend: 'bm25', dimensions: 64 })
    expect(s.lastIndex.skipped.map((x: { path: string }) => x.path)).toEqual(['broken.pdf'])
  })

  it('ask answers with sources, logs the query, and feedback labels it', async () => {
    const config = JSON.parse(await readFile(path.join(cwd, 'ragtune.config.json'), 'utf8'))
    config.generator = { ...config.generator, model: 'tiny', maxTokens: 12 }
    await writeFile(path.join(cwd, 'ragtune.config.json'), JSON.stringify(config, null, 2))
    const asked = await ragtune(cwd, 'ask', 'What is the zebracorn threshold?', '--json')
    expect(asked.code).toBe(0)
    const r = JSON.parse(asked.stdout)
    expect(r.sources[0]).toMatchObject({ n: 1, path: 'a.md' })
    expect(r.model).toMatch(/^tiny-llama-q8_0\.gguf@[0-9a-f]{12}$/)
    expect(r.usage.completionTokens).toBeGreaterThan(0)

    const text = await ragtune(cwd, 'ask', 'zebracorn', '--mode', 'lexical', '--no-rerank')
    expect(text.stdout).toMatch(/Sources:\n.*\[1\] a\.md › alpha/)
    expect(text.stdout).toMatch(/query [0-9A-Z]{26}: rate it with `ragtune feedback/)

    const shown = JSON.parse((await ragtune(cwd, 'logs', 'show', r.queryId, '--json')).stdout)
    expect(shown).toMatchObject({ id: r.queryId, question: 'What is the zebracorn threshold?', answer: r.answer, model: r.model, error: null })
    const fb = await ragtune(cwd, 'feedback', r.queryId, '--bad', '--correction', 'The threshold is 17.', '--category', 'ungrounded')
    expect(fb.code).toBe(0)
    const labelled = JSON.parse((await ragtune(cwd, 'logs', 'show', r.queryId, '--json')).stdout)
    expect(JSON.stringify(labelled)).toContain('The threshold is 17.')
  })

  it('fails with a clear message and exit code on bad input', async () => {
    const mode = await ragtune(cwd, 'search', 'x', '--mode', 'fuzzy')
    expect(mode.code).toBe(2)
    expect(mode.stderr).toMatch(/--mode expects one of dense, lexical, hybrid, got "fuzzy"/)
    const empty = await ragtune(cwd, 'search', '   ', '--mode', 'lexical')
    expect(empty.code).toBe(1)
    expect(empty.stderr).toMatch(/QUERY_EMPTY/)
    await writeFile(path.join(cwd, 'bad.json'), JSON.stringify({ retrieval: { topk: 3 }, chunking: { chunkTokens: 'many' } }))
    const bad = await ragtune(cwd, '--config', 'bad.json', 'status')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/unknown key "retrieval.topk"/)
    expect(bad.stderr).toMatch(/"chunking.chunkTokens": expected number, got string "many"/)
  })

  it('eval retrieval reports recall, MRR and nDCG on a SQuAD file', async () => {
    const squad = {
      version: '1.1',
      data: [
        { title: 'Owls', paragraphs: [{ context: 'Owls hunt at night using silent flight feathers.', qas: [{ id: 'q1', question: 'How do owls hunt at night?', answers: [{ text: 'silent flight', answer_start: 24 }] }] }] },
        { title: 'Bees', paragraphs: [{ context: 'Bees make honey from flower nectar in hives.', qas: [{ id: 'q2', question: 'What do bees make honey from?', answers: [{ text: 'nectar', answer_start: 30 }] }] }] },
      ],
    }
    await writeFile(path.join(cwd, 'squad.json'), JSON.stringify(squad))
    const r = await ragtune(cwd, 'eval', 'retrieval', '--dataset', 'squad.json', '--format', 'squad', '--mode', 'lexical', '--json')
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.metrics).toMatchObject({ queries: 2, recall1: 1, mrr10: 1, ndcg10: 1 })
    expect(report.documents).toBe(2)
  })
})
