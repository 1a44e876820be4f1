import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { DemoSummary } from '../src/demo/run-demo.js'
import { pretrainedTinyLlama } from './fixtures/tiny-llama-rag.js'
import { ragtune } from './helpers/cli.js'

/**
 * `ragtune demo` end to end through the built CLI: the whole loop on the tiny models, offline. The
 * pre-trained tiny Llama is taken from the test cache (the demo would pre-train it otherwise, the
 * same code); everything else the demo does itself, with the real commands. The adapter must learn
 * the schema; whether the gate promotes it is the gate's call (the tiny model's grounding may
 * regress, which the gate rejects), so the test holds the demo to what the gate decided.
 */
describe('ragtune demo', () => {
  it('runs index → ask → labels → analyze → dataset → train → eval → promote and prints the before/after table', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ragtune-demo-'))
    const dir = join(root, 'demo')
    const pretrained = await pretrainedTinyLlama()
    await mkdir(join(dir, 'models'), { recursive: true })
    await cp(dirname(pretrained.q8_0), join(dir, 'models', 'tiny-llama-rag'), { recursive: true })

    const run = await ragtune(root, 'demo', '--dir', dir)
    if (run.code !== 0) console.error(run.stdout.slice(-4000), run.stderr.slice(-4000))
    expect(run.code).toBe(0)
    const out = run.stdout
    for (const step of ['$ ragtune index docs', '$ ragtune ask ', '$ ragtune labels import labels/corrections.jsonl --format guide', '$ ragtune feedback ',
      '$ ragtune analyze', '$ ragtune dataset build', '$ ragtune train --dataset dataset:', '$ ragtune eval run --adapter base', '$ ragtune eval compare base json-v1',
      '$ ragtune adapter promote json-v1']) {
      expect(out).toContain(step)
    }
    expect(out).toMatch(/\| schema \| \d+ \| 100\.0% \|/) // analyze: every logged answer breaks the schema
    expect(out).toMatch(/wall time: /)

    // The before/after table, as printed.
    const row = /^schema_valid \*\s+([\d.]+)\s+([\d.]+)\s+\S+ \[/m.exec(out)
    expect(row).not.toBeNull()
    expect(Number(row![1])).toBeLessThan(0.2)
    expect(Number(row![2])).toBeGreaterThan(0.9)

    const summary = JSON.parse(await readFile(join(dir, 'demo-summary.json'), 'utf8')) as DemoSummary
    expect(summary.gate).not.toBeNull()
    expect(summary).toMatchObject({ adapter: 'json-v1', promoted: summary.gate!.pass })
    expect(out).toContain(summary.gate!.pass ? 'json-v1 is now active' : 'the gate REJECTED json-v1')
    for (const reason of summary.gate!.reasons) expect(out).toContain(reason.split(' (')[0]!.slice(0, 40))
    const datasets = JSON.parse((await ragtune(dir, 'dataset', 'list', '--json')).stdout) as Array<{ id: string; counts: { train: number; eval: number } }>
    expect(datasets.map((d) => d.id)).toEqual([summary.datasetId])
    expect(datasets[0]!.counts.train).toBeGreaterThan(150)
    expect(datasets[0]!.counts.eval).toBeGreaterThan(20)
    const adapters = JSON.parse((await ragtune(dir, 'adapter', 'list', '--json')).stdout) as Array<{ name: string; status: string; datasetVersion: string | null }>
    expect(adapters.find((a) => a.name === 'json-v1')).toMatchObject({ status: summary.promoted ? 'active' : 'candidate', datasetVersion: summary.datasetId })

    // The demo clears only folders it made: a folder with someone's files is refused.
    const foreign = join(root, 'project')
    await mkdir(foreign)
    await writeFile(join(foreign, 'notes.md'), 'mine\n')
    const refused = await ragtune(root, 'demo', '--dir', foreign)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/holds other files/)
    // A folder named like the marker (the default --dir, made inside this one) is not the marker.
    await mkdir(join(root, 'nested', '.ragtune-demo'), { recursive: true })
    const nested = await ragtune(root, 'demo', '--dir', join(root, 'nested'))
    expect(nested.code).toBe(2)
    expect(nested.stderr).toMatch(/holds other files/)
  }, 1_200_000)
})
