import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { jsonAnswer, ragTaskExample } from '../src/models/tiny-llama/pretrained/rag-task.js'
import { tinyLlama } from './fixtures/tiny-llama.js'
import { ragtune } from './helpers/cli.js'

describe('ragtune train', () => {
  let dir: string
  let base: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ragtune-train-cli-'))
    base = (await tinyLlama()).q8_0
  })

  it('explains itself in --help', async () => {
    const r = await ragtune(dir, 'train', '--help')
    expect(r.code).toBe(0)
    for (const flag of ['--dataset', '--base', '--out', '--resume', '--backend', '--targets', '--max-length', 'answer tokens only']) expect(r.stdout).toContain(flag)
  })

  it('trains from the guide\'s instruction JSONL, reports over-long examples and writes every output', async () => {
    const dataset = join(dir, 'guide.jsonl')
    const lines = Array.from({ length: 8 }, (_, i) => {
      const e = ragTaskExample(6, i)
      return JSON.stringify({ instruction: e.messages[1]!.content, input: '', output: jsonAnswer(e) })
    })
    lines.push(JSON.stringify({ instruction: 'word '.repeat(3000), input: '', output: 'too long' }))
    await writeFile(dataset, `${lines.join('\n')}\n`)
    const out = join(dir, 'adapters', 'first')
    const r = await ragtune(dir, 'train', '--dataset', dataset, '--base', base, '--out', out, '--epochs', '1', '--batch-size', '2', '--grad-accum', '2', '--max-length', '1024', '--json')
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as { steps: number; dataset: { used: number; overLength: Array<{ line: number }> }; warnings: string[]; losses: number[] }
    expect(report.dataset.used).toBe(8)
    expect(report.dataset.overLength.map((o) => o.line)).toEqual([9])
    expect(report.warnings.join('\n')).toMatch(/line 9: \d+ tokens > maxLength 1024/)
    expect(report.steps).toBe(2)
    expect(report.losses.every((l) => Number.isFinite(l))).toBe(true)
    const config = JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8')) as { r: number; lora_alpha: number; target_modules: string[] }
    expect(config).toMatchObject({ r: 16, lora_alpha: 32 })
    expect(config.target_modules.sort()).toEqual(['k_proj', 'o_proj', 'q_proj', 'v_proj'])
    expect(await readFile(join(out, 'training-report.md'), 'utf8')).toContain('Left out as too long')
    expect((await readFile(join(out, 'adapter.gguf'))).subarray(0, 4).toString()).toBe('GGUF')
  }, 180_000)

  it('rejects a malformed dataset with its line number, and a missing --hf-model for the python backend', async () => {
    const bad = join(dir, 'bad.jsonl')
    await writeFile(bad, `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }] })}\n{"messages": [{"role": "user"}]}\n`)
    const r = await ragtune(dir, 'train', '--dataset', bad, '--base', base, '--out', join(dir, 'x'))
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('bad.jsonl:2')
    expect(r.stderr).toMatch(/messages\[0\]/)
    const py = await ragtune(dir, 'train', '--dataset', bad, '--base', base, '--out', join(dir, 'y'), '--backend', 'python')
    expect(py.code).not.toBe(0)
    expect(py.stderr).toContain('--hf-model')
  }, 60_000)
})
